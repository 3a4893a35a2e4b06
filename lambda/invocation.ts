/**
 * One scheduled invocation: PROBE_SWEEPS_PER_INVOCATION sweeps, PROBE_SWEEP_INTERVAL_MS apart,
 * each fitted into the time the Lambda has left (minus a safety margin and room to publish).
 * Metrics of every sweep are published before the next one starts; if any publishing failed,
 * the invocation fails after the last sweep, so the function's Errors alarm sees it.
 */
import type { ProbeConfig } from './config.js';
import { MetricsPublishError } from './errors.js';
import type { Logger } from './log.js';
import type { ProbeRunner } from './runner.js';

/** Kept free at the end of the invocation, so it never runs into the Lambda timeout. */
export const SAFETY_MARGIN_MS = 1000;
/** Reserved after each sweep for publishing its metrics. */
export const PUBLISH_RESERVE_MS = 3000;

export interface InvocationSummary {
  readonly cluster: string;
  readonly ok: boolean;
  readonly sweeps: readonly {
    readonly startedAt: string;
    readonly ok: boolean;
    readonly durationMs: number;
    readonly healthyNodes: number;
    readonly totalNodes: number;
  }[];
  /** Sweeps not run because the invocation had too little time left. */
  readonly skippedSweeps: number;
}

type InvocationConfig = Pick<
  ProbeConfig,
  'clusterName' | 'timeoutMs' | 'deadlineMs' | 'sweepsPerInvocation' | 'sweepIntervalMs'
>;

export async function runInvocation(
  runner: ProbeRunner,
  config: InvocationConfig,
  remainingMs: () => number,
  log: Logger,
): Promise<InvocationSummary> {
  const sweeps: InvocationSummary['sweeps'][number][] = [];
  const publishErrors: Error[] = [];
  const start = performance.now();
  let skippedSweeps = 0;
  for (let i = 0; i < config.sweepsPerInvocation; i++) {
    const wait = start + i * config.sweepIntervalMs - performance.now();
    const budget = remainingMs() - Math.max(0, wait) - SAFETY_MARGIN_MS - PUBLISH_RESERVE_MS;
    // A sweep needs at least a couple of timeouts (topology, then the nodes) to mean anything.
    if (budget < 2 * config.timeoutMs) {
      skippedSweeps = config.sweepsPerInvocation - i;
      log.log('warn', 'not enough time left in this invocation for more sweeps', {
        cluster: config.clusterName,
        skippedSweeps,
        remainingMs: remainingMs(),
      });
      break;
    }
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const { report, publishError } = await runner.sweep({
      deadlineMs: Math.min(config.deadlineMs, budget),
      publishTimeoutMs: Math.max(1, remainingMs() - SAFETY_MARGIN_MS),
    });
    if (publishError) publishErrors.push(publishError);
    sweeps.push({
      startedAt: report.startedAt,
      ok: report.ok,
      durationMs: report.durationMs,
      healthyNodes: report.nodes.filter((n) => n.ok).length,
      totalNodes: report.nodes.length,
    });
  }
  if (publishErrors.length > 0) {
    throw new MetricsPublishError(
      `metrics of ${publishErrors.length} of ${sweeps.length} sweeps were not published: ${publishErrors[0]?.message ?? ''}`,
      { cause: publishErrors[0] },
    );
  }
  return { cluster: config.clusterName, ok: sweeps.every((s) => s.ok), sweeps, skippedSweeps };
}
