/**
 * What every fault-matrix case checks besides the report: no unhandled rejection or uncaught
 * exception, no socket or timer left holding the event loop, and, run as the CLI, a process
 * that exits by itself right after its report. Plus the fault props: a listener that accepts and
 * never answers.
 */
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import type { SweepReport } from '../../lambda/report.js';
import type { ClusterProber } from '../../lambda/sweep.js';
import { TEST_TIMEOUTS, jsonReports, portOf, runCli, waitFor, type CliRun } from './cluster.js';

export const DEADLINE_MS = Number(TEST_TIMEOUTS.PROBE_DEADLINE_MS);
/** What "within the deadline" allows for timers firing late on a loaded two-core machine. */
export const MARGIN_MS = 250;

/** A sweep, checked against its deadline every time. */
export async function sweepWithin(
  prober: ClusterProber,
  deadlineMs = DEADLINE_MS,
): Promise<SweepReport> {
  const started = performance.now();
  const report = await prober.sweep();
  expect(performance.now() - started).toBeLessThan(deadlineMs + MARGIN_MS);
  expect(report.durationMs).toBeLessThan(deadlineMs + MARGIN_MS);
  return report;
}

/** Sweeps until one passes (and `also` holds): the cluster is back once the fault cleared. */
export function sweepUntilOk(
  prober: ClusterProber,
  what: string,
  also: (report: SweepReport) => boolean = () => true,
  timeoutMs = 30_000,
): Promise<SweepReport> {
  return waitFor(
    what,
    async () => {
      const report = await sweepWithin(prober);
      return report.ok && also(report) ? report : undefined;
    },
    timeoutMs,
  );
}

export const byPort = (report: SweepReport, port: number) =>
  report.nodes.find((n) => portOf(n.address) === port);

/** Ports of the nodes the report failed, sorted. */
export const failedPorts = (report: SweepReport): number[] =>
  report.nodes
    .filter((n) => !n.ok)
    .map((n) => portOf(n.address))
    .sort((a, b) => a - b);

/**
 * Records unhandled rejections and uncaught exceptions for the whole test file; after each test,
 * asserts that none happened during it.
 */
export function recordProcessFaults(): void {
  const events: string[] = [];
  const onRejection = (reason: unknown): void => {
    events.push(`unhandledRejection: ${reason instanceof Error ? reason.stack : String(reason)}`);
  };
  // The monitor only observes: the process still fails the way it would without it.
  const onException = (error: Error): void => {
    events.push(`uncaughtException: ${error.stack ?? error.message}`);
  };
  beforeAll(() => {
    process.on('unhandledRejection', onRejection);
    process.on('uncaughtExceptionMonitor', onException);
  });
  afterAll(() => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtExceptionMonitor', onException);
  });
  afterEach(() => {
    expect(events.splice(0)).toEqual([]);
  });
}

/** Resource kinds a leak would show as: sockets, servers, connects and lookups in flight, timers. */
const WATCHED = new Set([
  'TCPSocketWrap',
  'TCPServerWrap',
  'TCPConnectWrap',
  'GetAddrInfoReqWrap',
  'Timeout',
  'Immediate',
]);

/** The watched resources that keep this process's event loop alive (unref'd ones do not count). */
export function liveResources(): string[] {
  return process
    .getActiveResourcesInfo()
    .filter((kind) => WATCHED.has(kind))
    .sort();
}

/**
 * Asserts that no kind of resource outnumbers `baseline` any more: whatever the work under test
 * opened is gone (what else ended meanwhile does not matter). Closing a socket takes a few ticks,
 * and ioredis ends a dropped one after 100 ms, so this waits up to `withinMs` first.
 */
export async function expectResourcesBackTo(
  baseline: readonly string[],
  withinMs = 2000,
): Promise<void> {
  const until = performance.now() + withinMs;
  let extra = beyond(liveResources(), baseline);
  while (extra.length > 0 && performance.now() < until) {
    await sleep(25);
    extra = beyond(liveResources(), baseline);
  }
  expect(extra, 'resources left open').toEqual([]);
}

/** The items of `now` that `baseline` does not account for (multiset difference). */
function beyond(now: readonly string[], baseline: readonly string[]): string[] {
  const left = [...baseline];
  return now.filter((kind) => {
    const index = left.indexOf(kind);
    if (index === -1) return true;
    left.splice(index, 1);
    return false;
  });
}

export interface StuckListener {
  readonly port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Connections still open: the prober must hang up on every one it gave up on. */
  readonly open: number;
  close(): Promise<void>;
}

export interface StuckListenerOptions {
  /**
   * Complete the TLS handshake with this certificate and key (PEM files), and only then go
   * silent, as a TLS-terminating proxy whose backend is gone. @default silent from the start
   */
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
}

/**
 * A listener that accepts, reads whatever comes and never answers: without `tls`, a TLS
 * handshake that never completes; with it, a connection that never answers a command.
 */
export async function startStuckListener(
  options: StuckListenerOptions = {},
): Promise<StuckListener> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server: Server = options.tls
    ? createTlsServer({
        cert: readFileSync(options.tls.certFile),
        key: readFileSync(options.tls.keyFile),
      })
    : createServer();
  // 'connection' is the raw TCP socket, for a TLS server too: what the client must close.
  server.on('connection', (socket: Socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    // Reading keeps the peer's FIN visible, so a client that hangs up closes the socket here too.
    if (!options.tls) socket.resume();
  });
  server.on('secureConnection', (socket: Socket) => {
    socket.on('error', () => undefined);
    socket.resume();
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    get accepted() {
      return accepted;
    },
    get open() {
      return sockets.size;
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** How long the CLI may take to exit after printing its last report: teardown, not a timer. */
export const EXIT_LAG_MS = 1500;

export interface ProbeCliOutcome {
  readonly run: CliRun;
  readonly report: SweepReport;
  /** The ProbeSuccess value of the cluster-level EMF document the CLI wrote to stderr. */
  readonly probeSuccess: number | undefined;
}

/**
 * `npm run --silent probe -- --json` as a subprocess, with EMF metrics (on stderr under --json)
 * unless `env` says otherwise:
 * asserts it printed one report and exited by itself promptly after it, with the exit status the
 * report calls for, and that the token never appeared.
 */
export async function runProbeCli(
  env: Record<string, string>,
  secrets: readonly string[],
): Promise<ProbeCliOutcome> {
  const run = await runCli('probe', ['--json'], { METRICS_SINK: 'emf', ...env }, undefined, {
    killAfterMs: 30_000,
  });
  expect(run.killed, `the CLI did not exit; stderr: ${run.stderr}`).toBe(false);
  const reports = jsonReports(run.stdout);
  expect(reports).toHaveLength(1);
  const report = reports[0] as SweepReport;
  expect(run.code).toBe(report.ok ? 0 : 1);
  expect(run.ms - (run.lastStdoutMs ?? 0)).toBeLessThan(EXIT_LAG_MS);
  for (const secret of secrets) {
    expect(run.stdout).not.toContain(secret);
    expect(run.stderr).not.toContain(secret);
  }
  return { run, report, probeSuccess: emfProbeSuccess(run.stderr) };
}

function emfProbeSuccess(stderr: string): number | undefined {
  for (const line of stderr.split('\n')) {
    if (!line.startsWith('{')) continue;
    const document = JSON.parse(line) as Record<string, unknown>;
    const clusterLevel = document.Node === undefined && document.Role === undefined;
    if (document._aws !== undefined && clusterLevel && typeof document.ProbeSuccess === 'number')
      return document.ProbeSuccess;
  }
  return undefined;
}
