/**
 * `npm run bench [-- --quick] [--out DIR]`: local TLS + AUTH clusters of growing size (3x1, 6x2,
 * 12x2; `--quick`: 3x1 and 6x2 with fewer sweeps), each probed by the real engine in a child
 * process (bench/sweeper.ts) for cold and warm sweep times, CPU time and memory; the probe's PING
 * latency against redis-benchmark's on the same nodes; a thousand warm sweeps for the heap; the
 * Lambda bundles; and a projection to 500 nodes. Prints the results (markdown) and writes
 * results.md, results.json and chart.svg to bench/results/ (bench/results/quick/ with --quick).
 * Every cluster is stopped at the end, on failure, and on Ctrl-C.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startLocalCluster, type LocalCluster } from '../tools/local/local-cluster.js';
import { PING_SAMPLES } from '../lambda/probes/ping.js';
import { measureBundles, type BundleFigures } from './bundles.js';
import { LAMBDA_NODE_OPTIONS } from '../infra/constructs/vpc-function.js';
import { renderChart } from './chart.js';
import { fitCosts, project, ASSUMPTIONS, SCENARIOS, type Projection } from './projection.js';
import { benchmarkPing, type BenchmarkRow } from './redis-benchmark.js';
import { pin, placement } from './placement.js';
import { linearFit, median, percentile } from './stats.js';
import type { FloorSamples, MemorySeries, SweepBatch, SweeperRequest } from './sweeper.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

const PLANS = {
  full: {
    sizes: [
      [3, 1],
      [6, 2],
      [12, 2],
    ],
    coldSweeps: 5,
    warmSweeps: 100,
    memory: { shards: 6, replicas: 2, sweeps: 1000, every: 50 },
    fidelityNodes: 6,
    fidelityRounds: 3,
    fidelitySweeps: 20,
    benchmarkRequests: 3000,
    floorSamples: 1000,
    importRuns: 7,
  },
  quick: {
    sizes: [
      [3, 1],
      [6, 2],
    ],
    coldSweeps: 3,
    warmSweeps: 30,
    memory: { shards: 3, replicas: 1, sweeps: 200, every: 20 },
    fidelityNodes: 3,
    fidelityRounds: 2,
    fidelitySweeps: 10,
    benchmarkRequests: 2000,
    floorSamples: 300,
    importRuns: 3,
  },
} as const;
type Plan = (typeof PLANS)[keyof typeof PLANS];

interface FidelityRow {
  readonly address: string;
  /** Whether the node's server and the clients ran on cores of their own (placement.ts). */
  readonly pinned: boolean;
  /** Median of the PING latency the probe reported for this node over the warm sweeps. */
  readonly probeP50Ms: number;
  readonly probeSamples: number;
  /** redis-benchmark's p50 for PING_MBULK, the form (a RESP array) the probe sends (median over the rounds). */
  readonly benchmarkP50Ms: number;
  readonly benchmarkInlineP50Ms: number;
  /** Median of bare Node TLS round trips (no ioredis) from the sweeper to this node. */
  readonly nodeFloorP50Ms: number;
  readonly ratio: number;
  readonly floorRatio: number;
}

interface ClusterResult {
  readonly shards: number;
  readonly replicas: number;
  readonly nodes: number;
  readonly cold: { p50Ms: number; p95Ms: number; cpuMsPerSweep: number; sweeps: number };
  readonly warm: {
    p50Ms: number;
    p95Ms: number;
    cpuMsPerSweep: number;
    sweeps: number;
    /** CPU time of all the cluster's redis-server processes over the warm batch, per sweep. */
    serversCpuMsPerSweep: number;
  };
  readonly failedSweeps: number;
  readonly maxRssBytes: number;
  readonly datumsPerSweep: number;
  readonly putMetricDataPerSweep: number;
  readonly fidelity: readonly FidelityRow[];
  /** Median over the sampled nodes of probe / redis-benchmark. */
  readonly fidelityRatio: number;
  readonly floorRatio: number;
  readonly memory?: MemoryResult;
}

