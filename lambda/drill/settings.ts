/**
 * The drill's own settings (environment, or CLI flags that override it), parsed once into a typed
 * object. Same rules as lambda/config.ts: defaults first, then validation, and every bad value is
 * a ConfigError naming the variable (or flag) and the value.
 */
import { parseReplicationGroupId } from '../config.js';
import { ConfigError } from '../errors.js';
import { TRIGGERS, type TriggerName } from './types.js';

export const DRILL_ENV = {
  trigger: 'DRILL_TRIGGER',
  shard: 'DRILL_SHARD',
  timeLimitMs: 'DRILL_TIME_LIMIT_MS',
  writeIntervalMs: 'DRILL_WRITE_INTERVAL_MS',
  readIntervalMs: 'DRILL_READ_INTERVAL_MS',
  replicationGroupId: 'ELASTICACHE_REPLICATION_GROUP_ID',
} as const;
export type DrillEnvName = (typeof DRILL_ENV)[keyof typeof DRILL_ENV];

export interface DrillSettings {
  readonly trigger: TriggerName;
  /** The shard to drill, as the sweep report names it; absent: the caller decides. */
  readonly shard?: string;
  /** The whole drill, trigger to recovery, must fit in this. */
  readonly timeLimitMs: number;
  readonly writeIntervalMs: number;
  readonly readIntervalMs: number;
  /** Required by the `elasticache` trigger. */
  readonly replicationGroupId?: string;
}

export const DRILL_DEFAULTS = {
  trigger: 'cluster-failover',
  timeLimitMs: 120_000,
  writeIntervalMs: 50,
  readIntervalMs: 100,
} as const satisfies Partial<DrillSettings>;

/** Bounds of the numeric settings: a drill shorter than a second cannot see a failover. */
export const DRILL_LIMITS = {
  timeLimitMs: { min: 1000, max: 900_000 },
  // Coarser than 100 ms and the write outage is measured too roughly to compare drills.
  writeIntervalMs: { min: 10, max: 100 },
  readIntervalMs: { min: 10, max: 10_000 },
} as const;

export type DrillFlags = Partial<Record<DrillEnvName, { value: string; flag: string }>>;

interface Setting {
  readonly value: string;
  readonly origin: string;
}

const quote = (value: string): string => JSON.stringify(value);

export function loadDrillSettings(
  env: Readonly<Record<string, string | undefined>>,
  flags: DrillFlags = {},
  defaultTrigger: TriggerName = DRILL_DEFAULTS.trigger,
): DrillSettings {
  const read = (name: DrillEnvName): Setting | undefined => {
    const flag = flags[name];
    if (flag !== undefined) return { value: flag.value.trim(), origin: flag.flag };
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') return undefined;
    return { value: raw.trim(), origin: name };
  };

  const trigger = parseTrigger(read(DRILL_ENV.trigger), defaultTrigger);
  const groupSetting = read(DRILL_ENV.replicationGroupId);
  if (trigger === 'elasticache' && groupSetting === undefined) {
    throw new ConfigError(
      DRILL_ENV.replicationGroupId,
      `${DRILL_ENV.replicationGroupId} is required for the elasticache trigger: the replication group whose node group TestFailover fails over`,
    );
  }
  const shard = parseShard(read(DRILL_ENV.shard));
  const replicationGroupId = groupSetting && parseReplicationGroupId(groupSetting);
  return {
    trigger,
    ...(shard !== undefined && { shard }),
    timeLimitMs: parseMillis(
      read(DRILL_ENV.timeLimitMs),
      DRILL_DEFAULTS.timeLimitMs,
      DRILL_LIMITS.timeLimitMs,
    ),
    writeIntervalMs: parseMillis(
      read(DRILL_ENV.writeIntervalMs),
      DRILL_DEFAULTS.writeIntervalMs,
      DRILL_LIMITS.writeIntervalMs,
    ),
    readIntervalMs: parseMillis(
      read(DRILL_ENV.readIntervalMs),
      DRILL_DEFAULTS.readIntervalMs,
      DRILL_LIMITS.readIntervalMs,
    ),
    ...(replicationGroupId !== undefined && { replicationGroupId }),
  };
}

function parseTrigger(setting: Setting | undefined, fallback: TriggerName): TriggerName {
  if (setting === undefined) return fallback;
  const trigger = TRIGGERS.find((name) => name === setting.value);
  if (trigger === undefined) {
    throw new ConfigError(
      setting.origin,
      `${setting.origin} must be one of ${TRIGGERS.join(', ')}, got ${quote(setting.value)}`,
    );
  }
  return trigger;
}

function parseShard(setting: Setting | undefined): string | undefined {
  if (setting === undefined) return undefined;
  if (setting.value.length > 1000 || /[\s\p{Cc}]/u.test(setting.value)) {
    throw new ConfigError(
      setting.origin,
      `${setting.origin} must be a shard id as the sweep report shows it (e.g. 0-5460), got ${quote(setting.value)}`,
    );
  }
  return setting.value;
}

function parseMillis(
  setting: Setting | undefined,
  fallback: number,
  { min, max }: { min: number; max: number },
): number {
  if (setting === undefined) return fallback;
  const { value, origin } = setting;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new ConfigError(
      origin,
      `${origin} must be a whole number of milliseconds between ${min} and ${max}, got ${quote(value)}`,
    );
  }
  return Number(value);
}
