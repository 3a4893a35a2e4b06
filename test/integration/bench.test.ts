/**
 * `npm run bench -- --quick` end to end on this machine: it must run its clusters, probe them
 * without a failed sweep, measure every figure it claims to, write its three files, and leave no
 * server behind. The figures themselves are the benchmark's business, not this test's: it only
 * checks that each was measured and is a plausible number.
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../../bench/redis-benchmark.js';
import { ROOT } from '../support/cluster.js';

interface Results {
  readonly mode: string;
  readonly clusters: readonly {
    readonly nodes: number;
    readonly failedSweeps: number;
    readonly cold: { readonly p50Ms: number; readonly cpuMsPerSweep: number };
    readonly warm: { readonly p50Ms: number; readonly p95Ms: number; readonly sweeps: number };
    readonly maxRssBytes: number;
    readonly datumsPerSweep: number;
    readonly putMetricDataPerSweep: number;
    readonly fidelity: readonly {
      readonly probeP50Ms: number;
      readonly probeSamples: number;
      readonly benchmarkP50Ms: number;
      readonly nodeFloorP50Ms: number;
    }[];
    readonly memory?: {
      readonly heapAfterGcBytes: readonly number[];
      readonly failedSweeps: number;
    };
  }[];
  readonly bundles: readonly {
    readonly name: string;
    readonly bytes: number;
    readonly importMs: number;
  }[];
  readonly projections: readonly { readonly nodes: number; readonly lambdaSweepMs: number }[];
  readonly targets: readonly { readonly what: string; readonly met: boolean | string }[];
}

/** Pids of the redis-server processes running now. */
async function redisServers(): Promise<Set<string>> {
  const pids = new Set<string>();
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const name = await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '');
    if (name.trim() === 'redis-server') pids.add(pid);
  }
  return pids;
}

function runBench(out: string): ReturnType<typeof run> {
  return run(process.execPath, ['--import', 'tsx', 'bench/bench.ts', '--quick', '--out', out], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' },
  });
}

describe('npm run bench -- --quick', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('measures every figure on real clusters and leaves no server behind', async () => {
    // Prepare
    const out = await mkdtemp(join(tmpdir(), 'slotwatch-bench-'));
    dirs.push(out);
    const before = await redisServers();

    // Act
    const run = await runBench(out);

    // Assess
    expect(run.stderr).not.toContain('bench failed');
    expect(run.code).toBe(0);
    const results = JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) as Results;
    expect(results.mode).toBe('quick');
    expect(results.clusters.map((c) => c.nodes)).toEqual([6, 18]);
    for (const cluster of results.clusters) {
      expect(cluster.failedSweeps).toBe(0);
      expect(cluster.warm.sweeps).toBeGreaterThan(0);
      expect(cluster.warm.p50Ms).toBeGreaterThan(0);
      expect(cluster.warm.p95Ms).toBeGreaterThanOrEqual(cluster.warm.p50Ms);
      expect(cluster.cold.cpuMsPerSweep).toBeGreaterThan(0);
      expect(cluster.maxRssBytes).toBeGreaterThan(10 * 1024 * 1024);
      expect(cluster.datumsPerSweep).toBeGreaterThan(cluster.nodes);
      expect(cluster.putMetricDataPerSweep).toBe(1);
      expect(cluster.fidelity).toHaveLength(3);
      for (const row of cluster.fidelity) {
        expect(row.probeSamples).toBeGreaterThanOrEqual(10);
        expect(row.probeP50Ms).toBeGreaterThan(0);
        expect(row.benchmarkP50Ms).toBeGreaterThan(0);
        expect(row.nodeFloorP50Ms).toBeGreaterThan(0);
      }
    }
    const memory = results.clusters.find((c) => c.memory)?.memory;
    expect(memory?.failedSweeps).toBe(0);
    expect(memory?.heapAfterGcBytes.length).toBeGreaterThan(5);
    expect(results.bundles.map((b) => b.name)).toEqual(['probe', 'drill']);
    // Sizes are no timing: the probe's bundle must stay within the 1 MB Lambda budget.
    expect(results.bundles.find((b) => b.name === 'probe')?.bytes).toBeLessThan(1_000_000);
    expect(results.projections.map((p) => p.nodes)).toEqual([6, 500, 500]);
    expect(results.targets.length).toBeGreaterThanOrEqual(6);
    const markdown = await readFile(join(out, 'results.md'), 'utf8');
    expect(markdown).toContain('## Targets');
    expect(markdown).toContain('## Projection');
    expect(run.stdout).toBe(markdown);
    const chart = await readFile(join(out, 'chart.svg'), 'utf8');
    expect(chart.match(/<polyline /g)?.length).toBeGreaterThanOrEqual(6);
    expect(chart).not.toContain('NaN');
    const leftover = [...(await redisServers())].filter((pid) => !before.has(pid));
    expect(leftover).toEqual([]);
  }, 300_000);
});