interface MemoryResult extends MemorySeries {
  /** Least-squares growth of the heap after GC, bytes per 1000 sweeps (first tenth left out). */
  readonly growthPer1000Bytes: number;
}

interface Target {
  readonly what: string;
  readonly target: string;
  readonly measured: string;
  readonly met: boolean | 'not measured';
  readonly note?: string;
}

const say = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

/** The sweeper child: one JSON request a line in, one JSON answer a line out. */
class Sweeper {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #answers: AsyncIterator<string>;
  readonly #kill = (): void => {
    this.#child.kill('SIGKILL');
  };

  constructor(env: Record<string, string>) {
    this.#child = spawn(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', join(ROOT, 'bench/sweeper.ts')],
      { cwd: ROOT, env: { ...process.env, ...env, METRICS_SINK: 'none' } },
    );
    this.#child.stderr.on('data', (chunk: Buffer) => process.stderr.write(chunk));
    this.#answers = createInterface({ input: this.#child.stdout })[Symbol.asyncIterator]();
    process.on('exit', this.#kill);
  }

  async ask<T>(request: SweeperRequest): Promise<T> {
    this.#child.stdin.write(`${JSON.stringify(request)}\n`);
    const next = await this.#answers.next();
    if (next.done) throw new Error(`the sweeper exited during ${request.cmd}`);
    const answer = JSON.parse(next.value) as { ok: true; result: T } | { ok: false; error: string };
    if (!answer.ok) throw new Error(`sweeper ${request.cmd}: ${answer.error}`);
    return answer.result;
  }

  get pid(): number {
    return this.#child.pid ?? 0;
  }

  stop(): void {
    process.off('exit', this.#kill);
    this.#child.stdin.end();
    this.#child.kill();
  }
}

