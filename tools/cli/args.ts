/** Flags shared by the CLI commands, mapped onto the CONTRACT's environment variables. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError } from '../../lambda/errors.js';
import { ENV, type ConfigSources, type EnvName } from '../../lambda/config.js';

/** Flags that override a variable: `--timeout-ms 500` beats PROBE_TIMEOUT_MS. */
export const SETTING_FLAGS = {
  endpoint: ENV.endpoint,
  'cluster-name': ENV.clusterName,
  tls: ENV.tls,
  'ca-file': ENV.caFile,
  username: ENV.username,
  'auth-mode': ENV.authMode,
  'replication-group-id': ENV.replicationGroupId,
  'timeout-ms': ENV.timeoutMs,
  'deadline-ms': ENV.deadlineMs,
  sink: ENV.metricsSink,
  namespace: ENV.metricsNamespace,
} as const satisfies Record<string, EnvName>;

export type Options = NonNullable<ParseArgsConfig['options']>;

const SETTING_OPTIONS: Options = Object.fromEntries(
  Object.keys(SETTING_FLAGS).map((flag) => [flag, { type: 'string' }]),
);

/** Parses argv; an unknown flag or a missing value is a ConfigError naming it. */
export function parseFlags(
  argv: readonly string[],
  options: Options,
): { values: Record<string, string | boolean | undefined>; flags: ConfigSources['flags'] } {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { ...SETTING_OPTIONS, ...options },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    const message = error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
    const flag = /'(-[^']*)'/.exec(message)?.[1] ?? 'arguments';
    throw new ConfigError(flag, `bad command line: ${message}`);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const flags: NonNullable<ConfigSources['flags']> = {};
  for (const [flag, variable] of Object.entries(SETTING_FLAGS)) {
    const value = values[flag];
    if (typeof value === 'string') flags[variable] = { value, flag: `--${flag}` };
  }
  return { values, flags };
}

/** A whole number from a flag, within bounds, or a ConfigError naming the flag. */
export function integerFlag(
  values: Record<string, string | boolean | undefined>,
  flag: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = values[flag];
  if (raw === undefined) return fallback;
  if (
    typeof raw !== 'string' ||
    !/^\d+$/.test(raw.trim()) ||
    Number(raw) < min ||
    Number(raw) > max
  ) {
    throw new ConfigError(
      `--${flag}`,
      `--${flag} must be a whole number between ${min} and ${max}, got ${JSON.stringify(raw)}`,
    );
  }
  return Number(raw);
}
