/**
 * The fault matrix, node and network half, on one real local cluster (3 shards x 1 replica, TLS +
 * AUTH). Every case checks the same things: the sweep ends within its deadline
 * and names the right cause on the right node; nothing raises an unhandled rejection; a fresh
 * prober leaves no socket or timer behind once closed; the CLI, run against the fault, exits by
 * itself right after its report with the right status and ProbeSuccess; and once the fault
 * clears, the next sweeps pass again.
 */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../tools/local/local-cluster.js';
import type { SweepReport } from '../../lambda/report.js';
import type { ClusterProber } from '../../lambda/sweep.js';
import {
  TEST_TIMEOUTS,
  adminOn,
  isAlive,
  portOf,
  proberFor,
  useTestCluster,
  waitFor,
} from '../support/cluster.js';
import {
  byPort,
  expectResourcesBackTo,
  failedPorts,
  liveResources,
  recordProcessFaults,
  runProbeCli,
  startStuckListener,
  sweepUntilOk,
  sweepWithin,
  type ProbeCliOutcome,
} from '../support/fault-matrix.js';

let cluster: LocalCluster;
/** The warm prober: kept across cases, as a warm Lambda keeps it. */
let warm: ClusterProber;

// A node timeout longer than any fault here lasts: no failover starts while a primary is down,
// so each case sees exactly the fault it made.
const handle = useTestCluster({ nodeTimeoutMs: 5000 });
beforeAll(() => {
  ({ cluster, prober: warm } = handle);
});
recordProcessFaults();

const TIMEOUT = `timeout after ${TEST_TIMEOUTS.PROBE_TIMEOUT_MS} ms`;
/** CLIENT PAUSE of the slow node: several probe timeouts long. */
const PAUSE_MS = 2500;

const env = (overrides: Record<string, string> = {}): Record<string, string> => ({
  ...cluster.env(),
  ...TEST_TIMEOUTS,
  ...overrides,
});

const cli = (overrides: Record<string, string> = {}): Promise<ProbeCliOutcome> =>
  runProbeCli(env(overrides), [cluster.settings.token]);

/**
 * One sweep of a cold prober (as a cold Lambda, or one CLI round) against the fault, then closed:
 * it must leave no socket, lookup or timer behind.
 */
async function coldSweep(overrides: Record<string, string> = {}): Promise<SweepReport> {
  const baseline = liveResources();
  const prober = proberFor(cluster, overrides);
  try {
    return await sweepWithin(prober);
  } finally {
    prober.close();
    await expectResourcesBackTo(baseline);
  }
}

async function onEveryNode(...command: string[]): Promise<void> {
  for (const node of cluster.nodes) {
    await adminOn(cluster, node.port, async (admin) => {
      await admin.call(command[0] ?? '', ...command.slice(1));
    });
  }
}

/** Sweeps with the warm prober until the topology shows a change (gossip is not instant). */
function untilListed(match: (report: SweepReport) => boolean, what: string): Promise<SweepReport> {
  return waitFor(what, async () => {
    const report = await sweepWithin(warm);
    return match(report) ? report : undefined;
  });
}

/**
 * SIGKILLs the nodes and waits until their processes are gone: a connection attempt that races
 * the dying process can be accepted and then reset, rather than refused.
 */
async function killNodes(...ports: number[]): Promise<void> {
  const pids = cluster.nodes.filter((n) => ports.includes(n.port)).map((n) => n.pid);
  for (const port of ports) cluster.kill(port);
  await waitFor('the killed servers to be gone', () =>
    Promise.resolve(pids.some(isAlive) ? undefined : true),
  );
}

/** A replica, from a passing sweep (never the configured endpoint, a primary that stays one). */
async function someReplica(): Promise<{ port: number; address: string }> {
  const report = await sweepUntilOk(warm, 'a healthy cluster before the fault');
  const replica = report.nodes.find((n) => n.role === 'replica');
  return { port: portOf(replica?.address ?? ''), address: replica?.address ?? '' };
}

afterEach(async () => {
  // Once the fault has cleared and the cluster itself says it is healthy again, the very next
  // sweep passes; and the next case starts from a healthy cluster.
  await cluster.waitHealthy();
  const next = await sweepWithin(warm);
  expect(next.ok, JSON.stringify(failedPorts(next))).toBe(true);
});

describe('the baseline: a healthy cluster', () => {
  it("trips no error in any server's error stats, so the probe's own noise never masks a fault", async () => {
    // Prepare: one admin connection per node, open before and after, so that only the probe's
    // connections and commands can add to the counts.
    const admins = await Promise.all(cluster.nodes.map((n) => cluster.connectAdmin(n.port)));
    const errorStats = () => Promise.all(admins.map((admin) => admin.info('errorstats')));
    try {
      const before = await errorStats();

      // Act: a cold sweep (every connection dialled, authenticated, READONLY) and a warm one.
      const cold = await coldSweep();
      const again = await sweepWithin(warm);

      // Assess
      expect([cold.ok, again.ok]).toEqual([true, true]);
      expect(await errorStats()).toEqual(before);
    } finally {
      for (const admin of admins) admin.disconnect();
    }
  });
});