/** CPU time (user + system) the cluster's server processes have used so far, milliseconds. */
function serversCpuMs(cluster: LocalCluster): number {
  let ticks = 0;
  for (const node of cluster.nodes) {
    // /proc/PID/stat: fields 14 and 15 (utime, stime) in clock ticks, after the "(comm)" field.
    const fields = readFileSync(`/proc/${node.pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    ticks += Number(fields[11] ?? 0) + Number(fields[12] ?? 0);
  }
  return (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
}

const CLOCK_TICKS_PER_SECOND =
  Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** `count` nodes spread over the list (primaries come first, replicas after). */
function spread<T>(items: readonly T[], count: number): T[] {
  if (items.length <= count) return [...items];
  return Array.from({ length: count }, (_, i) => items[Math.floor((i * items.length) / count)]!);
}

/**
 * One node's PING fidelity: rounds of full warm sweeps (the probe's reported `ping` for this
 * node), redis-benchmark, and bare Node TLS round trips, taken in turn so that a busy moment on
 * the machine hits all three alike, with the node's server on one core and every client on the
 * other (placement.ts).
 */
async function measureFidelity(
  cluster: LocalCluster,
  node: LocalCluster['nodes'][number],
  sweeper: Sweeper,
  plan: Plan,
): Promise<FidelityRow> {
  const address = `127.0.0.1:${node.port}`;
  const cores = placement();
  say(
    `   fidelity on ${address}: ${plan.fidelityRounds} rounds of sweeps, redis-benchmark and bare TLS round trips` +
      (cores ? ` (server on CPU ${cores.serverCpu}, clients on CPU ${cores.clientCpu})` : ''),
  );
  const probeMs: number[] = [];
  const benchmark: BenchmarkRow[] = [];
  const floorMs: number[] = [];
  const admin = await cluster.connectAdmin(node.port);
  try {
    if (cores) {
      pin(node.pid, cores.serverCpu);
      pin(sweeper.pid, cores.clientCpu);
    }
    for (let round = 0; round < plan.fidelityRounds; round++) {
      const warm = await sweeper.ask<SweepBatch>({ cmd: 'warm', sweeps: plan.fidelitySweeps });
      probeMs.push(...(warm.pingMs[address] ?? []));
      benchmark.push(
        ...(await benchmarkPing({
          port: node.port,
          caFile: cluster.settings.caFile,
          admin,
          requests: plan.benchmarkRequests,
          ...(cores && { cpus: cores.clientCpu }),
        })),
      );
      const floor = await sweeper.ask<FloorSamples>({
        cmd: 'floor',
        port: node.port,
        samples: plan.floorSamples,
      });
      floorMs.push(...floor.samplesMs);
    }
  } finally {
    admin.disconnect();
    if (cores) {
      pin(node.pid, cores.allCpus);
      pin(sweeper.pid, cores.allCpus);
    }
  }
  const p50Of = (test: string): number =>
    median(benchmark.filter((row) => row.test === test).map((row) => row.p50Ms));
  const benchmarkP50Ms = p50Of('PING_MBULK');
  if (Number.isNaN(benchmarkP50Ms)) throw new Error('redis-benchmark printed no PING_MBULK');
  if (probeMs.length === 0) throw new Error(`the probe reported no ping latency for ${address}`);
  const probeP50Ms = median(probeMs);
  const nodeFloorP50Ms = median(floorMs);
  return {
    address,
    pinned: cores !== undefined,
    probeP50Ms,
    probeSamples: probeMs.length,
    benchmarkP50Ms,
    benchmarkInlineP50Ms: p50Of('PING_INLINE'),
    nodeFloorP50Ms,
    ratio: probeP50Ms / benchmarkP50Ms,
    floorRatio: nodeFloorP50Ms / benchmarkP50Ms,
  };
}

async function measureCluster(
  shards: number,
  replicas: number,
  plan: Plan,
  withMemory: boolean,
): Promise<ClusterResult> {
  const nodes = shards * (1 + replicas);
  say(`\n== ${shards}x${replicas} (${nodes} nodes): starting the cluster`);
  const cluster: LocalCluster = await startLocalCluster({
    shards,
    replicas,
    log: (line) => say(`   ${line}`),
  });
  let sweeper: Sweeper | undefined;
  try {
    sweeper = new Sweeper(cluster.env());
    say(`   ${plan.coldSweeps} cold sweeps (a new prober each, connections included)`);
    const cold = await sweeper.ask<SweepBatch>({ cmd: 'cold', sweeps: plan.coldSweeps });
    say(`   ${plan.warmSweeps} warm sweeps`);
    const serversBefore = serversCpuMs(cluster);
    const warm = await sweeper.ask<SweepBatch>({ cmd: 'warm', sweeps: plan.warmSweeps });
    // The batch's connecting sweep counts too: one more than the batch's sweeps.
    const serversCpuMsPerSweep = (serversCpuMs(cluster) - serversBefore) / (plan.warmSweeps + 1);
    const fidelity: FidelityRow[] = [];
    for (const node of spread(cluster.nodes, plan.fidelityNodes)) {
      fidelity.push(await measureFidelity(cluster, node, sweeper, plan));
    }
    let memory: MemoryResult | undefined;
    if (withMemory) {
      say(`   ${plan.memory.sweeps} warm sweeps, heap after GC every ${plan.memory.every}`);
      const series = await sweeper.ask<MemorySeries>({
        cmd: 'memory',
        sweeps: plan.memory.sweeps,
        every: plan.memory.every,
      });
      const points = series.heapAfterGcBytes.map((bytes, i) => [i * series.every, bytes] as const);
      const settled = points.slice(Math.max(1, Math.floor(points.length / 10)));
      memory = { ...series, growthPer1000Bytes: linearFit(settled).slope * 1000 };
    }
    await sweeper.ask({ cmd: 'exit' }).catch(() => undefined);
    return {
      shards,
      replicas,
      nodes,
      cold: {
        p50Ms: percentile(cold.durationsMs, 50),
        p95Ms: percentile(cold.durationsMs, 95),
        cpuMsPerSweep: cold.cpuMsPerSweep,
        sweeps: cold.durationsMs.length,
      },
      warm: {
        p50Ms: percentile(warm.durationsMs, 50),
        p95Ms: percentile(warm.durationsMs, 95),
        cpuMsPerSweep: warm.cpuMsPerSweep,
        sweeps: warm.durationsMs.length,
        serversCpuMsPerSweep,
      },
      failedSweeps: cold.failedSweeps + warm.failedSweeps,
      maxRssBytes: Math.max(cold.maxRssBytes, warm.maxRssBytes, memory?.maxRssBytes ?? 0),
      datumsPerSweep: warm.datumsPerSweep,
      putMetricDataPerSweep: warm.requestsPerSweep,
      fidelity,
      fidelityRatio: percentile(
        fidelity.map((row) => row.ratio),
        50,
      ),
      floorRatio: percentile(
        fidelity.map((row) => row.floorRatio),
        50,
      ),
      ...(memory && { memory }),
    };
  } finally {
    sweeper?.stop();
    await cluster.stop();
  }
}

const ms = (value: number): string => `${value.toFixed(value < 1 ? 3 : 1)} ms`;
const x = (value: number): string => `${value.toFixed(2)}x`;
const kib = (bytes: number): string => `${(bytes / 1024).toFixed(0)} KiB`;
const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const dollars = (value: number): string => `$${value.toFixed(2)}`;

function evaluate(clusters: readonly ClusterResult[], bundles: readonly BundleFigures[]): Target[] {
  const bySize = (nodes: number): ClusterResult | undefined =>
    clusters.find((c) => c.nodes === nodes);
  const targets: Target[] = [];
  for (const [nodes, limit] of [
    [6, 1.5],
    [36, 2],
  ] as const) {
    const cluster = bySize(nodes);
    const met = cluster ? cluster.fidelityRatio <= limit : 'not measured';
    targets.push({
      what: `PING fidelity, ${nodes} nodes (probe p50 / redis-benchmark p50)`,
      target: `<= ${limit}x`,
      measured: cluster ? x(cluster.fidelityRatio) : '-',
      met,
      ...(cluster &&
        !met && {
          note:
            `missed by ${x(cluster.fidelityRatio / limit)} (${ms(median(cluster.fidelity.map((f) => f.probeP50Ms)))} against ${ms(median(cluster.fidelity.map((f) => f.benchmarkP50Ms)))}). ` +
            `Node's own TLS round trip on a bare socket, without ioredis and with nothing else to do, is ${x(cluster.floorRatio)} redis-benchmark's on the same nodes; ` +
            `the probe is ${x(cluster.fidelityRatio / cluster.floorRatio)} that floor. The rest is the runtime (libuv wake-up, TLS in Node, V8), not the probe's concurrency.`,
        }),
    });
  }
  const small = bySize(6);
  const large = bySize(36);
  const scaling = small && large ? large.warm.p50Ms / small.warm.p50Ms : undefined;
  targets.push({
    what: 'warm sweep p50, 36 nodes / 6 nodes',
    target: '<= 4x',
    measured: scaling === undefined ? '-' : x(scaling),
    met: scaling === undefined ? 'not measured' : scaling <= 4,
    ...(small &&
      large &&
      scaling !== undefined &&
      scaling > 4 && {
        note:
          `missed by ${x(scaling / 4)}. A warm sweep is CPU work that grows with the nodes: the probe's ${ms(small.warm.cpuMsPerSweep)} -> ${ms(large.warm.cpuMsPerSweep)} a sweep ` +
          `(TLS records and a write syscall per command, reply parsing), the servers' ${ms(small.warm.serversCpuMsPerSweep)} -> ${ms(large.warm.serversCpuMsPerSweep)}, all on ${cpus().length} cores; ` +
          `and the quiet window's ${PING_SAMPLES} PING samples a node, one node after another.`,
      }),
  });
  const probe = bundles.find((b) => b.name === 'probe');
  if (probe) {
    targets.push({
      what: 'probe Lambda bundle, minified',
      target: '<= 1,000,000 bytes',
      measured: `${probe.bytes.toLocaleString('en-US')} bytes`,
      met: probe.bytes <= 1_000_000,
    });
    const extra = probe.importMs - probe.bareNodeMs;
    targets.push({
      what: 'probe Lambda cold import as deployed, above bare `node -e 0`',
      target: 'well under 500 ms (taken as < 250 ms)',
      measured: ms(extra),
      met: extra < 250,
    });
  }
  const memory = clusters.find((c) => c.memory)?.memory;
  if (memory) {
    const heap = memory.heapAfterGcBytes.at(-1) ?? 0;
    const flat = Math.abs(memory.growthPer1000Bytes) < Math.min(1024 * 1024, heap * 0.05);
    targets.push({
      what: `heap after GC over ${memory.every * (memory.heapAfterGcBytes.length - 1)} warm sweeps`,
      target: 'flat: growth < 1 MiB and < 5% of the heap per 1000 sweeps',
      measured: `${kib(memory.growthPer1000Bytes)} per 1000 sweeps (heap ${mib(heap)})`,
      met: flat,
    });
  }
  return targets;
}

