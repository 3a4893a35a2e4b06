import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { TlsFiles } from '../../tools/local/certs.js';
import { planNodes, validateOptions } from '../../tools/local/cluster-plan.js';
import { nodeConfigText, serverArgs, writeNodeConfig } from '../../tools/local/server-config.js';

const TOKEN = 'f3a1c0ffee5eed0123456789abcdef01';
const TLS: TlsFiles = {
  caCertFile: '/c/tls/ca.crt',
  caKeyFile: '/c/tls/ca.key',
  certFile: '/c/tls/server.crt',
  keyFile: '/c/tls/server.key',
};
const NODE = {
  port: 7000,
  busPort: 17000,
  dir: '/c/node-7000',
  logFile: '/c/node-7000/server.log',
};

describe('nodeConfigText', () => {
  const lines = nodeConfigText(NODE, TLS, TOKEN, 2000).split('\n');

  it.each([
    // Loopback only, TLS only: the plaintext port is off.
    'bind 127.0.0.1',
    'port 0',
    'tls-port 7000',
    'cluster-port 17000',
    'tls-cert-file "/c/tls/server.crt"',
    'tls-key-file "/c/tls/server.key"',
    'tls-ca-cert-file "/c/tls/ca.crt"',
    'tls-auth-clients no',
    'tls-cluster yes',
    'tls-replication yes',
    'cluster-enabled yes',
    'cluster-config-file nodes.conf',
    'cluster-node-timeout 2000',
    `requirepass ${TOKEN}`,
    `masterauth ${TOKEN}`,
    'save ""',
    'appendonly no',
    'dir "/c/node-7000"',
    'logfile "/c/node-7000/server.log"',
    'daemonize no',
    'set-proc-title no',
    'repl-diskless-sync-delay 0',
    'shutdown-timeout 0',
  ])('has `%s`', (directive) => {
    expect(lines).toContain(directive);
  });

  it('sets each directive once, and ends with a newline', () => {
    const text = nodeConfigText(NODE, TLS, TOKEN, 2000);
    const names = lines.filter((line) => line !== '' && !line.startsWith('#'));
    expect(new Set(names.map((line) => line.split(' ')[0])).size).toBe(names.length);
    expect(text.endsWith('\n')).toBe(true);
  });

  it('quotes paths, escaping quotes and backslashes', () => {
    // Prepare
    const dir = '/tmp/a "b" \\c';

    // Act
    const text = nodeConfigText({ ...NODE, dir, logFile: `${dir}/server.log` }, TLS, TOKEN, 2000);

    // Assess
    expect(text.split('\n')).toContain('dir "/tmp/a \\"b\\" \\\\c"');
    expect(text.split('\n')).toContain('logfile "/tmp/a \\"b\\" \\\\c/server.log"');
  });
});

describe('serverArgs', () => {
  it('puts no token on the command line of any node: only its config file', () => {
    // Prepare: a 3 x 1 cluster, ports 7000..7015.
    const ports = Array.from({ length: 16 }, (_, index) => 7000 + index);
    const nodes = planNodes('/c', validateOptions({ shards: 3, replicas: 1 }), ports);

    // Act
    const commandLines = nodes.map((node) => serverArgs(node));

    // Assess
    expect(commandLines).toHaveLength(6);
    for (const [index, args] of commandLines.entries()) {
      expect(args).toEqual([`/c/node-${7000 + 2 * index}/redis.conf`]);
      expect(args.join(' ')).not.toContain(TOKEN);
    }
  });
});

describe('writeNodeConfig', () => {
  const root = mkdtempSync(join(tmpdir(), 'slotwatch-config-test-'));

  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('writes the config readable by its owner only, with nothing partial left behind', async () => {
    // Prepare
    const dir = join(root, 'node-7000');
    const node = {
      ...NODE,
      dir,
      logFile: join(dir, 'server.log'),
      configFile: join(dir, 'redis.conf'),
    };

    // Act
    await writeNodeConfig(node, TLS, TOKEN, 2000);

    // Assess
    expect(readFileSync(node.configFile, 'utf8')).toBe(nodeConfigText(node, TLS, TOKEN, 2000));
    expect(statSync(node.configFile).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(readdirSync(dir)).toEqual(['redis.conf']);
  });
});