/** The cluster's own server certificate: a listener with it passes the probe's TLS checks. */
const serverCertificate = () => ({
  certFile: join(cluster.dir, 'tls', 'server.crt'),
  keyFile: join(cluster.dir, 'tls', 'server.key'),
});

describe('a node announced at a listener that accepts and never answers', () => {
  it.each([
    ['a stuck TLS handshake', 'tls handshake', false],
    ['TLS completed, then silence (a proxy whose backend is gone)', 'auth', true],
  ])(
    '%s: that node alone fails with a timeout (%s), and the probe hangs up on it',
    async (_kind, phase, completesTls) => {
      // Prepare
      const { port, address } = await someReplica();
      const stuck = await startStuckListener(completesTls ? { tls: serverCertificate() } : {});
      try {
        // Act: the replica tells the cluster its clients should dial the stuck listener.
        await adminOn(cluster, port, async (admin) => {
          await admin.call('CONFIG', 'SET', 'cluster-announce-tls-port', String(stuck.port));
        });
        const warmReport = await untilListed(
          (r) => byPort(r, stuck.port) !== undefined,
          'the stuck address to be announced',
        );
        const cold = await coldSweep();
        const { report: cliReport, probeSuccess } = await cli();

        // Assess: the same node fails the same way for a warm prober, a cold one and the CLI.
        for (const report of [warmReport, cold, cliReport]) {
          expect(report.nodes).toHaveLength(6);
          expect(report.nodes.map((n) => n.address)).not.toContain(address);
          expect(failedPorts(report)).toEqual([stuck.port]);
          expect(byPort(report, stuck.port)?.probes.ping).toEqual({
            ok: false,
            latencyMs: null,
            error: `${TIMEOUT} (${phase})`,
          });
          expect(report.checks.crossSlot.ok).toBe(true);
          expect(report.checks.slots).toEqual({ ok: true, covered: 16384 });
        }
        expect(probeSuccess).toBe(0);
        expect(stuck.accepted).toBeGreaterThanOrEqual(3);
        await waitFor('the probe to close its connections to the stuck listener', () =>
          Promise.resolve(stuck.open === 0 ? true : undefined),
        );
      } finally {
        await adminOn(cluster, port, async (admin) => {
          await admin.call('CONFIG', 'SET', 'cluster-announce-tls-port', '0');
        });
        await stuck.close();
      }

      // The first sweep that sees the real address again passes.
      const cleared = await untilListed(
        (r) => byPort(r, port) !== undefined,
        'the real address to be announced again',
      );
      expect(cleared.ok).toBe(true);
    },
  );

  it('fails cleanly within the deadline when the seed endpoint itself is stuck, ProbeSuccess 0', async () => {
    const stuck = await startStuckListener();
    try {
      const seed = { CLUSTER_ENDPOINT: `127.0.0.1:${stuck.port}` };

      const cold = await coldSweep(seed);
      const { report, probeSuccess } = await cli(seed);

      for (const failed of [cold, report]) {
        expect(failed.ok).toBe(false);
        expect(failed.error).toBe(`topology: ${TIMEOUT} (tls handshake)`);
        expect(failed.nodes).toEqual([]);
      }
      expect(probeSuccess).toBe(0);
      await waitFor('the probe to hang up on the stuck seed', () =>
        Promise.resolve(stuck.open === 0 ? true : undefined),
      );
    } finally {
      await stuck.close();
    }
  });
});