function renderMarkdown(
  mode: string,
  clusters: readonly ClusterResult[],
  bundles: readonly BundleFigures[],
  projections: readonly Projection[],
  targets: readonly Target[],
): string {
  const table = (header: readonly string[], rows: readonly (readonly string[])[]): string =>
    [
      `| ${header.join(' | ')} |`,
      `| ${header.map(() => '---').join(' | ')} |`,
      ...rows.map((row) => `| ${row.join(' | ')} |`),
    ].join('\n');
  const cpu = cpus();
  const memory = clusters.find((c) => c.memory);
  const lines = [
    `# slotwatch benchmark (${mode})`,
    '',
    `${new Date().toISOString()}, ${cpu.length} x ${cpu[0]?.model ?? 'unknown CPU'}, Node ${process.version}, loopback, TLS + AUTH. ` +
      `Reproduce: \`npm run bench${mode === 'quick' ? ' -- --quick' : ''}\`.`,
    '',
    '![sweep time and PING fidelity against node count](chart.svg)',
    '',
    '## Targets',
    '',
    table(
      ['what', 'target', 'measured', 'met', 'by how much, and why'],
      targets.map((t) => [
        t.what,
        t.target,
        t.measured,
        t.met === 'not measured' ? 'not measured' : t.met ? 'yes' : '**no**',
        t.note ?? '',
      ]),
    ),
    '',
    '## Sweeps',
    '',
    'Cold: a new prober each sweep (topology, TLS handshakes, AUTH included). Warm: one prober, connections reused, ' +
      'after one sweep to connect. CPU: user + system time of the sweeper process over the batch, per sweep. ' +
      'Datums and PutMetricData requests: what the CloudWatch sink builds from the last warm report (`METRICS_PER_NODE=all`).',
    '',
    table(
      [
        'cluster',
        'nodes',
        'cold p50',
        'cold p95',
        'cold CPU / sweep',
        'warm p50',
        'warm p95',
        'warm CPU / sweep',
        'servers CPU / warm sweep',
        'peak RSS',
        'datums / sweep',
        'PutMetricData / sweep',
        'failed sweeps',
      ],
      clusters.map((c) => [
        `${c.shards}x${c.replicas}`,
        String(c.nodes),
        ms(c.cold.p50Ms),
        ms(c.cold.p95Ms),
        ms(c.cold.cpuMsPerSweep),
        ms(c.warm.p50Ms),
        ms(c.warm.p95Ms),
        ms(c.warm.cpuMsPerSweep),
        ms(c.warm.serversCpuMsPerSweep),
        mib(c.maxRssBytes),
        String(c.datumsPerSweep),
        String(c.putMetricDataPerSweep),
        String(c.failedSweeps),
      ]),
    ),
    '',
    '## PING fidelity',
    '',
    `probe: the median of the \`ping\` latency the probe reported for the node over the warm sweeps (each itself the median of ${PING_SAMPLES} quiet round trips). ` +
      'redis-benchmark: `-c 1 -t ping --tls`, p50 of PING_MBULK (the RESP-array form the probe sends; PING_INLINE in brackets), run right after. ' +
      'Node floor: the median of bare `tls` socket round trips from the sweeper process, no ioredis, nothing else running.',
    '',
    table(
      [
        'cluster',
        'node',
        'probe p50',
        'redis-benchmark p50',
        'probe / redis-benchmark',
        'Node floor p50',
        'floor / redis-benchmark',
      ],
      clusters.flatMap((c) =>
        c.fidelity.map((f) => [
          `${c.shards}x${c.replicas}`,
          f.address,
          ms(f.probeP50Ms),
          `${ms(f.benchmarkP50Ms)} (${ms(f.benchmarkInlineP50Ms)})`,
          x(f.ratio),
          ms(f.nodeFloorP50Ms),
          x(f.floorRatio),
        ]),
      ),
    ),
    '',
    '## Lambda bundles',
    '',
    "esbuild with the CDK stack's own bundling settings (`BUNDLED_FUNCTION`): one CommonJS file, minified, target node24, AWS SDK inside, source map beside it. " +
      `Import: median wall time of \`node -e "require(bundle)"\` against \`node -e 0\`, interleaved, on this machine's Node ${process.version}; ` +
      `"as deployed" runs with the functions' \`NODE_OPTIONS=${LAMBDA_NODE_OPTIONS}\`, which reads the source map at load.`,
    '',
    table(
      [
        'Lambda',
        'bundle bytes',
        'source map bytes',
        'bare node',
        'import as deployed',
        'import without source maps',
      ],
      bundles.map((b) => [
        b.name,
        b.bytes.toLocaleString('en-US'),
        b.sourceMapBytes.toLocaleString('en-US'),
        ms(b.bareNodeMs),
        ms(b.importMs - b.bareNodeMs),
        ms(b.importNoSourceMapsMs - b.bareNodeMs),
      ]),
    ),
    '',
    ...(memory?.memory
      ? [
          '## Memory',
          '',
          `${memory.shards}x${memory.replicas}: heap in use after a full GC every ${memory.memory.every} warm sweeps (MiB): ` +
            memory.memory.heapAfterGcBytes.map((b) => (b / 1024 / 1024).toFixed(2)).join(', ') +
            `. Growth (least squares, first tenth left out): ${kib(memory.memory.growthPer1000Bytes)} per 1000 sweeps; ` +
            `peak RSS ${mib(memory.memory.maxRssBytes)}; failed sweeps ${memory.memory.failedSweeps}.`,
          '',
        ]
      : []),
    '## Projection',
    '',
    projectionTable(projections),
    '',
    projectionNotes(),
    '',
  ];
  return lines.join('\n');
}

