/**
 * The scheduled probe (CONTRACT section 6). Thin on purpose: configuration is read once per cold
 * start, the runner (and its warm connections and cached token) lives across warm invocations,
 * and each invocation runs its sweeps within the time Lambda gives it. A configuration error
 * fails every invocation loudly, so the function's Errors alarm and missing data catch it.
 */
import type { Context } from 'aws-lambda';
import { loadConfig } from '../config.js';
import { runInvocation, type InvocationSummary } from '../invocation.js';
import { stdoutLogger } from '../log.js';
import { createSink } from '../metrics/sink.js';
import { ProbeRunner } from '../runner.js';
import { tokenSourceFor } from '../token-source.js';

const log = stdoutLogger();
let runtime: { runner: ProbeRunner; config: ReturnType<typeof loadConfig> } | undefined;

function coldStart(): NonNullable<typeof runtime> {
  try {
    const config = loadConfig({ env: process.env, defaultSink: 'cloudwatch' });
    const runner = new ProbeRunner(config, {
      sink: createSink(config.metricsSink, config.metricsNamespace),
      tokens: tokenSourceFor(config),
      log,
    });
    return { runner, config };
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
): Promise<InvocationSummary> {
  runtime ??= coldStart();
  return runInvocation(
    runtime.runner,
    runtime.config,
    () => context.getRemainingTimeInMillis(),
    log,
  );
}
