/**
 * The probe against a real local cluster (3 shards x 1 replica, TLS + AUTH), healthy throughout:
 * what a sweep reports, warm reuse after server-side kills, data safety, and the CLI's contract.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { CANARY_PREFIX, canaryKey } from '../../lambda/cluster/canary-keys.js';
import { Secret } from '../../lambda/secret.js';
import { keySlot } from '../../lambda/cluster/slots.js';
import type { LocalCluster } from '../../tools/local/local-cluster.js';
import { ClusterProber } from '../../lambda/sweep.js';
import {
  TEST_TIMEOUTS,
  adminOn,
  jsonReports,
  portOf,
  proberFor,
  runCli,
  useTestCluster,
  type CliRun,
  waitFor,
} from '../support/cluster.js';

let cluster: LocalCluster;
let prober: ClusterProber;
/** Every CLI run of this file, to prove afterwards that the token never appeared. */
const runs: CliRun[] = [];

const cli = async (args: readonly string[], env: Record<string, string>): Promise<CliRun> => {
  const run = await runCli('probe', args, env);
  runs.push(run);
  return run;
};

const handle = useTestCluster();
beforeAll(() => {
  ({ cluster, prober } = handle);
});

describe('a healthy sweep', () => {
  it('reports every primary and replica with its role, shard and probes', async () => {
    // Act
    const report = await prober.sweep();

    // Assess
    expect(report.ok).toBe(true);
    expect(report.cluster).toBe(`127.0.0.1-${portOf(cluster.settings.endpoint)}`);
    expect(report.nodes).toHaveLength(6);
    expect(new Set(report.nodes.map((n) => portOf(n.address)))).toEqual(
      new Set(cluster.nodes.map((n) => n.port)),
    );
    const primaries = report.nodes.filter((n) => n.role === 'primary');
    const replicas = report.nodes.filter((n) => n.role === 'replica');
    expect(primaries).toHaveLength(3);
    expect(replicas).toHaveLength(3);
    expect(new Set(replicas.map((r) => r.shard))).toEqual(new Set(primaries.map((p) => p.shard)));
    for (const node of report.nodes) {
      expect(node.id).toMatch(/^[0-9a-f]{40}$/);
      expect(node.ok).toBe(true);
      const expected =
        node.role === 'primary'
          ? ['ping', 'read', 'pipeline', 'write']
          : ['ping', 'read', 'pipeline', 'replication'];
      expect(Object.keys(node.probes)).toEqual(expected);
      for (const probe of Object.values(node.probes)) {
        expect(probe.ok).toBe(true);
        expect(probe.latencyMs).toBeGreaterThanOrEqual(0);
        expect(probe.latencyMs).toBeLessThan(500);
      }
      expect(node.clusterState).toBe('ok');
      expect(node.slotMapAgrees).toBe(true);
    }
    expect(report.checks.crossSlot).toMatchObject({ ok: true, shards: 3, keys: 6 });
    expect(report.checks.slots).toEqual({ ok: true, covered: 16384 });
    expect(report.checks.clusterState).toEqual({ ok: true, failing: [] });
    expect(report.checks.slotMap).toEqual({ ok: true, disagreeing: [] });
    expect(report.topology.source).toBe('CLUSTER SHARDS');
  });

  it('touches only its own keys, each with a TTL, and leaves user data alone', async () => {
    // Prepare: user data in every shard, one key without TTL, one with.
    const userKeys = ['user:1', 'orders:{42}', 'session:abc', 'cart:x'];
    const slotsOf = new Map(userKeys.map((key) => [key, keySlot(key)]));
    const report = await prober.sweep();
    const primaries = report.nodes.filter((n) => n.role === 'primary');
    for (const key of userKeys) {
      const owner = primaries.find((p) =>
        p.shard.split(',').some((range) => {
          const [start, end] = range.split('-').map(Number);
          const slot = slotsOf.get(key) ?? -1;
          return slot >= (start ?? 0) && slot <= (end ?? start ?? 0);
        }),
      );
      expect(owner).toBeDefined();
      await adminOn(cluster, portOf(owner?.address ?? ''), async (admin) => {
        await admin.set(key, `value-of-${key}`);
      });
    }

    // Act
    for (let i = 0; i < 3; i++) expect((await prober.sweep()).ok).toBe(true);

    // Assess
    for (const node of primaries) {
      await adminOn(cluster, portOf(node.address), async (admin) => {
        const keys = (await admin.call('KEYS', '*')) as string[];
        for (const key of keys) {
          if (slotsOf.has(key)) {
            expect(await admin.get(key)).toBe(`value-of-${key}`);
            expect(await admin.pttl(key)).toBe(-1);
          } else {
            expect(key.startsWith(CANARY_PREFIX)).toBe(true);
            const ttl = await admin.pttl(key);
            expect(ttl).toBeGreaterThan(0);
            expect(ttl).toBeLessThanOrEqual(60_000);
            expect(((await admin.get(key)) ?? '').length).toBeLessThan(64);
          }
        }
      });
    }
  });
});