export function projectionTable(projections: readonly Projection[]): string {
  const header = [
    'cluster',
    'nodes',
    'Lambda memory',
    'sweep here (fit)',
    'CPU / sweep (fit)',
    'sweep in Lambda',
    'warm invocation',
    'first sweep after a cold start, extra',
    'PutMetricData / sweep',
    'Lambda $ / month',
    'metrics $ / month',
  ];
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...projections
      .map((p) =>
        [
          `${p.scenario.label} (${p.scenario.shards}x${p.scenario.replicas})`,
          String(p.nodes),
          `${p.scenario.memoryMb} MB`,
          ms(p.localSweepMs),
          ms(p.cpuMsPerSweep),
          ms(p.lambdaSweepMs),
          ms(p.invocationMs),
          ms(p.coldExtraMs),
          String(p.putMetricDataPerSweep),
          dollars(p.lambdaDollars),
          dollars(p.metricsDollars),
        ].join(' | '),
      )
      .map((row) => `| ${row} |`),
  ].join('\n');
}

function projectionNotes(): string {
  return (
    'Lines fitted by least squares through the measured clusters (warm p50 wall time, CPU per warm and cold sweep). ' +
    'In Lambda, CPU is shared in proportion to memory (1,769 MB = one vCPU), so a sweep takes its CPU time divided by that share, ' +
    `plus the network's round trips (${ASSUMPTIONS.rttMs} ms each): ${PING_SAMPLES} quiet PING samples per node one after another, ` +
    `and ${ASSUMPTIONS.parallelRoundTrips} per node path in parallel; each PutMetricData request adds ${ASSUMPTIONS.publishRequestMs} ms. ` +
    'One invocation a minute (43,800 a month) at arm64 prices ($0.0000133334 per GB-s, $0.20 per million requests); ' +
    'metrics from `npm run cost-model` (`METRICS_PER_NODE=all`, one sweep a minute). This machine is x86; Graviton per-core speed differs.'
  );
}

