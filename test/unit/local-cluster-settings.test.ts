import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { format, inspect } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { redactedSettings } from '../../tools/local/cluster-settings.js';
import { LocalCluster, readLocalClusterSettings } from '../../tools/local/local-cluster.js';

const TOKEN = 'f3a1c0ffee5eed0123456789abcdef01';
const PLAIN = { endpoint: '127.0.0.1:7000', caFile: '/c/tls/ca.crt', token: TOKEN };

/** Every way a value commonly ends up in a log line. */
function printed(value: unknown): string[] {
  return [
    JSON.stringify(value),
    JSON.stringify({ nested: value }),
    inspect(value),
    inspect({ nested: { deeper: value } }, { depth: Infinity }),
    inspect(value, { showHidden: true, getters: true }),
    format('%o %O %j %s', value, value, value, value),
    `${String(value)}`,
  ];
}

describe('redactedSettings', () => {
  const settings = redactedSettings(PLAIN);

  it('still gives the real token, endpoint and CA file to whoever reads them', () => {
    expect(settings.token).toBe(TOKEN);
    expect(settings.endpoint).toBe(PLAIN.endpoint);
    expect(settings.caFile).toBe(PLAIN.caFile);
  });

  it('never prints the token, whichever way it is printed', () => {
    for (const text of printed(settings)) expect(text).not.toContain(TOKEN);
    expect(JSON.stringify(settings)).toBe(
      '{"endpoint":"127.0.0.1:7000","caFile":"/c/tls/ca.crt","token":"[redacted]"}',
    );
    expect(inspect(settings)).toContain('[redacted]');
  });

  it('compares by value, token included', () => {
    expect(settings).toEqual(redactedSettings({ ...PLAIN }));
    expect(settings).not.toEqual(redactedSettings({ ...PLAIN, token: 'another' }));
  });
});

describe('readLocalClusterSettings', () => {
  const dir = mkdtempSync(join(tmpdir(), 'slotwatch-settings-test-'));

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads the real token from cluster.json, and prints it redacted', () => {
    // Prepare
    const state = { version: 1, binary: '/usr/bin/redis-server', settings: PLAIN, nodes: [] };
    writeFileSync(join(dir, 'cluster.json'), JSON.stringify(state));

    // Act
    const settings = readLocalClusterSettings(dir);

    // Assess
    expect(settings.token).toBe(TOKEN);
    for (const text of printed(settings)) expect(text).not.toContain(TOKEN);
  });
});

describe('LocalCluster', () => {
  it('prints its directory, settings and nodes, never the token', () => {
    // Prepare: no servers are needed to print one, only what its private constructor would set.
    const fields = {
      dir: '/c',
      settings: redactedSettings(PLAIN),
      managed: [{ port: 7000, busPort: 17000, dir: '/c/node-7000', process: { pid: 42 } }],
    };
    const cluster = Object.setPrototypeOf(fields, LocalCluster.prototype) as LocalCluster;

    // Act
    const texts = printed(cluster);

    // Assess
    for (const text of texts) expect(text).not.toContain(TOKEN);
    expect(JSON.parse(JSON.stringify(cluster))).toEqual({
      dir: '/c',
      settings: { ...PLAIN, token: '[redacted]' },
      nodes: [{ port: 7000, busPort: 17000, dir: '/c/node-7000', pid: 42 }],
    });
    expect(inspect(cluster)).toContain('[redacted]');
    expect(cluster.env()['CLUSTER_AUTH_TOKEN']).toBe(TOKEN);
  });
});
