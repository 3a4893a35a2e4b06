/**
 * The reference for the probe's PING latency: `redis-benchmark -c 1 -t ping --tls` against the
 * same node. It authenticates as a throwaway ACL user allowed PING (and the CONFIG GET it sends
 * at start) and nothing else, created on that node just before and deleted right after, so the
 * cluster's AUTH token never appears on a command line; the throwaway password is scrubbed from
 * anything redis-benchmark prints before it is shown.
 */
import { spawn, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { onCpus } from './placement.js';

export const REDIS_BENCHMARK = '/usr/bin/redis-benchmark';
const BENCH_USER = 'slotwatch-bench';

/** redis-benchmark's figures for one test (milliseconds). */
export interface BenchmarkRow {
  readonly test: string;
  readonly rps: number;
  readonly avgMs: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
}

/** Parses `redis-benchmark --csv`: a header line, then one quoted row per test. */
export function parseBenchmarkCsv(text: string): BenchmarkRow[] {
  const lines = text.split(/\r?\n/).filter((line) => line.startsWith('"'));
  const [header, ...rows] = lines.map((line) =>
    line.split(',').map((cell) => cell.replace(/^"|"$/g, '')),
  );
  if (header === undefined) throw new Error('redis-benchmark printed no CSV header');
  const column = (name: string): number => {
    const index = header.indexOf(name);
    if (index < 0) throw new Error(`redis-benchmark's CSV has no "${name}" column`);
    return index;
  };
  const at = {
    test: column('test'),
    rps: column('rps'),
    avg: column('avg_latency_ms'),
    p50: column('p50_latency_ms'),
    p95: column('p95_latency_ms'),
    p99: column('p99_latency_ms'),
  };
  return rows.map((cells) => {
    const number = (index: number): number => {
      const value = Number(cells[index]);
      if (!Number.isFinite(value)) {
        throw new Error(`redis-benchmark's CSV has a non-numeric cell: ${cells.join(',')}`);
      }
      return value;
    };
    return {
      test: cells[at.test] ?? '',
      rps: number(at.rps),
      avgMs: number(at.avg),
      p50Ms: number(at.p50),
      p95Ms: number(at.p95),
      p99Ms: number(at.p99),
    };
  });
}

export interface BenchmarkTarget {
  readonly port: number;
  readonly caFile: string;
  /** An admin connection to that very node (creates and deletes the throwaway user). */
  readonly admin: Redis;
  readonly requests: number;
  /** The cores to run redis-benchmark on (see placement.ts); anywhere when undefined. */
  readonly cpus?: string;
}

/** PING_INLINE and PING_MBULK from one client over TLS. */
export async function benchmarkPing(target: BenchmarkTarget): Promise<BenchmarkRow[]> {
  const password = randomBytes(16).toString('hex');
  await target.admin.call(
    'ACL',
    'SETUSER',
    BENCH_USER,
    'reset',
    'on',
    `>${password}`,
    '+ping',
    '+config|get',
  );
  try {
    const args = [
      ...['-h', '127.0.0.1', '-p', String(target.port), '--tls', '--cacert', target.caFile],
      ...['--user', BENCH_USER, '-a', password],
      ...['-c', '1', '-n', String(target.requests), '-t', 'ping', '--csv'],
    ];
    const [command, commandArgs] =
      target.cpus === undefined
        ? [REDIS_BENCHMARK, args]
        : onCpus(target.cpus, REDIS_BENCHMARK, args);
    const { code, stdout, stderr } = await run(command, commandArgs);
    const scrub = (text: string): string => text.split(password).join('[redacted]');
    if (code !== 0) {
      throw new Error(`redis-benchmark exited with ${code}: ${scrub(stderr || stdout).trim()}`);
    }
    return parseBenchmarkCsv(stdout);
  } finally {
    await target.admin.call('ACL', 'DELUSER', BENCH_USER);
  }
}

/** Runs `command` to its end and collects what it printed. */
export function run(
  command: string,
  args: readonly string[],
  options: Pick<SpawnOptions, 'cwd' | 'env'> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