describe('a name that does not resolve', () => {
  it('is reported as dns on the node that announces it', async () => {
    // Prepare: every node prefers host names in its replies; one replica announces a name
    // under .invalid, which no resolver resolves (RFC 6761).
    const { port } = await someReplica();
    const name = 'node-7.slotwatch.invalid';
    try {
      await onEveryNode('CONFIG', 'SET', 'cluster-preferred-endpoint-type', 'hostname');
      await adminOn(cluster, port, async (admin) => {
        await admin.call('CONFIG', 'SET', 'cluster-announce-hostname', name);
      });

      // Act
      const report = await untilListed(
        (r) => r.nodes.some((n) => n.address === `${name}:${port}`),
        'the unresolvable name to be announced',
      );
      const cold = await coldSweep();

      // Assess
      for (const failed of [report, cold]) {
        expect(failed.nodes).toHaveLength(6);
        expect(failed.nodes.filter((n) => !n.ok).map((n) => n.address)).toEqual([
          `${name}:${port}`,
        ]);
        expect(failed.nodes.find((n) => !n.ok)?.probes.ping).toEqual({
          ok: false,
          latencyMs: null,
          error: 'dns: host name does not resolve',
        });
      }
    } finally {
      await adminOn(cluster, port, async (admin) => {
        await admin.call('CONFIG', 'SET', 'cluster-announce-hostname', '');
      });
      await onEveryNode('CONFIG', 'SET', 'cluster-preferred-endpoint-type', 'ip');
    }

    // The first sweep that lists the node by its address again passes.
    const cleared = await untilListed(
      (r) => r.nodes.every((n) => !n.address.startsWith(name)),
      'the name to be withdrawn',
    );
    expect(cleared.ok).toBe(true);
  });

  it('is reported as dns when it is the seed endpoint, and the CLI exits 1 at once', async () => {
    const seed = { CLUSTER_ENDPOINT: 'config.slotwatch.invalid:6379' };

    const cold = await coldSweep(seed);
    const { report, probeSuccess } = await cli(seed);

    for (const failed of [cold, report]) {
      expect(failed).toMatchObject({
        ok: false,
        error: 'topology: dns: host name does not resolve',
      });
    }
    expect(probeSuccess).toBe(0);
  });
});

describe('a slow node (CLIENT PAUSE longer than the probe timeout)', () => {
  it('times out on that node only, and passes once the pause ends', async () => {
    // Prepare: a primary that is not the seed (the seed's pause would only delay discovery).
    const healthy = await sweepUntilOk(warm, 'a healthy cluster');
    const seedPort = portOf(cluster.settings.endpoint);
    const primary = healthy.nodes.find(
      (n) => n.role === 'primary' && portOf(n.address) !== seedPort,
    );
    const port = portOf(primary?.address ?? '');
    const baseline = liveResources();
    const prober = proberFor(cluster);
    try {
      expect((await sweepWithin(prober)).ok).toBe(true);

      // Act: both the warm prober and a second warm one meet the paused node.
      const pauseEndsAt = performance.now() + PAUSE_MS;
      await adminOn(cluster, port, async (admin) => {
        await admin.call('CLIENT', 'PAUSE', String(PAUSE_MS), 'ALL');
      });
      const reports = [await sweepWithin(warm), await sweepWithin(prober)];
      await sleep(pauseEndsAt + 50 - performance.now());
      const cleared = [await sweepWithin(warm), await sweepWithin(prober)];

      // Assess
      for (const report of reports) {
        expect(failedPorts(report)).toEqual([port]);
        expect(byPort(report, port)?.probes.ping).toEqual({
          ok: false,
          latencyMs: null,
          error: `${TIMEOUT} (reply)`,
        });
      }
      // The pause is over: the next sweeps pass, over new connections to that node.
      for (const report of cleared) {
        expect(report.ok, JSON.stringify(failedPorts(report))).toBe(true);
        expect(byPort(report, port)?.connectMs).toBeGreaterThan(0);
      }
    } finally {
      prober.close();
    }
    await expectResourcesBackTo(baseline);
  });
});

describe('a paused node (SIGSTOP)', () => {
  it('times out on that node only, for warm and cold probers and the CLI, which still exits', async () => {
    const { port } = await someReplica();

    cluster.pause(port);
    let outcomes: SweepReport[];
    let probeSuccess: number | undefined;
    try {
      const warmReport = await sweepWithin(warm);
      const cold = await coldSweep();
      const run = await cli();
      probeSuccess = run.probeSuccess;
      outcomes = [warmReport, cold, run.report];
    } finally {
      cluster.resume(port);
    }

    for (const report of outcomes) {
      expect(failedPorts(report)).toEqual([port]);
      // A warm connection waits for a reply; a new one waits in the handshake (the kernel
      // accepts for a stopped process).
      expect(byPort(report, port)?.probes.ping).toMatchObject({
        ok: false,
        error: expect.stringMatching(
          new RegExp(`^${TIMEOUT} \\((reply|tls handshake)\\)$`),
        ) as unknown,
      });
    }
    expect(probeSuccess).toBe(0);
  });
});