function renderChartSvg(clusters: readonly ClusterResult[]): string {
  const points = (pick: (c: ClusterResult) => number): [number, number][] =>
    clusters.map((c) => [c.nodes, pick(c)]);
  return renderChart([
    {
      title: 'Sweep time',
      yLabel: 'ms',
      series: [
        { name: 'warm p50', colour: '#1f77b4', points: points((c) => c.warm.p50Ms) },
        { name: 'warm p95', colour: '#1f77b4', points: points((c) => c.warm.p95Ms), dashed: true },
        { name: 'cold p50', colour: '#ff7f0e', points: points((c) => c.cold.p50Ms) },
        {
          name: 'warm CPU / sweep',
          colour: '#2ca02c',
          points: points((c) => c.warm.cpuMsPerSweep),
        },
      ],
    },
    {
      title: 'PING fidelity (x redis-benchmark p50)',
      yLabel: 'ratio',
      series: [
        { name: 'probe', colour: '#d62728', points: points((c) => c.fidelityRatio) },
        {
          name: 'bare Node TLS floor',
          colour: '#7f7f7f',
          points: points((c) => c.floorRatio),
          dashed: true,
        },
      ],
      targets: [
        { x: 6, y: 1.5, label: '1.5x' },
        { x: 36, y: 2, label: '2x' },
      ],
    },
  ]);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { quick: { type: 'boolean', default: false }, out: { type: 'string' } },
  });
  const mode = values.quick ? 'quick' : 'full';
  const plan: Plan = PLANS[mode];
  const out = resolve(values.out ?? join(ROOT, 'bench/results', values.quick ? 'quick' : ''));
  const started = performance.now();

  say(`Bundling the Lambdas and timing their cold import (${plan.importRuns} runs each)`);
  const bundles = await measureBundles(ROOT, plan.importRuns);
  const clusters: ClusterResult[] = [];
  for (const [shards, replicas] of plan.sizes) {
    const withMemory = shards === plan.memory.shards && replicas === plan.memory.replicas;
    clusters.push(await measureCluster(shards, replicas, plan, withMemory));
  }
  const lines = fitCosts(
    clusters.map((c) => ({
      nodes: c.nodes,
      warmP50Ms: c.warm.p50Ms,
      warmCpuMsPerSweep: c.warm.cpuMsPerSweep,
      coldCpuMsPerSweep: c.cold.cpuMsPerSweep,
    })),
  );
  const projections = SCENARIOS.map((scenario) => project(lines, scenario));
  const targets = evaluate(clusters, bundles);
  const markdown = renderMarkdown(mode, clusters, bundles, projections, targets);

  await mkdir(out, { recursive: true });
  if (values.quick && values.out === undefined) await writeFile(join(out, '.gitignore'), '*\n');
  await writeFile(join(out, 'results.md'), markdown);
  await writeFile(
    join(out, 'results.json'),
    `${JSON.stringify({ generatedAt: new Date().toISOString(), mode, node: process.version, cpus: cpus().length, clusters, bundles, costLines: lines, projections, targets }, null, 2)}\n`,
  );
  await writeFile(join(out, 'chart.svg'), renderChartSvg(clusters));
  process.stdout.write(markdown);
  say(
    `\nwrote ${relative(process.cwd(), out) || '.'}/results.md, results.json and chart.svg in ${((performance.now() - started) / 1000).toFixed(0)} s`,
  );
}

main().catch((error: unknown) => {
  say(`bench failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
