import { describe, expect, it } from 'vitest';
import { niceCeiling, renderChart } from '../../bench/chart.js';
import { metricsCostPerMonth, syntheticReport } from '../../bench/cost-model.js';
import {
  ASSUMPTIONS,
  LAMBDA_PRICE,
  MB_PER_VCPU,
  fitCosts,
  project,
} from '../../bench/projection.js';
import { parseBenchmarkCsv } from '../../bench/redis-benchmark.js';
import { at, linearFit, percentile } from '../../bench/stats.js';
import { PING_SAMPLES } from '../../lambda/probes/ping.js';

/** What `redis-benchmark -t ping --csv` (Redis 7.0) prints. */
const CSV = [
  '"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"',
  '"PING_INLINE","23255.81","0.040","0.016","0.039","0.055","0.079","0.911"',
  '"PING_MBULK","24390.24","0.038","0.016","0.031","0.047","0.071","0.399"',
  '',
].join('\n');

describe('parseBenchmarkCsv', () => {
  it("reads every test's throughput and latency percentiles", () => {
    // Act
    const rows = parseBenchmarkCsv(CSV);

    // Assess
    expect(rows).toEqual([
      { test: 'PING_INLINE', rps: 23255.81, avgMs: 0.04, p50Ms: 0.039, p95Ms: 0.055, p99Ms: 0.079 },
      { test: 'PING_MBULK', rps: 24390.24, avgMs: 0.038, p50Ms: 0.031, p95Ms: 0.047, p99Ms: 0.071 },
    ]);
  });

  it.each([
    ['no CSV at all', 'Could not connect to Redis', 'redis-benchmark printed no CSV header'],
    [
      'a missing column',
      CSV.replace('"p50_latency_ms",', ''),
      `redis-benchmark's CSV has no "p50_latency_ms" column`,
    ],
    [
      'a cell that is no number',
      CSV.replace('"0.031"', '"n/a"'),
      "redis-benchmark's CSV has a non-numeric cell: PING_MBULK",
    ],
  ])('rejects %s with an error that says what is wrong', (_name, text, message) => {
    expect(() => parseBenchmarkCsv(text)).toThrow(message);
  });
});

describe('percentile', () => {
  it('takes the nearest rank, whatever the order of the values', () => {
    const values = [9, 1, 8, 2, 7, 3, 6, 4, 5, 10];
    expect(percentile(values, 50)).toBe(5);
    expect(percentile(values, 95)).toBe(10);
    expect(percentile(values, 0)).toBe(1);
    expect(percentile([], 50)).toBeNaN();
  });
});

describe('linearFit', () => {
  it('finds the line through points on a line, and the least-squares one through others', () => {
    const exact = linearFit([
      [6, 8],
      [18, 20],
      [36, 38],
    ]);
    expect(exact.slope).toBeCloseTo(1, 10);
    expect(exact.intercept).toBeCloseTo(2, 10);
    expect(at(exact, 500)).toBeCloseTo(502, 10);

    const noisy = linearFit([
      [0, 1],
      [1, 1],
      [2, 3],
      [3, 3],
    ]);
    expect(noisy.slope).toBeCloseTo(0.8, 10);
    expect(noisy.intercept).toBeCloseTo(0.8, 10);
  });

  it('refuses points that do not span two x values', () => {
    expect(() =>
      linearFit([
        [6, 1],
        [6, 2],
      ]),
    ).toThrow('a line needs points at two different x at least');
  });
});

describe('project', () => {
  it('turns the per-node costs into a Lambda sweep, an invocation and a monthly bill', () => {
    // Prepare: 0.5 ms of wall time and 1 ms of CPU per node, nothing fixed; cold sweeps 3x the CPU.
    const lines = fitCosts([
      { nodes: 6, warmP50Ms: 3, warmCpuMsPerSweep: 6, coldCpuMsPerSweep: 18 },
      { nodes: 36, warmP50Ms: 18, warmCpuMsPerSweep: 36, coldCpuMsPerSweep: 108 },
    ]);
    const scenario = { label: 'large', shards: 250, replicas: 1, memoryMb: 1024 };

    // Act
    const projection = project(lines, scenario);

    // Assess
    const share = 1024 / MB_PER_VCPU;
    const network =
      500 * PING_SAMPLES * ASSUMPTIONS.rttMs + ASSUMPTIONS.parallelRoundTrips * ASSUMPTIONS.rttMs;
    expect(projection.nodes).toBe(500);
    expect(projection.localSweepMs).toBeCloseTo(250, 6);
    expect(projection.cpuMsPerSweep).toBeCloseTo(500, 6);
    expect(projection.lambdaSweepMs).toBeCloseTo(500 / share + network, 6);
    expect(projection.coldExtraMs).toBeCloseTo(1000 / share, 6);
    const metrics = metricsCostPerMonth(syntheticReport(250, 1), 'all', 1);
    expect(projection.putMetricDataPerSweep).toBe(metrics.requestsPerSweep);
    expect(projection.invocationMs).toBeCloseTo(
      projection.lambdaSweepMs + metrics.requestsPerSweep * ASSUMPTIONS.publishRequestMs,
      6,
    );
    const gbSeconds = 43_800 * (projection.invocationMs / 1000) * 1;
    expect(projection.lambdaDollars).toBeCloseTo(
      gbSeconds * LAMBDA_PRICE.perGbSecond + 0.0438 * LAMBDA_PRICE.perMillionRequests,
      6,
    );
  });

  it('gives a smaller function proportionally less CPU, up to one vCPU', () => {
    const lines = fitCosts([
      { nodes: 6, warmP50Ms: 3, warmCpuMsPerSweep: 6, coldCpuMsPerSweep: 18 },
      { nodes: 36, warmP50Ms: 18, warmCpuMsPerSweep: 36, coldCpuMsPerSweep: 108 },
    ]);
    const small = project(lines, { label: 's', shards: 3, replicas: 1, memoryMb: 256 });
    const huge = project(lines, { label: 'h', shards: 3, replicas: 1, memoryMb: 4096 });
    const network =
      6 * PING_SAMPLES * ASSUMPTIONS.rttMs + ASSUMPTIONS.parallelRoundTrips * ASSUMPTIONS.rttMs;
    expect(small.lambdaSweepMs - network).toBeCloseTo((6 * MB_PER_VCPU) / 256, 6);
    expect(huge.lambdaSweepMs - network).toBeCloseTo(6, 6);
  });
});

describe('the chart', () => {
  it('rounds axes up to 1, 2 or 5 times a power of ten', () => {
    expect([0.7, 1, 1.2, 3, 7, 42, 180].map(niceCeiling)).toEqual([1, 1, 2, 5, 10, 50, 200]);
    expect(niceCeiling(0)).toBe(1);
  });

  it('draws one line per series with a point per measurement, and escapes the labels', () => {
    // Act
    const svg = renderChart([
      {
        title: 'Sweep <time>',
        yLabel: 'ms',
        series: [
          {
            name: 'warm p50',
            colour: '#1f77b4',
            points: [
              [6, 5],
              [36, 20],
            ],
          },
        ],
        targets: [{ x: 36, y: 2, label: '2x' }],
      },
    ]);

    // Assess
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toContain('Sweep &lt;time&gt;');
    expect(svg.match(/<polyline /g)).toHaveLength(1);
    expect(svg.match(/<circle /g)).toHaveLength(2);
    expect(svg).toContain('— warm p50');
  });
});