describe('warm connections', () => {
  it('replaces connections the servers closed between sweeps, with no false failure', async () => {
    // Prepare: a warm prober, then every probe connection killed from the server side.
    const warm = proberFor(cluster);
    try {
      expect((await warm.sweep()).ok).toBe(true);
      let killed = 0;
      for (const node of cluster.nodes) {
        await adminOn(cluster, node.port, async (admin) => {
          const list = String(await admin.call('CLIENT', 'LIST'));
          for (const id of [...list.matchAll(/id=(\d+) [^\n]* name=slotwatch /g)].map(
            (m) => m[1] ?? '',
          )) {
            await admin.call('CLIENT', 'KILL', 'ID', id);
            killed++;
          }
        });
      }
      expect(killed).toBeGreaterThanOrEqual(6);

      // Act
      const report = await warm.sweep();

      // Assess
      expect(report.ok).toBe(true);
      expect(report.reconnects).toBeGreaterThanOrEqual(6);
      expect(report.nodes.every((n) => n.reconnects >= 1)).toBe(true);

      // And the next sweep reuses the new connections.
      const next = await warm.sweep();
      expect(next.ok).toBe(true);
      expect(next.reconnects).toBe(0);
      expect(next.nodes.every((n) => n.connectMs === 0)).toBe(true);
    } finally {
      warm.close();
    }
  });
  it("survives the servers' idle timeout closing its connections between sweeps", async () => {
    // Prepare: every node closes connections idle for more than a second.
    const warm = proberFor(cluster);
    const setTimeoutAll = async (seconds: string) => {
      for (const node of cluster.nodes) {
        await adminOn(cluster, node.port, async (admin) => {
          await admin.call('CONFIG', 'SET', 'timeout', seconds);
        });
      }
    };
    try {
      expect((await warm.sweep()).ok).toBe(true);
      await setTimeoutAll('1');
      await new Promise((resolve) => setTimeout(resolve, 3000));

      // Act
      const report = await warm.sweep();

      // Assess
      expect(report.ok).toBe(true);
      expect(report.reconnects).toBeGreaterThanOrEqual(6);
    } finally {
      await setTimeoutAll('0');
      warm.close();
    }
  });
});

