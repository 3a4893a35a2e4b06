/**
 * Faults on a real local cluster (3 shards x 1 replica, node timeout 1 s): a paused replica, and a
 * paused primary through promotion of its replica and its own return as a replica. Every sweep
 * must end within its deadline, whatever the paused node does.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../tools/local/local-cluster.js';
import type { SweepReport } from '../../lambda/report.js';
import type { ClusterProber } from '../../lambda/sweep.js';
import { portOf, proberFor, useTestCluster, waitFor } from '../support/cluster.js';
import { MARGIN_MS, byPort, sweepWithin } from '../support/fault-matrix.js';

let cluster: LocalCluster;
let prober: ClusterProber;

const handle = useTestCluster();
beforeAll(() => {
  ({ cluster, prober } = handle);
});

const sweep = (): Promise<SweepReport> => sweepWithin(prober);

describe('a paused replica', () => {
  it('is reported down, alone, within the deadline, and healthy again once resumed', async () => {
    // Prepare
    const healthy = await sweep();
    expect(healthy.ok).toBe(true);
    const replica = healthy.nodes.find((n) => n.role === 'replica');
    const port = portOf(replica?.address ?? '');

    // Act
    cluster.pause(port);
    let report: SweepReport;
    try {
      report = await sweep();
    } finally {
      cluster.resume(port);
    }

    // Assess
    expect(report.ok).toBe(false);
    expect(report.nodes.filter((n) => !n.ok).map((n) => n.address)).toEqual([replica?.address]);
    const paused = byPort(report, port);
    expect(paused?.probes.ping).toMatchObject({
      ok: false,
      latencyMs: null,
      error: expect.stringMatching(/^timeout after 500 ms/) as unknown,
    });
    expect(paused?.probes.replication).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^not attempted: timeout/) as unknown,
    });
    expect(report.checks.crossSlot.ok).toBe(true);
    expect(report.checks.slots).toEqual({ ok: true, covered: 16384 });

    const recovered = await waitFor('the resumed replica to pass', async () => {
      const next = await sweep();
      return next.ok ? next : undefined;
    });
    expect(byPort(recovered, port)?.role).toBe('replica');
  });
});

describe('a paused primary', () => {
  it('fails rounds until its replica is promoted, then, resumed, shows up as a replica', async () => {
    // Prepare: a primary that is not the configured endpoint, and its replica.
    const healthy = await sweep();
    expect(healthy.ok).toBe(true);
    const seedPort = portOf(cluster.settings.endpoint);
    const primary = healthy.nodes.find(
      (n) => n.role === 'primary' && portOf(n.address) !== seedPort,
    );
    const replica = healthy.nodes.find((n) => n.role === 'replica' && n.shard === primary?.shard);
    const primaryPort = portOf(primary?.address ?? '');
    const replicaPort = portOf(replica?.address ?? '');

    // Act: pause it until the cluster has promoted the replica.
    cluster.pause(primaryPort);
    let failing: SweepReport;
    try {
      failing = await sweep();
      await waitFor('the replica to be promoted', async () => {
        const next = await sweep();
        expect(next.ok).toBe(false);
        return byPort(next, replicaPort)?.role === 'primary' ? next : undefined;
      });
    } finally {
      cluster.resume(primaryPort);
    }

    // Assess: while paused, the primary and its slots are down.
    expect(failing.ok).toBe(false);
    expect(byPort(failing, primaryPort)?.ok).toBe(false);
    expect(byPort(failing, primaryPort)?.probes.ping).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^timeout/) as unknown,
    });
    expect(failing.checks.slots.ok).toBe(false);
    expect(failing.checks.slots.covered).toBeLessThan(16384);

    // Once resumed, it rejoins as a replica of its former replica, and sweeps pass again.
    const recovered = await waitFor(
      'the old primary to rejoin as a replica',
      async () => {
        const next = await sweep();
        return next.ok && byPort(next, primaryPort)?.role === 'replica' ? next : undefined;
      },
      45_000,
    );
    expect(byPort(recovered, replicaPort)?.role).toBe('primary');
    expect(byPort(recovered, primaryPort)?.shard).toBe(byPort(recovered, replicaPort)?.shard);
    expect(recovered.nodes).toHaveLength(6);
    expect(recovered.checks.slots).toEqual({ ok: true, covered: 16384 });
  });
});

describe('a restarted node', () => {
  it('is reported refused while down, and probed again over a new connection once back', async () => {
    // Prepare
    const healthy = await sweep();
    expect(healthy.ok).toBe(true);
    const replica = healthy.nodes.find((n) => n.role === 'replica');
    const port = portOf(replica?.address ?? '');

    // Act
    cluster.kill(port);
    const down = await sweep();
    await cluster.restart(port);
    const back = await waitFor('the restarted replica to pass', async () => {
      const next = await sweep();
      return next.ok ? next : undefined;
    });

    // Assess
    expect(down.ok).toBe(false);
    expect(down.nodes.filter((n) => !n.ok).map((n) => n.address)).toEqual([replica?.address]);
    expect(byPort(down, port)?.probes.ping).toMatchObject({
      ok: false,
      error: 'refused: nothing listens on that port',
    });
    expect(byPort(back, port)).toMatchObject({ role: 'replica', ok: true });
    expect(byPort(back, port)?.connectMs).toBeGreaterThan(0);
  });
});

describe('the sweep deadline', () => {
  it('cuts the sweep short when the seed and a replica hang, naming the unfinished probes', async () => {
    // Prepare: a warm prober that knows the topology, with one timeout almost as long as the
    // deadline; discovery must hedge past the paused seed, so the replica's ping timeout
    // would end after the deadline.
    const tight = proberFor(cluster, { PROBE_TIMEOUT_MS: '900', PROBE_DEADLINE_MS: '1000' });
    const healthy = await tight.sweep();
    expect(healthy.ok).toBe(true);
    const seedPort = portOf(cluster.settings.endpoint);
    const seedShard = byPort(healthy, seedPort)?.shard;
    const replica = healthy.nodes.find((n) => n.role === 'replica' && n.shard !== seedShard);
    const replicaPort = portOf(replica?.address ?? '');

    // Act
    cluster.pause(seedPort);
    cluster.pause(replicaPort);
    let report: SweepReport;
    const started = performance.now();
    try {
      report = await tight.sweep();
    } finally {
      cluster.resume(seedPort);
      cluster.resume(replicaPort);
      tight.close();
    }
    const elapsed = performance.now() - started;

    // Assess
    expect(elapsed).toBeLessThan(1000 + MARGIN_MS);
    expect(report.durationMs).toBeLessThan(1000 + MARGIN_MS);
    expect(report.topology.from).not.toBe(cluster.settings.endpoint);
    expect(report.nodes).toHaveLength(6);
    const failed = report.nodes.filter((n) => !n.ok).map((n) => portOf(n.address));
    expect(failed.sort()).toEqual([seedPort, replicaPort].sort());
    expect(byPort(report, replicaPort)?.probes.ping).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^deadline: the sweep ended after 1000 ms/) as unknown,
    });

    // The cluster may have failed over while the seed was paused; it must come back to ok.
    await waitFor(
      'the cluster to pass again',
      async () => {
        const next = await sweep();
        return next.ok ? next : undefined;
      },
      45_000,
    );
  });
});
