/**
 * One sweep with everything around it that the Lambda handler and the CLI share: the token
 * (from Secrets Manager, re-read once when AUTH fails, for rotations; or an IAM auth token,
 * re-signed before it expires), the warm prober, metrics to the configured sink, and one
 * structured log line. A sweep that could not run at all (no token, no topology) is still a
 * report with ok: false, so ProbeSuccess 0 is always published.
 */
import type { ProbeConfig } from './config.js';
import { MetricsPublishError, SecretError } from './errors.js';
import type { Logger } from './log.js';
import type { MetricsSink, PublishResult } from './metrics/datum.js';
import { buildDatums } from './metrics/datums.js';
import { failedSweepReport, type SweepReport } from './report.js';
import { POOL_DEFAULTS } from './cluster/pool.js';
import { IamTokenError } from './iam-auth-token.js';
import { ClusterProber } from './sweep.js';
import type { TokenSource } from './token-source.js';

export interface RunnerDeps {
  readonly sink: MetricsSink;
  readonly tokens: TokenSource;
  readonly log: Logger;
}

export interface SweepRun {
  readonly deadlineMs: number;
  /** How long publishing may take before it is abandoned. */
  readonly publishTimeoutMs: number;
}

export interface SweepOutcome {
  readonly report: SweepReport;
  readonly published?: PublishResult;
  readonly publishError?: Error;
}

/** A failed AUTH shows as `auth: …` on the topology read or on a node. */
const AUTH_FAILURE = /^(topology: |not attempted: |not probed: topology: )?auth: /;

export function isAuthFailure(report: SweepReport): boolean {
  if (report.error !== undefined && AUTH_FAILURE.test(report.error)) return true;
  return report.nodes.some((node) =>
    Object.values(node.probes).some((p) => !p.ok && AUTH_FAILURE.test(p.error)),
  );
}

/** Re-read a secret at most this often when AUTH keeps failing (it costs an API call). */
const MIN_REFRESH_INTERVAL_MS = 30_000;

export class ProbeRunner {
  readonly #config: ProbeConfig;
  readonly #deps: RunnerDeps;
  #prober: ClusterProber | undefined;
  #lastRefreshAt = Number.NEGATIVE_INFINITY;

  constructor(config: ProbeConfig, deps: RunnerDeps) {
    this.#config = config;
    this.#deps = deps;
  }

  close(): void {
    this.#prober?.close();
    this.#prober = undefined;
  }

  async sweep(run: SweepRun): Promise<SweepOutcome> {
    const report = await this.#sweepWithToken(run.deadlineMs);
    this.#logSweep(report);
    const datums = buildDatums(report, {
      highResolution: this.#config.highResolution,
      perNode: this.#config.perNodeMetrics,
    });
    try {
      const published = await this.#deps.sink.publish(datums, {
        signal: AbortSignal.timeout(Math.max(1, Math.floor(run.publishTimeoutMs))),
      });
      return { report, published };
    } catch (error) {
      const publishError = error instanceof Error ? error : new MetricsPublishError(String(error));
      this.#deps.log.log('error', 'metrics not published', {
        cluster: report.cluster,
        error: publishError.message,
      });
      return { report, publishError };
    }
  }

  async #sweepWithToken(deadlineMs: number): Promise<SweepReport> {
    const startedAt = new Date();
    const start = performance.now();
    const remaining = (): number => deadlineMs - (performance.now() - start);
    try {
      let report = await (
        await this.#currentProber(remaining())
      ).sweep({ deadlineMs: remaining() });
      if (isAuthFailure(report) && (await this.#tokenChanged(remaining()))) {
        this.#deps.log.log(
          'info',
          'AUTH failed and a new token is available: sweeping again with it',
          {
            cluster: this.#config.clusterName,
          },
        );
        if (remaining() > this.#config.timeoutMs) {
          report = await (
            await this.#currentProber(remaining())
          ).sweep({ deadlineMs: remaining() });
        }
      }
      return report;
    } catch (error) {
      if (!(error instanceof SecretError)) throw error;
      return failedSweepReport(
        this.#config.clusterName,
        startedAt,
        performance.now() - start,
        `${error instanceof IamTokenError ? 'iam' : 'secret'}: ${error.message}`,
      );
    }
  }

  /**
   * The warm prober. Its connections ask the token source at every AUTH, so a rotated secret or a
   * re-signed IAM token is used from the next AUTH on, and connections already authenticated are
   * kept (IAM ones AUTH again as the source says).
   */
  async #currentProber(budgetMs: number): Promise<ClusterProber> {
    // A token that cannot be had (unreadable secret, no credentials) fails the sweep up front.
    await this.#deps.tokens.current(AbortSignal.timeout(Math.max(1, Math.floor(budgetMs))));
    const { reauthAfterMs } = this.#deps.tokens;
    this.#prober ??= new ClusterProber(this.#config, {
      ...POOL_DEFAULTS,
      tokens: this.#deps.tokens,
      ...(reauthAfterMs !== undefined && { reauthAfterMs }),
    });
    return this.#prober;
  }

  async #tokenChanged(budgetMs: number): Promise<boolean> {
    const now = performance.now();
    if (now - this.#lastRefreshAt < MIN_REFRESH_INTERVAL_MS) return false;
    this.#lastRefreshAt = now;
    return this.#deps.tokens.refresh(AbortSignal.timeout(Math.max(1, Math.floor(budgetMs))));
  }

  #logSweep(report: SweepReport): void {
    this.#deps.log.log(report.ok ? 'info' : 'warn', 'sweep', sweepSummary(report));
  }
}

/** The fields of the per-sweep log line: the summary, and the failures with their causes. */
export function sweepSummary(report: SweepReport): Record<string, unknown> {
  const failedNodes = report.nodes
    .filter((node) => !node.ok)
    .map((node) => ({
      address: node.address,
      role: node.role,
      shard: node.shard,
      errors: Object.fromEntries(
        Object.entries(node.probes).flatMap(([probe, result]) =>
          result.ok || result.skipped ? [] : [[probe, result.error]],
        ),
      ),
    }));
  const failedChecks = Object.fromEntries(
    Object.entries(report.checks).filter(([, check]) => !check.ok),
  );
  return {
    cluster: report.cluster,
    ok: report.ok,
    startedAt: report.startedAt,
    durationMs: report.durationMs,
    healthyNodes: report.nodes.filter((n) => n.ok).length,
    totalNodes: report.nodes.length,
    reconnects: report.reconnects,
    ...(failedNodes.length > 0 && { failedNodes }),
    ...(Object.keys(failedChecks).length > 0 && { failedChecks }),
    ...(report.error !== undefined && { error: report.error }),
  };
}