describe('the probe CLI', () => {
  const env = (): Record<string, string> => ({ ...cluster.env(), ...TEST_TIMEOUTS });

  it('prints one JSON report per round and nothing else, exit 0 when healthy', async () => {
    const run = await cli(['--json', '--rounds', '3', '--interval-ms', '200'], env());
    expect(run.code).toBe(0);
    const reports = jsonReports(run.stdout);
    expect(reports).toHaveLength(3);
    expect(reports.every((r) => r.ok && r.nodes.length === 6)).toBe(true);
    // Rounds reuse connections: only the first one dials.
    expect(reports[1]?.nodes.every((n) => n.connectMs === 0)).toBe(true);
    const starts = reports.map((r) => Date.parse(r.startedAt));
    expect((starts[2] ?? 0) - (starts[1] ?? 0)).toBeGreaterThanOrEqual(190);
  });

  it('prints a readable table without --json', async () => {
    const run = await cli([], env());
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /^NODE\s+ROLE\s+SHARD\s+OK\s+PING\s+READ\s+PIPELINE\s+WRITE\s+REPL$/m,
    );
    expect(run.stdout.match(/^127\.0\.0\.1:\d+\s+(primary|replica)\s/gm)).toHaveLength(6);
    expect(run.stdout).toMatch(/^OK +127\.0\.0\.1-\d+: 6\/6 nodes healthy/m);
  });

  it('reports a wrong token as an auth failure on every node, exit 1', async () => {
    const run = await cli(['--json'], { ...env(), CLUSTER_AUTH_TOKEN: 'not-the-token' });
    expect(run.code).toBe(1);
    const [report] = jsonReports(run.stdout);
    expect(report?.ok).toBe(false);
    expect(report?.error).toMatch(/^topology: auth: WRONGPASS/);
  });

  it('reports an untrusted certificate as a TLS failure, exit 1', async () => {
    const withoutCa = env();
    delete withoutCa.CLUSTER_TLS_CA_FILE;
    const run = await cli(['--json'], withoutCa);
    expect(run.code).toBe(1);
    const [report] = jsonReports(run.stdout);
    expect(report?.ok).toBe(false);
    expect(report?.error).toMatch(/^topology: tls: /);
  });

  it('reports a dead endpoint as refused within the timeout, exit 1', async () => {
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    const run = await cli(['--json'], { ...env(), CLUSTER_ENDPOINT: `127.0.0.1:${port}` });
    expect(run.code).toBe(1);
    const [report] = jsonReports(run.stdout);
    expect(report?.ok).toBe(false);
    expect(report?.error).toBe('topology: refused: nothing listens on that port');
    expect(report?.durationMs).toBeLessThan(1000);
  });

  it.each([
    [{ PROBE_TIMEOUT_MS: 'soon' }, [], 'PROBE_TIMEOUT_MS'],
    [{ CLUSTER_ENDPOINT: 'no-port' }, [], 'CLUSTER_ENDPOINT'],
    [{ CLUSTER_ENDPOINT: '' }, [], 'CLUSTER_ENDPOINT'],
    [{ METRICS_SINK: 'statsd' }, [], 'METRICS_SINK'],
    [{ CLUSTER_TLS_CA_FILE: '/nonexistent/ca.pem' }, [], 'CLUSTER_TLS_CA_FILE'],
    [{}, ['--rounds', 'many'], '--rounds'],
    [{}, ['--timeout-ms', '-1'], '--timeout-ms'],
    [{}, ['--bogus'], '--bogus'],
  ])('exits 2 on a configuration error (%o %o), one line naming %s', async (vars, args, name) => {
    const run = await cli(['--json', ...args], { ...env(), ...vars });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain(name);
  });

  it('never prints the token', () => {
    expect(runs.length).toBeGreaterThan(8);
    for (const run of runs) {
      expect(run.stdout).not.toContain(cluster.settings.token);
      expect(run.stderr).not.toContain(cluster.settings.token);
    }
  });
});

