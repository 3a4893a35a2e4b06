/**
 * Online resharding on a real local cluster (3 shards x 1 replica, TLS + AUTH): 2100 slots holding
 * user keys move between all three shards in batches, by the cluster protocol itself, while sweeps
 * run back to back. The batches take the slots the probe uses: each shard's lowest slot (the
 * cross-slot keys) and its highest (the node probes' canary keys), so the probe meets ASK while
 * its keys sit on the importing node and MOVED once the slots changed owner. Every sweep must stay
 * ok, and afterwards the slots must really have moved with every user key intact.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { keySlot } from '../../lambda/cluster/slots.js';
import { slotOwners } from '../../lambda/cluster/topology.js';
import type { LocalCluster } from '../../tools/local/local-cluster.js';
import type { SweepReport } from '../../lambda/report.js';
import type { ClusterProber } from '../../lambda/sweep.js';
import { PATIENT_TIMEOUTS, useTestCluster, waitFor } from '../support/cluster.js';
import {
  Resharder,
  batches,
  slotRun,
  type BatchMove,
  type Primary,
} from '../support/resharding.js';
import {
  changedKeys,
  snapshot,
  topologyFrom,
  userKeysInSlot,
  writeUserKeys,
} from '../support/user-data.js';

const BATCH_SLOTS = 100;
const KEYS_PER_SLOT = 2;
/** Sweeps that must complete while a batch's keys sit on the target and its slots on the source. */
const SWEEPS_PER_HOLD = 2;

let cluster: LocalCluster;
let prober: ClusterProber;

const handle = useTestCluster({}, PATIENT_TIMEOUTS);
beforeAll(() => {
  ({ cluster, prober } = handle);
});

/** Sweeps back to back until stopped; `completed` counts them as they finish. */
function sweepContinuously(probe: ClusterProber) {
  const reports: SweepReport[] = [];
  let stopped = false;
  const waiters: (() => void)[] = [];
  const done = (async () => {
    while (!stopped) {
      reports.push(await probe.sweep());
      for (const wake of waiters.splice(0)) wake();
    }
  })();
  return {
    reports,
    /** Resolves once `count` more sweeps have finished. */
    async sweeps(count: number): Promise<void> {
      const until = reports.length + count;
      while (reports.length < until) await new Promise<void>((wake) => waiters.push(wake));
    },
    async stop(): Promise<void> {
      stopped = true;
      await done;
    },
  };
}

