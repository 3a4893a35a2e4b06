/**
 * The scheduled failover drill (CONTRACT section 6). Thin on purpose: configuration is read once
 * per cold start (trigger `elasticache` by default), the shards are taken in turn (unless
 * DRILL_SHARD names one), the drill's time limit is fitted into the invocation's remaining time,
 * and DrillInProgress is 1 from the start until the drill has ended, whichever way it ends.
 */
import type { Context } from 'aws-lambda';
import { loadConfig, type ProbeConfig } from '../config.js';
import { drillDatums, drillInProgressDatum } from '../drill/datums.js';
import { runDrill, withoutSamples } from '../drill/engine.js';
import { loadDrillSettings, type DrillSettings } from '../drill/settings.js';
import { createTrigger } from '../drill/triggers/index.js';
import type { DrillReport } from '../drill/types.js';
import { MetricsPublishError } from '../errors.js';
import { stdoutLogger } from '../log.js';
import type { MetricDatum, MetricsSink } from '../metrics/datum.js';
import { createSink } from '../metrics/sink.js';
import { tokenSourceFor, type TokenSource } from '../token-source.js';

/** Kept free after the time limit: stopping, the trigger's last step, clean-up, publishing. */
export const RESERVE_MS = 20_000;
/** Per probe timeout, for the clean-up's few bounded commands. */
export const RESERVE_TIMEOUTS = 10;
/** A drill shorter than this cannot see a failover through. */
export const MIN_TIME_LIMIT_MS = 10_000;
const PUBLISH_TIMEOUT_MS = 5_000;
const TOKEN_TIMEOUT_MS = 10_000;

const log = stdoutLogger();

interface Runtime {
  readonly config: ProbeConfig;
  readonly settings: DrillSettings;
  readonly sink: MetricsSink;
  readonly tokens: TokenSource;
}
let runtime: Runtime | undefined;

function coldStart(): Runtime {
  try {
    const config = loadConfig({ env: process.env, defaultSink: 'cloudwatch' });
    const settings = loadDrillSettings(process.env, {}, 'elasticache');
    return {
      config,
      settings,
      sink: createSink(config.metricsSink, config.metricsNamespace),
      tokens: tokenSourceFor(config),
    };
  } catch (error) {
    log.log('error', 'configuration error', {
      error: error instanceof Error ? error.message : String(error),
    });
    throw error;
  }
}

export async function handler(
  _event: unknown,
  context: Pick<Context, 'getRemainingTimeInMillis'>,
): Promise<DrillReport> {
  runtime ??= coldStart();
  const { config, settings, sink, tokens } = runtime;
  const reserveMs = RESERVE_MS + RESERVE_TIMEOUTS * config.timeoutMs;
  const timeLimitMs = Math.min(
    settings.timeLimitMs,
    context.getRemainingTimeInMillis() - reserveMs,
  );
  if (timeLimitMs < MIN_TIME_LIMIT_MS) {
    throw new Error(
      `the function's timeout leaves ${timeLimitMs} ms for the drill (${reserveMs} ms are kept for clean-up): raise it to at least ${MIN_TIME_LIMIT_MS + reserveMs} ms plus DRILL_TIME_LIMIT_MS`,
    );
  }
  const failures: Error[] = [];
  const publish = async (datums: readonly MetricDatum[]): Promise<void> => {
    try {
      await sink.publish(datums, { signal: AbortSignal.timeout(PUBLISH_TIMEOUT_MS) });
    } catch (error) {
      const failure = error instanceof Error ? error : new MetricsPublishError(String(error));
      log.log('error', 'metrics not published', {
        cluster: config.clusterName,
        error: failure.message,
      });
      failures.push(failure);
    }
  };
  const { highResolution, clusterName } = config;

  await publish([drillInProgressDatum(clusterName, true, new Date(), highResolution)]);
  let report: DrillReport;
  try {
    const trigger = await createTrigger(settings.trigger, settings);
    const token = await tokens.current(AbortSignal.timeout(TOKEN_TIMEOUT_MS));
    report = withoutSamples(
      await runDrill({
        config,
        ...(token !== undefined && { token }),
        tokens,
        trigger,
        ...(settings.shard !== undefined ? { shard: settings.shard } : { rotate: true }),
        timeLimitMs,
        writeIntervalMs: settings.writeIntervalMs,
        readIntervalMs: settings.readIntervalMs,
      }),
    );
    await publish(drillDatums(report, highResolution));
  } finally {
    await publish([drillInProgressDatum(clusterName, false, new Date(), highResolution)]);
  }
  log.log(report.recovered ? 'info' : 'warn', 'drill', { ...report });
  if (failures.length > 0) {
    throw new MetricsPublishError(
      `${failures.length} metric publications failed: ${failures[0]?.message ?? ''}`,
      { cause: failures[0] },
    );
  }
  return report;
}