describe('slots on the move', () => {
  it('follows MOVED to the new owner and remembers it', async () => {
    // Prepare: a route that sends slot 0 to the wrong primary.
    const { ConnectionPool } = await import('../../lambda/cluster/pool.js');
    const { sendToSlot } = await import('../../lambda/cluster/routing.js');
    const report = await prober.sweep();
    const owner = report.nodes.find(
      (n) => n.role === 'primary' && n.shard.split(/[-,]/)[0] === '0',
    );
    const other = report.nodes.find((n) => n.role === 'primary' && n !== owner);
    const pool = new ConnectionPool({
      tls: true,
      caPem: readFileSync(cluster.settings.caFile, 'utf8'),
      token: new Secret(cluster.settings.token),
      timeoutMs: 1000,
    });
    const route = {
      owners: new Map([[0, { host: '127.0.0.1', port: portOf(other?.address ?? '') }]]),
      redirects: 0,
    };
    try {
      // Act
      const reply = await sendToSlot(pool, route, 0, [
        'SET',
        canaryKey(0, 'canary'),
        'sw:test:1',
        'PX',
        '60000',
      ]);

      // Assess
      expect(reply).toBe('OK');
      expect(route.redirects).toBe(1);
      expect(route.owners.get(0)).toEqual({
        host: '127.0.0.1',
        port: portOf(owner?.address ?? ''),
      });
    } finally {
      pool.close();
    }
  });

  it('keeps the cross-slot check passing through ASK while its slot migrates', async () => {
    // Prepare: slot 0 migrating from its owner to another primary, its cross-slot keys not yet
    // on the source, so the source answers ASK and the target must be asked after ASKING.
    const report = await prober.sweep();
    const source = report.nodes.find(
      (n) => n.role === 'primary' && n.shard.split(/[-,]/)[0] === '0',
    );
    const target = report.nodes.find((n) => n.role === 'primary' && n !== source);
    const sourcePort = portOf(source?.address ?? '');
    const targetPort = portOf(target?.address ?? '');
    await adminOn(cluster, targetPort, async (admin) => {
      await admin.call('CLUSTER', 'SETSLOT', '0', 'IMPORTING', source?.id ?? '');
    });
    await adminOn(cluster, sourcePort, async (admin) => {
      await admin.call('CLUSTER', 'SETSLOT', '0', 'MIGRATING', target?.id ?? '');
      await admin.del(canaryKey(0, 'xs:0'), canaryKey(0, 'xs:1'));
    });

    try {
      // Act
      const migrating = await prober.sweep();

      // Assess: slot 0's write and read were redirected by ASK (the multi-key write meets
      // TRYAGAIN on the importing node and is split into single keys), and the values landed
      // on the importing node.
      expect(migrating.checks.crossSlot, JSON.stringify(migrating.checks.crossSlot)).toMatchObject({
        ok: true,
        shards: 3,
      });
      expect(
        migrating.checks.crossSlot.ok && migrating.checks.crossSlot.redirects,
      ).toBeGreaterThanOrEqual(2);
      expect(migrating.ok).toBe(true);
      await adminOn(cluster, targetPort, async (admin) => {
        const values = await admin.pipeline().asking().get(canaryKey(0, 'xs:0')).exec();
        expect(values?.[1]?.[1]).toMatch(/^sw:/);
      });
    } finally {
      for (const port of [sourcePort, targetPort]) {
        await adminOn(cluster, port, async (admin) => {
          await admin.call('CLUSTER', 'SETSLOT', '0', 'STABLE');
        });
      }
    }
    expect((await prober.sweep()).ok).toBe(true);
  });
});

describe('a cluster that announces hostnames (as ElastiCache TLS clusters do)', () => {
  it('dials every node by its hostname and verifies the certificate against it', async () => {
    // Prepare: every node announces "localhost" and prefers hostnames in its replies.
    const setAll = async (hostname: string, preferred: string) => {
      for (const node of cluster.nodes) {
        await adminOn(cluster, node.port, async (admin) => {
          await admin.call('CONFIG', 'SET', 'cluster-announce-hostname', hostname);
          await admin.call('CONFIG', 'SET', 'cluster-preferred-endpoint-type', preferred);
        });
      }
    };
    await setAll('localhost', 'hostname');
    try {
      // Act: hostnames travel by gossip, so wait until every node is listed by name.
      const report = await waitFor('hostnames to be announced', async () => {
        const next = await prober.sweep();
        return next.nodes.every((n) => n.address.startsWith('localhost:')) ? next : undefined;
      });

      // Assess
      expect(report.ok).toBe(true);
      expect(report.nodes).toHaveLength(6);
      expect(report.checks.crossSlot.ok).toBe(true);
    } finally {
      await setAll('', 'ip');
    }
  });
});

describe('an ACL user limited to the canary prefix and denied CLUSTER SHARDS', () => {
  it('probes everything through CLUSTER NODES and never needs a key outside slotwatch:*', async () => {
    // Prepare: the same user on every node (ACLs are per node), keys limited to the prefix.
    const password = 'acl-user-password-1234';
    for (const node of cluster.nodes) {
      await adminOn(cluster, node.port, async (admin) => {
        await admin.call(
          'ACL',
          'SETUSER',
          'probe',
          'reset',
          'on',
          `>${password}`,
          `~${CANARY_PREFIX}*`,
          '+@all',
          '-cluster|shards',
        );
      });
    }
    const restricted = proberFor(cluster, {
      CLUSTER_USERNAME: 'probe',
      CLUSTER_AUTH_TOKEN: password,
    });
    try {
      // Act
      const report = await restricted.sweep();

      // Assess
      expect(report.topology.source, report.error).toBe('CLUSTER NODES');
      expect(report.ok, JSON.stringify(report)).toBe(true);
      expect(report.nodes).toHaveLength(6);
      expect(report.checks.crossSlot.ok).toBe(true);
    } finally {
      restricted.close();
      for (const node of cluster.nodes) {
        await adminOn(cluster, node.port, async (admin) => {
          await admin.call('ACL', 'DELUSER', 'probe');
        });
      }
    }
  });
});
