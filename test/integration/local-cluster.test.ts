/**
 * The local TLS + AUTH cluster that the other integration tests, the demo and the benchmark stand
 * on: real redis-server processes, no mocks.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Redis, type RedisOptions } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  findServerBinary,
  readLocalClusterSettings,
  startLocalCluster,
  stopLocalClusterAt,
  type LocalCluster,
} from '../../tools/local/local-cluster.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSX = join(ROOT, 'node_modules/.bin/tsx');

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

/** The state letter from /proc/<pid>/stat: R, S, T (stopped), Z, … */
function processState(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
}

/**
 * PING with a client that neither retries nor queues. A refusal rejects with the first error the
 * connection reported (a TLS failure, say), which says more than the "Connection is closed." after it.
 */
async function tryPing(options: RedisOptions): Promise<unknown> {
  const client = new Redis({
    host: '127.0.0.1',
    lazyConnect: true,
    enableReadyCheck: false,
    enableOfflineQueue: false,
    connectTimeout: 2000,
    commandTimeout: 2000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    ...options,
  });
  const errors: Error[] = [];
  client.on('error', (error: Error) => errors.push(error));
  try {
    await client.connect();
    return await client.ping();
  } catch (error) {
    throw errors[0] ?? error;
  } finally {
    client.disconnect();
  }
}

/** CLUSTER SHARDS as [{ primaries, replicas }], from its flat key/value arrays. */
function shardShapes(reply: unknown): { primaries: number; replicas: number }[] {
  const field = (pairs: unknown, name: string): unknown => {
    const list = pairs as unknown[];
    return list[list.indexOf(name) + 1];
  };
  return (reply as unknown[]).map((shard) => {
    const roles = (field(shard, 'nodes') as unknown[]).map((node) => field(node, 'role'));
    return {
      primaries: roles.filter((role) => role === 'master').length,
      replicas: roles.filter((role) => role === 'replica').length,
    };
  });
}

interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function runClusterCli(args: readonly string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      TSX,
      ['tools/cli/cluster.ts', ...args],
      { cwd: ROOT, timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('a local 2-shard x 1-replica cluster', () => {
  let cluster: LocalCluster;

  beforeAll(async () => {
    cluster = await startLocalCluster({ shards: 2, replicas: 1 });
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it('answers on every node over TLS, verified against the generated CA, with the token', async () => {
    const ca = readFileSync(cluster.settings.caFile, 'utf8');
    for (const { port } of cluster.nodes) {
      await expect(
        tryPing({ port, tls: { ca, servername: 'localhost' }, password: cluster.settings.token }),
      ).resolves.toBe('PONG');
    }
  });

  it('refuses a client without the token, without TLS, or that does not trust the CA', async () => {
    const ca = readFileSync(cluster.settings.caFile, 'utf8');
    const { token } = cluster.settings;
    for (const { port } of cluster.nodes) {
      await expect(tryPing({ port, tls: { ca, servername: 'localhost' } })).rejects.toThrow(
        /NOAUTH/,
      );
      await expect(tryPing({ port, password: token })).rejects.toThrow();
      await expect(
        tryPing({ port, tls: { servername: 'localhost' }, password: token }),
      ).rejects.toThrow(/self[- ]signed|unable to verify/i);
    }
  });

  it('keeps the token off command lines and in files only the owner can read', () => {
    for (const { pid, dir } of cluster.nodes) {
      expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).not.toContain(cluster.settings.token);
      expect(statSync(join(dir, 'redis.conf')).mode & 0o777).toBe(0o600);
    }
  });

  it('is one cluster: every node says ok, and CLUSTER SHARDS shows 2 primaries with a replica each', async () => {
    expect(cluster.nodes).toHaveLength(4);
    expect(cluster.settings.endpoint).toBe(`127.0.0.1:${cluster.nodes[0]?.port}`);
    for (const { port } of cluster.nodes) {
      const admin = await cluster.connectAdmin(port);
      try {
        const info = String(await admin.call('CLUSTER', 'INFO'));
        expect(info).toMatch(/^cluster_state:ok\r?$/m);
        expect(info).toMatch(/^cluster_known_nodes:4\r?$/m);
        expect(shardShapes(await admin.call('CLUSTER', 'SHARDS'))).toEqual([
          { primaries: 1, replicas: 1 },
          { primaries: 1, replicas: 1 },
        ]);
      } finally {
        admin.disconnect();
      }
    }
  });

  it('pauses a node (its replies wait) and resumes it', async () => {
    const { port, pid } = cluster.nodes[2] ?? { port: 0, pid: 0 };
    const admin = await cluster.connectAdmin(port);
    try {
      cluster.pause(port);
      const pong = admin.ping();
      expect(await Promise.race([pong, sleep(300, 'still waiting')])).toBe('still waiting');
      expect(processState(pid)).toBe('T');
      cluster.resume(port);
      await expect(pong).resolves.toBe('PONG');
    } finally {
      cluster.resume(port);
      admin.disconnect();
    }
    await cluster.waitHealthy();
  });

  it('kills a primary and restarts it as the same node, serving its slots again', async () => {
    const { port, pid } = cluster.nodes[0] ?? { port: 0, pid: 0 };
    const before = await cluster.connectAdmin(port);
    const id = String(await before.call('CLUSTER', 'MYID'));
    before.disconnect();

    cluster.kill(port);
    await expect.poll(() => isRunning(pid)).toBe(false);
    await expect(cluster.waitHealthy(300)).rejects.toThrow(/down node/);
    await cluster.restart(port);

    expect(cluster.nodes[0]?.pid).not.toBe(pid);
    const after = await cluster.connectAdmin(port);
    try {
      expect(String(await after.call('CLUSTER', 'MYID'))).toBe(id);
      expect(await after.info('replication')).toMatch(/^role:master\r?$/m);
    } finally {
      after.disconnect();
    }
  });

  it('stop() leaves no server running and removes its directory, and can be called again', async () => {
    const pids = cluster.nodes.map((node) => node.pid);
    // A stopped process would not act on SIGTERM: stop() must continue it first.
    cluster.pause(cluster.nodes[1]?.port ?? 0);
    const started = performance.now();
    await cluster.stop();
    expect(performance.now() - started).toBeLessThan(4000);
    expect(pids.filter(isRunning)).toEqual([]);
    expect(existsSync(cluster.dir)).toBe(false);
    await expect(cluster.stop()).resolves.toBeUndefined();
  });
});

describe('a detached local cluster', () => {
  const parent = mkdtempSync(join(tmpdir(), 'slotwatch-test-'));

  afterAll(async () => {
    for (const name of ['detached', 'cli']) await stopLocalClusterAt(join(parent, name));
    rmSync(parent, { recursive: true, force: true });
  });

  it('writes its settings to a state file, and stopLocalClusterAt stops exactly its servers', async () => {
    const dir = join(parent, 'detached');
    const cluster = await startLocalCluster({ shards: 1, replicas: 1, dir, detached: true });
    const pids = cluster.nodes.map((node) => node.pid);
    expect(pids.every(isRunning)).toBe(true);

    expect(readLocalClusterSettings(dir)).toEqual(cluster.settings);
    const envFile = join(dir, 'cluster.env');
    const envLines = Object.entries(cluster.env()).map(([name, value]) => `${name}=${value}`);
    expect(readFileSync(envFile, 'utf8')).toBe(`${envLines.join('\n')}\n`);
    for (const file of [envFile, join(dir, 'cluster.json')]) {
      expect(statSync(file).mode & 0o777).toBe(0o600);
    }

    await expect(stopLocalClusterAt(dir)).resolves.toEqual({ stopped: 2 });
    expect(pids.filter(isRunning)).toEqual([]);
    expect(existsSync(dir)).toBe(false);
    expect(() => readLocalClusterSettings(dir)).toThrow(dir);
  });

  it('is what `cluster:up` starts and `cluster:down` stops', async () => {
    const dir = join(parent, 'cli');
    const up = await runClusterCli(['up', '--shards', '1', '--replicas', '0', '--dir', dir]);
    expect(up).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('cluster.env') as unknown,
    });
    const settings = readLocalClusterSettings(dir);
    expect(up.stdout + up.stderr).not.toContain(settings.token);
    const [, port] = settings.endpoint.split(':');
    const ca = readFileSync(settings.caFile, 'utf8');
    const tls = { ca, servername: 'localhost' };
    await expect(tryPing({ port: Number(port), tls, password: settings.token })).resolves.toBe(
      'PONG',
    );
    const pids = (
      JSON.parse(readFileSync(join(dir, 'cluster.json'), 'utf8')) as { nodes: { pid: number }[] }
    ).nodes.map((node) => node.pid);

    const again = await runClusterCli(['up', '--dir', dir]);
    expect(again.code).toBe(2);
    expect(again.stderr.trim()).toMatch(/^a local cluster is already running in .*cluster:down/);
    expect(again.stderr.trim().split('\n')).toHaveLength(1);

    const down = await runClusterCli(['down', '--dir', dir]);
    expect(down).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^stopped 1 server and removed /) as unknown,
    });
    // These servers outlived `up`, so init reaps them, not this process: give it a moment.
    await expect.poll(() => pids.filter(isRunning), { timeout: 5000 }).toEqual([]);
    expect(existsSync(dir)).toBe(false);

    const downAgain = await runClusterCli(['down', '--dir', dir]);
    expect(downAgain).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^no local cluster running/) as unknown,
    });
  });

  it('rejects a bad flag with one line naming it', async () => {
    const run = await runClusterCli(['up', '--shards', 'three', '--dir', join(parent, 'unused')]);
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe('--shards must be an integer from 1 to 16, got "three"');
    expect(existsSync(join(parent, 'unused'))).toBe(false);
  });
});

describe('findServerBinary', () => {
  it('finds redis-server on PATH, and says in one line how to install it when it is missing', () => {
    expect(findServerBinary()).toMatch(/\/(redis|valkey)-server$/);
    const path = process.env['PATH'];
    process.env['PATH'] = '/nonexistent';
    try {
      expect(() => findServerBinary()).toThrow(
        'redis-server not found on PATH: install it with `sudo apt-get install -y redis-server` (or valkey-server)',
      );
    } finally {
      process.env['PATH'] = path;
    }
  });
});