describe('online resharding', () => {
  it('keeps every sweep ok while 2100 slots with user keys move, and moves them for real', async () => {
    // Prepare: the three primaries in slot order, and user keys in every slot that will move.
    const before = await topologyFrom(cluster, cluster.nodes[0]?.port ?? 0);
    const [p0, p1, p2] = before.shards.map((shard): Primary => {
      const node = before.nodes.find((n) => n.id === shard.primaryId);
      return { id: node?.id ?? '', port: node?.port ?? 0 };
    });
    if (p0 === undefined || p1 === undefined || p2 === undefined)
      throw new Error('3 shards expected');
    // Shard 0's lowest slots (its cross-slot slot first) to shard 1; shard 2's highest (its canary
    // slot first) to shard 0; shard 1's highest to shard 2. Interleaved, so all three are in flux.
    const highest = (shard: number): number => before.shards[shard]?.slots.at(-1)?.end ?? -1;
    const plans: BatchMove[][] = [
      batches(slotRun(0, 900, 1), BATCH_SLOTS).map((slots) => ({ slots, from: p0, to: p1 })),
      batches(slotRun(highest(2), 900, -1), BATCH_SLOTS).map((slots) => ({
        slots,
        from: p2,
        to: p0,
      })),
      batches(slotRun(highest(1), 300, -1), BATCH_SLOTS).map((slots) => ({
        slots,
        from: p1,
        to: p2,
      })),
    ];
    const moves = plans[0]?.flatMap((_, i) => plans.flatMap((plan) => plan[i] ?? [])) ?? [];
    const moved = moves.flatMap((move) => move.slots);
    expect(new Set(moved).size).toBe(2100);
    await writeUserKeys(
      cluster,
      moved.flatMap((slot) => userKeysInSlot(slot, KEYS_PER_SLOT)),
    );
    expect((await prober.sweep()).ok).toBe(true);
    const userBefore = await snapshot(cluster);
    expect(userBefore.user.size).toBe(2100 * KEYS_PER_SLOT);
    const started = Date.now();

    // Act: batch after batch while the sweeps run; in each batch's hold, the moved probe keys
    // are asked for on the source, which must redirect with ASK.
    const sweeping = sweepContinuously(prober);
    const resharder = await Resharder.open(cluster, [p0, p1, p2]);
    const askedFor = { canary: 0, crossSlot: 0 };
    let migratedKeys = 0;
    try {
      for (const move of moves) {
        const result = await resharder.move(move, async ({ probeKeys }) => {
          const source = await cluster.connectAdmin(move.from.port);
          try {
            for (const key of probeKeys) {
              await expect(source.get(key)).rejects.toThrow(/^ASK \d+ 127\.0\.0\.1:\d+$/);
              if (key.endsWith(':canary')) askedFor.canary++;
              else askedFor.crossSlot++;
            }
          } finally {
            source.disconnect();
          }
          await sweeping.sweeps(SWEEPS_PER_HOLD);
        });
        migratedKeys += result.keys;
      }
      await sweeping.sweeps(SWEEPS_PER_HOLD);
    } finally {
      resharder.close();
      await sweeping.stop();
    }

    // Assess: every sweep was ok, and the probe met the migration.
    const { reports } = sweeping;
    const failed = reports.filter((r) => !r.ok);
    expect(failed.slice(0, 3).map(failureSummary), `${failed.length} sweeps failed`).toEqual([]);
    expect(reports.length).toBeGreaterThanOrEqual(moves.length * SWEEPS_PER_HOLD);
    expect(reports.every((r) => r.checks.crossSlot.ok && r.nodes.length === 6)).toBe(true);
    const redirects = reports.reduce(
      (sum, r) => sum + (r.checks.crossSlot.ok ? r.checks.crossSlot.redirects : 0),
      0,
    );
    expect(redirects).toBeGreaterThan(0);
    expect(askedFor.canary).toBeGreaterThan(0);
    expect(askedFor.crossSlot).toBeGreaterThan(0);
    expect(migratedKeys).toBeGreaterThanOrEqual(2100 * KEYS_PER_SLOT);
    const settling = reports.filter((r) => r.checks.slotMap.settling !== undefined).length;
    console.log(
      `resharding: ${moves.length} batches, ${reports.length} sweeps, ${redirects} cross-slot redirects, ` +
        `${askedFor.canary + askedFor.crossSlot} probe keys answered with ASK, ${settling} sweeps with a settling slot map`,
    );

    // The slots changed owner on every node, replicas included (they learn it by gossip).
    const expected = slotOwners(before);
    for (const move of moves) for (const slot of move.slots) expected[slot] = move.to.id;
    for (const node of cluster.nodes) {
      await waitFor(`node ${node.port} to show the new slot owners`, async () => {
        const owners = slotOwners(await topologyFrom(cluster, node.port));
        return owners.every((owner, slot) => owner === expected[slot]) ? true : undefined;
      });
    }

    // Every user key is where its slot went, with the very value it had.
    const userAfter = await snapshot(cluster);
    expect(changedKeys(userBefore, userAfter, Date.now() - started)).toEqual([]);
    const portOfId = new Map([p0, p1, p2].map((p) => [p.id, p.port]));
    for (const [key, port] of userAfter.foundOn) {
      expect(port, key).toBe(portOfId.get(expected[keySlot(key)] ?? ''));
    }
    expect((await prober.sweep()).ok).toBe(true);
  });
});

/** What failed in a sweep, briefly: each failed probe and check with its error. */
function failureSummary(report: SweepReport): string[] {
  const probes = report.nodes.flatMap((node) =>
    Object.entries(node.probes)
      .filter(([, result]) => !result.ok && result.skipped !== true)
      .map(([name, result]) => `${node.address} ${name}: ${result.ok ? '' : result.error}`),
  );
  const checks = Object.entries(report.checks)
    .filter(([, check]) => !check.ok)
    .map(([name, check]) => `${name}: ${JSON.stringify(check)}`);
  return [...probes, ...checks, ...(report.error === undefined ? [] : [report.error])];
}
