/**
 * A soak on a real local cluster (3 shards x 1 replica, TLS + AUTH): one ClusterProber sweeps
 * hundreds of warm rounds back to back, as a warm Lambda or `probe --rounds` does. Every round
 * must pass; the servers must see the same few probe connections throughout; the heap after GC
 * and the sweep time must not drift. Timings are printed, and bounded only generously: figures
 * belong to benchmarks, the bounds here catch a leak or a connection per sweep, not jitter.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Redis } from 'ioredis';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../tools/local/local-cluster.js';
import type { SweepReport } from '../../lambda/report.js';
import { PATIENT_TIMEOUTS, proberFor, useTestCluster } from '../support/cluster.js';

const ROUNDS = 2400;
const INTERVAL_MS = 10;
/** Samples of the servers' clients and of the heap, this many rounds apart. */
const SAMPLE_EVERY = 240;
const HEAP_GROWTH_LIMIT_BYTES = 4 * 1024 * 1024;

let cluster: LocalCluster;

const handle = useTestCluster();
beforeAll(() => {
  ({ cluster } = handle);
});

// The soak's own process may not have been started with --expose-gc.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Heap in use after a full collection (twice: the first may only queue finalizers). */
function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** Per node: connections named by the probe's CLIENT SETNAME, and all connected clients. */
async function clientCounts(admins: readonly Redis[]): Promise<{ probe: number[]; all: number[] }> {
  const lists = await Promise.all(admins.map((admin) => admin.call('CLIENT', 'LIST')));
  const infos = await Promise.all(admins.map((admin) => admin.info('clients')));
  return {
    probe: lists.map((list) => String(list).match(/ name=slotwatch /g)?.length ?? 0),
    all: infos.map((info) => Number(/connected_clients:(\d+)/.exec(info)?.[1] ?? NaN)),
  };
}

interface RoundFacts {
  readonly durationMs: number;
  readonly nodes: number;
  readonly reconnects: number;
  /** What failed, when the round did. */
  readonly failure?: string;
}

function factsOf(report: SweepReport): RoundFacts {
  return {
    durationMs: report.durationMs,
    nodes: report.nodes.length,
    reconnects: report.reconnects,
    ...(!report.ok && { failure: JSON.stringify({ error: report.error, checks: report.checks }) }),
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? NaN)
    : ((sorted[middle - 1] ?? NaN) + (sorted[middle] ?? NaN)) / 2;
}

describe('a soak of warm rounds', () => {
  it(
    `keeps ${ROUNDS} rounds ok with bounded connections, heap and sweep time`,
    { timeout: 150_000 },
    async () => {
      // Prepare: one admin connection per node, open for the whole soak so it counts the same
      // in every sample; one prober, warmed by a first round that dials every node.
      const admins = await Promise.all(
        cluster.nodes.map((node) => cluster.connectAdmin(node.port)),
      );
      const prober = proberFor(cluster, PATIENT_TIMEOUTS);
      // Only what the assertions need: keeping whole reports would itself grow the heap.
      const rounds: RoundFacts[] = [];
      const samples: {
        round: number;
        heap: number;
        resources: number;
        probe: number[];
        all: number[];
      }[] = [];
      try {
        expect((await prober.sweep()).ok).toBe(true);

        // Act
        for (let round = 1; round <= ROUNDS; round++) {
          const started = performance.now();
          rounds.push(factsOf(await prober.sweep()));
          if (round % SAMPLE_EVERY === 0) {
            samples.push({
              round,
              heap: heapAfterGc(),
              // Timers, sockets and the like this process keeps: a leaked one per sweep would show.
              resources: process.getActiveResourcesInfo().length,
              ...(await clientCounts(admins)),
            });
          }
          await sleep(Math.max(0, INTERVAL_MS - (performance.now() - started)));
        }
      } finally {
        prober.close();
        for (const admin of admins) admin.disconnect();
      }

      // Assess: every round ok, on warm connections.
      const failed = rounds.flatMap((r) => r.failure ?? []);
      expect(failed.slice(0, 3), `${failed.length} of ${ROUNDS} rounds failed`).toEqual([]);
      expect(rounds.every((r) => r.nodes === 6)).toBe(true);
      const reconnects = rounds.reduce((sum, r) => sum + r.reconnects, 0);
      expect(reconnects).toBe(0);

      // One probe connection per node in every sample, and the servers' totals never grow.
      for (const sample of samples) {
        expect(sample.probe, `round ${sample.round}`).toEqual(cluster.nodes.map(() => 1));
        expect(sample.all, `round ${sample.round}`).toEqual(samples[0]?.all);
      }

      // No timer or socket left behind by the sweeps: the process holds as many as after the
      // first sample (the test's own sleep timer may or may not be among them).
      for (const sample of samples) {
        expect(sample.resources, `round ${sample.round}`).toBeLessThanOrEqual(
          (samples[0]?.resources ?? 0) + 1,
        );
      }

      // The heap after GC settles: compare the first sample with the last.
      const heaps = samples.map((s) => s.heap);
      const growth = (heaps.at(-1) ?? 0) - (heaps[0] ?? 0);
      expect(growth).toBeLessThan(HEAP_GROWTH_LIMIT_BYTES);

      // Sweep time: the last tenth's median within a generous multiple of the first tenth's.
      const tenth = Math.floor(ROUNDS / 10);
      const durations = rounds.map((r) => r.durationMs);
      const first = median(durations.slice(0, tenth));
      const last = median(durations.slice(-tenth));
      const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(2);
      console.log(
        `soak: ${ROUNDS} rounds, ${INTERVAL_MS} ms apart; sweep median ${first.toFixed(1)} ms ` +
          `(first tenth) -> ${last.toFixed(1)} ms (last tenth); heap after GC ${mib(heaps[0] ?? 0)} ` +
          `-> ${mib(heaps.at(-1) ?? 0)} MiB (${growth >= 0 ? '+' : ''}${mib(growth)}); probe connections ` +
          `per node ${samples.at(-1)?.probe.join('/')}; clients per node ${samples.at(-1)?.all.join('/')}; ` +
          `active handles ${samples[0]?.resources} -> ${samples.at(-1)?.resources}`,
      );
      expect(last).toBeLessThan(3 * first + 5);
    },
  );
});
