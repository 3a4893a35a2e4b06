/**
 * The probe under measurement, in a process of its own so that its CPU time and memory are its
 * own: `node --expose-gc --import tsx bench/sweeper.ts`, with the cluster's CLUSTER_* variables
 * in its environment (never on its command line). It reads one JSON request a line on stdin and
 * answers each with one JSON line on stdout; see SweeperRequest and the answers below.
 */
import { createInterface } from 'node:readline';
import { connect } from 'node:tls';
import { authArguments } from '../lambda/cluster/connect.js';
import { loadConfig, type ProbeConfig } from '../lambda/config.js';
import { toPutMetricDataBatches } from '../lambda/metrics/cloudwatch.js';
import { buildDatums } from '../lambda/metrics/datums.js';
import type { SweepReport } from '../lambda/report.js';
import { ClusterProber } from '../lambda/sweep.js';

export type SweeperRequest =
  | { readonly cmd: 'cold'; readonly sweeps: number }
  | { readonly cmd: 'warm'; readonly sweeps: number }
  | { readonly cmd: 'memory'; readonly sweeps: number; readonly every: number }
  | { readonly cmd: 'floor'; readonly port: number; readonly samples: number }
  | { readonly cmd: 'exit' };

/** A batch of sweeps: their durations, and the process's CPU time and memory over the batch. */
export interface SweepBatch {
  readonly durationsMs: readonly number[];
  readonly failedSweeps: number;
  readonly cpuMsPerSweep: number;
  /** Peak resident set of the process so far (bytes). */
  readonly maxRssBytes: number;
  /** Each node's reported PING latency in every sweep, by address. */
  readonly pingMs: Readonly<Record<string, readonly number[]>>;
  readonly datumsPerSweep: number;
  readonly requestsPerSweep: number;
}

export interface MemorySeries {
  /** Heap in use after a full GC, every `every` sweeps (the first point before the first sweep). */
  readonly heapAfterGcBytes: readonly number[];
  readonly every: number;
  readonly maxRssBytes: number;
  readonly failedSweeps: number;
}

/** Round trips of bare PING over a Node TLS socket without ioredis: the runtime's own floor. */
export interface FloorSamples {
  readonly samplesMs: readonly number[];
}

const config: ProbeConfig = loadConfig({ env: process.env, defaultSink: 'none' });
const gc = (globalThis as { gc?: () => void }).gc;

function recordPings(pingMs: Record<string, number[]>, report: SweepReport): void {
  for (const node of report.nodes) {
    const ping = node.probes.ping;
    if (ping?.ok) (pingMs[node.address] ??= []).push(ping.latencyMs);
  }
}

async function batch(sweeps: number, cold: boolean): Promise<SweepBatch> {
  const durationsMs: number[] = [];
  const pingMs: Record<string, number[]> = {};
  let failedSweeps = 0;
  let last: SweepReport | undefined;
  let warm: ClusterProber | undefined;
  if (!cold) {
    warm = new ClusterProber(config);
    await warm.sweep(); // connects; the batch measures the sweeps after it
  }
  const cpuBefore = process.cpuUsage();
  for (let i = 0; i < sweeps; i++) {
    const prober = warm ?? new ClusterProber(config);
    const report = await prober.sweep();
    if (cold) prober.close();
    durationsMs.push(report.durationMs);
    if (!report.ok) failedSweeps++;
    recordPings(pingMs, report);
    last = report;
  }
  const cpu = process.cpuUsage(cpuBefore);
  warm?.close();
  const datums = last ? buildDatums(last, { highResolution: false, perNode: 'all' }) : [];
  return {
    durationsMs,
    failedSweeps,
    cpuMsPerSweep: (cpu.user + cpu.system) / 1000 / Math.max(1, sweeps),
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    pingMs,
    datumsPerSweep: datums.length,
    requestsPerSweep: toPutMetricDataBatches(config.metricsNamespace, datums).length,
  };
}

async function memory(sweeps: number, every: number): Promise<MemorySeries> {
  if (!gc) throw new Error('the sweeper needs node --expose-gc for the memory series');
  const prober = new ClusterProber(config);
  await prober.sweep();
  const heapAfterGcBytes: number[] = [];
  let failedSweeps = 0;
  const sample = (): void => {
    gc();
    heapAfterGcBytes.push(process.memoryUsage().heapUsed);
  };
  sample();
  for (let i = 1; i <= sweeps; i++) {
    if (!(await prober.sweep()).ok) failedSweeps++;
    if (i % every === 0) sample();
  }
  prober.close();
  return {
    heapAfterGcBytes,
    every,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    failedSweeps,
  };
}

/** A command in RESP, as a client writes it. */
const resp = (args: readonly string[]): string =>
  `*${args.length}\r\n${args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join('')}`;

/** AUTH, then `samples` PINGs one after another on a bare TLS socket, each timed write to reply. */
async function floor(port: number, samples: number): Promise<FloorSamples> {
  const socket = connect({
    host: '127.0.0.1',
    port,
    ...(config.caPem && { ca: [config.caPem] }),
  });
  socket.setNoDelay(true);
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', resolve);
      socket.once('error', reject);
    });
    const ask = (command: string): Promise<{ reply: string; ms: number }> =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('floor: no reply within 1 s')), 1000);
        const start = performance.now();
        socket.once('data', (data: Buffer) => {
          clearTimeout(timer);
          resolve({ reply: data.toString(), ms: performance.now() - start });
        });
        socket.write(command);
      });
    if (config.authToken) {
      const auth = await ask(resp(['AUTH', ...authArguments(config.username, config.authToken)]));
      if (!auth.reply.startsWith('+OK')) throw new Error('floor: AUTH was refused');
    }
    const samplesMs: number[] = [];
    for (let i = 0; i < samples; i++) {
      const { reply, ms } = await ask(resp(['PING']));
      if (!reply.startsWith('+PONG')) throw new Error('floor: PING did not answer PONG');
      samplesMs.push(ms);
    }
    return { samplesMs };
  } finally {
    socket.destroy();
  }
}

async function answer(request: SweeperRequest): Promise<unknown> {
  switch (request.cmd) {
    case 'cold':
      return batch(request.sweeps, true);
    case 'warm':
      return batch(request.sweeps, false);
    case 'memory':
      return memory(request.sweeps, request.every);
    case 'floor':
      return floor(request.port, request.samples);
    case 'exit':
      process.exit(0);
  }
}

for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() === '') continue;
  try {
    const result = await answer(JSON.parse(line) as SweeperRequest);
    process.stdout.write(`${JSON.stringify({ ok: true, result })}\n`);
  } catch (error) {
    process.stdout.write(
      `${JSON.stringify({ ok: false, error: error instanceof Error ? error.message : String(error) })}\n`,
    );
  }
}