describe('a replica added, then one removed (topology growth and shrink)', () => {
  it('lists exactly the new topology each time, passing, and keeps no connection to the removed node', async () => {
    // Prepare
    const healthy = await sweepUntilOk(warm, 'a healthy cluster');
    const primary = healthy.nodes.find((n) => n.role === 'primary');
    const portsOf = (report: SweepReport) =>
      report.nodes.map((n) => portOf(n.address)).sort((a, b) => a - b);
    const clusterPorts = () => cluster.nodes.map((n) => n.port).sort((a, b) => a - b);

    // Act 1: scale out.
    const added = await cluster.addReplica(portOf(primary?.address ?? ''));
    const grown = await untilListed(
      (r) => r.nodes.some((n) => portOf(n.address) === added.port),
      'the new replica to be listed',
    );

    // Assess 1
    expect(grown.ok, JSON.stringify(failedPorts(grown))).toBe(true);
    expect(portsOf(grown)).toEqual(clusterPorts());
    expect(grown.nodes).toHaveLength(7);
    expect(byPort(grown, added.port)).toMatchObject({
      role: 'replica',
      shard: primary?.shard,
      ok: true,
    });
    expect(byPort(grown, added.port)?.probes.replication?.ok).toBe(true);

    // Act 2: scale in. The node is forgotten but still runs for a moment, as an instance does
    // before it is terminated.
    await cluster.forgetNode(added.port);
    const shrunk = await untilListed(
      (r) => r.nodes.every((n) => portOf(n.address) !== added.port),
      'the forgotten replica to leave the topology',
    );
    let probeClients = '';
    await adminOn(cluster, added.port, async (admin) => {
      probeClients = String(await admin.call('CLIENT', 'LIST'));
    });
    await cluster.removeNode(added.port);
    const after = await sweepWithin(warm);

    // Assess 2
    expect(portsOf(shrunk)).toEqual(clusterPorts());
    expect(shrunk.nodes).toHaveLength(6);
    expect(shrunk.ok, JSON.stringify(failedPorts(shrunk))).toBe(true);
    expect(probeClients).not.toMatch(/ name=slotwatch /);
    expect(after.ok).toBe(true);
    expect(portsOf(after)).toEqual(clusterPorts());
  });
});

describe('a killed primary (SIGKILL)', () => {
  it('is refused on that node, its slots uncovered, and the cluster passes once it is back', async () => {
    // Prepare: a primary that is not the seed.
    const healthy = await sweepUntilOk(warm, 'a healthy cluster');
    const seedPort = portOf(cluster.settings.endpoint);
    const primary = healthy.nodes.find(
      (n) => n.role === 'primary' && portOf(n.address) !== seedPort,
    );
    const port = portOf(primary?.address ?? '');

    // Act: both sweeps while the cluster still lists the node as it was (the node timeout is
    // longer than this case).
    await killNodes(port);
    let outcomes: SweepReport[];
    try {
      outcomes = [await sweepWithin(warm), await coldSweep()];
    } finally {
      await cluster.restart(port);
    }

    // Assess: the node is refused while the cluster still lists it, and its slots are not served.
    for (const report of outcomes) {
      expect(report.ok).toBe(false);
      expect(report.nodes).toHaveLength(6);
      expect(failedPorts(report)).toEqual([port]);
      expect(byPort(report, port)?.probes.ping).toEqual({
        ok: false,
        latencyMs: null,
        error: 'refused: nothing listens on that port',
      });
      expect(report.checks.slots.covered).toBeLessThan(16384);
    }
  });
});

describe('a restarted node', () => {
  it('costs no false failure: the next sweep replaces the warm connection and passes', async () => {
    const { port } = await someReplica();

    await killNodes(port);
    await cluster.restart(port);
    const report = await sweepWithin(warm);

    expect(report.ok, JSON.stringify(failedPorts(report))).toBe(true);
    expect(byPort(report, port)?.reconnects).toBeGreaterThanOrEqual(1);
    expect(report.reconnects).toBeGreaterThanOrEqual(1);
  });
});

describe('every node down', () => {
  it('fails at discovery, naming the cause, lists the nodes it knew, and recovers', async () => {
    const healthy = await sweepUntilOk(warm, 'a healthy cluster');
    const ports = cluster.nodes.map((n) => n.port);

    await killNodes(...ports);
    let outcomes: { warm: SweepReport; cold: SweepReport; cli: ProbeCliOutcome };
    try {
      outcomes = { warm: await sweepWithin(warm), cold: await coldSweep(), cli: await cli() };
    } finally {
      await cluster.restart(...ports);
    }

    // The warm prober knew the topology: every node is listed as not probed, with the cause.
    const cause = /^topology: refused: nothing listens on that port/;
    expect(outcomes.warm).toMatchObject({
      ok: false,
      error: expect.stringMatching(cause) as unknown,
    });
    expect(outcomes.warm.nodes.map((n) => n.address).sort()).toEqual(
      healthy.nodes.map((n) => n.address).sort(),
    );
    for (const node of outcomes.warm.nodes) {
      expect(node.ok).toBe(false);
      expect(node.probes.ping).toMatchObject({
        ok: false,
        error: expect.stringMatching(/^not probed: topology: refused/) as unknown,
      });
    }
    // A cold one knows none, and says so.
    for (const report of [outcomes.cold, outcomes.cli.report]) {
      expect(report).toMatchObject({
        ok: false,
        error: 'topology: refused: nothing listens on that port',
        nodes: [],
      });
    }
    expect(outcomes.cli.probeSuccess).toBe(0);
  });
});
