/**
 * CDK context -> typed, validated deployment settings. Pure: `app.ts` hands in a getter over the
 * app's context (cdk.json defaults, overridden by `-c key=value`); every error names the key and
 * the bad value. Context given on the command line arrives as strings, from cdk.json as JSON.
 */
import type { PerNodeMetrics } from '../lambda/config.js';
import { DEFAULT_NAMESPACE } from '../lambda/metrics/names.js';

export class ContextError extends Error {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(message);
    this.name = 'ContextError';
  }
}

export type CacheEngine = 'valkey' | 'redis';

/** A cluster this app creates. */
export interface NewClusterSettings {
  readonly mode: 'create';
  readonly engine: CacheEngine;
  /** Undefined: the construct's default for the engine. */
  readonly engineVersion?: string;
  readonly nodeType: string;
  readonly shards: number;
  readonly replicasPerShard: number;
  readonly port: number;
}

/** A cluster that already exists ("bring your own"): the probe stack alone is deployed. */
export interface ExistingClusterSettings {
  readonly mode: 'existing';
  readonly endpoint: string;
  readonly port: number;
  readonly vpcId: string;
  readonly subnetIds: readonly string[];
  readonly availabilityZones: readonly string[];
  readonly securityGroupId: string;
  /** Token mode: the secret holding the cluster's AUTH token. */
  readonly authSecretArn?: string;
  /** For the drill's TestFailover (issue 5), and what IAM auth tokens are signed for. */
  readonly replicationGroupId?: string;
  /** IAM mode: the existing users (IAM authentication, id = name) of the probe and the drill. */
  readonly probeUserId?: string;
  readonly drillUserId?: string;
}

/**
 * How the functions authenticate to the cluster (context `auth`): `token`, an AUTH token in
 * Secrets Manager; `iam`, RBAC users with IAM authentication, one per function.
 */
export type AuthMode = 'token' | 'iam';

export interface ProbeSettings {
  readonly scheduleMinutes: number;
  readonly sweepsPerInvocation: number;
  readonly sweepIntervalMs: number;
  readonly highResolution: boolean;
  readonly metricsSink: 'cloudwatch' | 'emf';
  readonly perNodeMetrics: PerNodeMetrics;
  readonly namespace: string;
  readonly timeoutMs: number;
  readonly deadlineMs: number;
  /** The probe function's memory, and so its share of a vCPU (1,769 MB is one). */
  readonly memoryMb: number;
}

/**
 * An EventBridge Scheduler cron expression, field by field: the shape of aws-cdk-lib's
 * `CronOptions` (a `?` field is left out, as CronOptions wants), kept free of CDK types here.
 */
export interface DrillCron {
  readonly minute: string;
  readonly hour: string;
  /** Day of month; undefined when the expression says `?`. */
  readonly day?: string;
  readonly month: string;
  /** Day of week; undefined when the expression says `?`. */
  readonly weekDay?: string;
  readonly year: string;
}

/** The scheduled failover drill (CONTRACT section 7), present when context drill is true. */
export interface DrillSettings {
  readonly schedule: DrillCron;
  /** IANA time zone the schedule is read in. */
  readonly timeZone: string;
  /** DRILL_TIME_LIMIT_MS: how long the drilled shard has to recover. */
  readonly timeLimitMs: number;
}

export interface DeploymentSettings {
  readonly stackPrefix: string;
  readonly auth: AuthMode;
  /** The Cluster dimension; undefined: derived by the probe from the endpoint. */
  readonly clusterName?: string;
  readonly cluster: NewClusterSettings | ExistingClusterSettings;
  readonly probe: ProbeSettings;
  /** `endpoints`: interface VPC endpoints for the AWS APIs; `nat`: the subnets already route out. */
  readonly networkPath: 'endpoints' | 'nat';
  readonly alarmEmail?: string;
  readonly drill: boolean;
  /** Set exactly when `drill` is true. */
  readonly drillSettings?: DrillSettings;
}

type Get = (key: string) => unknown;

/** lambda/invocation.ts keeps 1 s of safety margin and 3 s to publish after each sweep. */
const SWEEP_MARGINS_MS = 4000;

/** The probe function's timeout: 2 s below the schedule interval, so runs never overlap. */
export function functionTimeoutSeconds(scheduleMinutes: number): number {
  return Math.min(900, scheduleMinutes * 60 - 2);
}

/** Tuesday 10:00: working hours, when someone is there to look at what the drill found. */
export const DEFAULT_DRILL_SCHEDULE = '0 10 ? * TUE *';
export const DEFAULT_DRILL_TIME_ZONE = 'UTC';
/** Five minutes: an ElastiCache failover normally completes well within it. */
export const DEFAULT_DRILL_TIME_LIMIT_MS = 300_000;
/**
 * Time the drill function needs besides the time limit: connecting and pre-checks before the
 * trigger, removing its keys and publishing the report after it.
 */
export const DRILL_MARGIN_MS = 60_000;
/** Lambda's hard limit on a function's timeout. */
const LAMBDA_MAX_TIMEOUT_SECONDS = 900;

/**
 * The drill function's timeout: ten minutes, or longer when the time limit plus the margin
 * needs it, up to Lambda's fifteen.
 */
export function drillFunctionTimeoutSeconds(timeLimitMs: number): number {
  return Math.min(
    LAMBDA_MAX_TIMEOUT_SECONDS,
    Math.max(600, Math.ceil((timeLimitMs + DRILL_MARGIN_MS) / 1000)),
  );
}

const present = (value: unknown): boolean => value !== undefined && value !== null && value !== '';

function text(get: Get, key: string): string | undefined {
  const value = get(key);
  if (!present(value)) return undefined;
  if (typeof value !== 'string' && typeof value !== 'number') {
    throw new ContextError(key, `context ${key} must be a string, got ${JSON.stringify(value)}`);
  }
  return String(value).trim();
}

function integer(get: Get, key: string, fallback: number, min: number, max: number): number {
  const raw = text(get, key);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ContextError(
      key,
      `context ${key} must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`,
    );
  }
  return Number(raw);
}

function flag(get: Get, key: string, fallback: boolean): boolean {
  const value = get(key);
  if (!present(value)) return fallback;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new ContextError(key, `context ${key} must be true or false, got ${JSON.stringify(value)}`);
}

function oneOf<T extends string>(get: Get, key: string, allowed: readonly T[], fallback: T): T {
  const raw = text(get, key);
  if (raw === undefined) return fallback;
  const match = allowed.find((candidate) => candidate === raw);
  if (match === undefined) {
    throw new ContextError(
      key,
      `context ${key} must be one of ${allowed.join(', ')}, got ${JSON.stringify(raw)}`,
    );
  }
  return match;
}

function list(get: Get, key: string): string[] {
  const value = get(key);
  if (!present(value)) return [];
  const items = Array.isArray(value) ? value.map(String) : String(value).split(',');
  return items.map((item) => item.trim()).filter((item) => item !== '');
}

function matching(get: Get, key: string, pattern: RegExp, what: string): string | undefined {
  const raw = text(get, key);
  if (raw !== undefined && !pattern.test(raw)) {
    throw new ContextError(key, `context ${key} must be ${what}, got ${JSON.stringify(raw)}`);
  }
  return raw;
}

const EXISTING_KEYS = [
  'clusterEndpoint',
  'vpcId',
  'subnetIds',
  'clusterSecurityGroupId',
  'authSecretArn',
] as const;

/** With auth=iam an existing cluster is reached through its users, not a secret. */
const EXISTING_IAM_KEYS = [
  'clusterEndpoint',
  'vpcId',
  'subnetIds',
  'clusterSecurityGroupId',
  'replicationGroupId',
  'probeUserId',
] as const;

/** ElastiCache user ids: a letter, then letters, digits and single hyphens, no trailing hyphen. */
const USER_ID = /^[A-Za-z](?:[A-Za-z0-9]|-(?=[A-Za-z0-9]))*$/;

function existingCluster(get: Get, auth: AuthMode): ExistingClusterSettings {
  const required = auth === 'iam' ? EXISTING_IAM_KEYS : EXISTING_KEYS;
  const missing = required.filter((key) => !present(get(key)));
  if (missing.length > 0) {
    throw new ContextError(
      missing[0] ?? 'clusterEndpoint',
      `to probe an existing cluster${auth === 'iam' ? ' with auth=iam' : ''}, set every one of ${required.join(', ')}; missing: ${missing.join(', ')}`,
    );
  }
  const endpoint =
    matching(
      get,
      'clusterEndpoint',
      /^[A-Za-z0-9.-]+:\d{1,5}$/,
      'host:port of the configuration endpoint',
    ) ?? '';
  const subnetIds = list(get, 'subnetIds');
  for (const id of subnetIds) {
    if (!/^subnet-[0-9a-f]{8,17}$/.test(id))
      throw new ContextError(
        'subnetIds',
        `context subnetIds: ${JSON.stringify(id)} is not a subnet id`,
      );
  }
  if (subnetIds.length < 2)
    throw new ContextError(
      'subnetIds',
      'context subnetIds must name at least two subnets (two AZs), comma-separated',
    );
  const availabilityZones = list(get, 'availabilityZones');
  if (availabilityZones.length > 0 && availabilityZones.length !== subnetIds.length) {
    throw new ContextError(
      'availabilityZones',
      `context availabilityZones must name one zone per subnet (${subnetIds.length}), got ${availabilityZones.length}`,
    );
  }
  const replicationGroupId = matching(
    get,
    'replicationGroupId',
    /^[a-z][a-z0-9-]{0,39}$/,
    'an ElastiCache replication group id',
  );
  return {
    mode: 'existing',
    endpoint,
    port: Number(endpoint.slice(endpoint.lastIndexOf(':') + 1)),
    vpcId: matching(get, 'vpcId', /^vpc-[0-9a-f]{8,17}$/, 'a VPC id (vpc-…)') ?? '',
    subnetIds,
    availabilityZones,
    securityGroupId:
      matching(
        get,
        'clusterSecurityGroupId',
        /^sg-[0-9a-f]{8,17}$/,
        'a security group id (sg-…)',
      ) ?? '',
    ...(auth === 'token' && {
      authSecretArn:
        matching(
          get,
          'authSecretArn',
          /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/,
          'a Secrets Manager secret ARN',
        ) ?? '',
    }),
    ...(replicationGroupId && { replicationGroupId }),
    ...(auth === 'iam' && existingUsers(get)),
  };
}

function existingUsers(get: Get): Pick<ExistingClusterSettings, 'probeUserId' | 'drillUserId'> {
  const what = 'an ElastiCache user id (IAM authentication: the user id is also its name)';
  const probeUserId = matching(get, 'probeUserId', USER_ID, what);
  const drillUserId = matching(get, 'drillUserId', USER_ID, what);
  return { ...(probeUserId && { probeUserId }), ...(drillUserId && { drillUserId }) };
}

function newCluster(get: Get): NewClusterSettings {
  const engineVersion = matching(
    get,
    'engineVersion',
    /^\d+\.\d+$/,
    'a major.minor engine version such as 8.0',
  );
  return {
    mode: 'create',
    engine: oneOf(get, 'engine', ['valkey', 'redis'] as const, 'valkey'),
    ...(engineVersion && { engineVersion }),
    nodeType:
      matching(
        get,
        'nodeType',
        /^cache\.[a-z0-9]+\.[a-z0-9]+$/,
        'an ElastiCache node type such as cache.t4g.small',
      ) ?? 'cache.t4g.small',
    shards: integer(get, 'shards', 3, 1, 500),
    replicasPerShard: integer(get, 'replicasPerShard', 1, 1, 5),
    port: integer(get, 'port', 6380, 1024, 65535),
  };
}

/** What each field of an EventBridge cron expression may hold, in order. */
const CRON_FIELDS = [
  { name: 'minute', pattern: /^\d{1,2}$/, max: 59 },
  { name: 'hour', pattern: /^\d{1,2}$/, max: 23 },
  { name: 'day-of-month', pattern: /^(?:\?|L|LW|\d{1,2}W|[\d,*/-]+)$/ },
  { name: 'month', pattern: /^[\dA-Za-z,*/-]+$/ },
  { name: 'day-of-week', pattern: /^(?:\?|[\dA-Za-z,*/#-]+)$/ },
  { name: 'year', pattern: /^[\d,*/-]+$/ },
] as const;

/**
 * `drillSchedule`: six cron fields (minute hour day-of-month month day-of-week year), bare or
 * as `cron(...)`. The minute and hour must be single values: every match triggers a real
 * failover, TestFailover allows 15 per rolling day, and a drill more than once a day is almost
 * certainly a typo (`*` for `0`).
 */
function parseDrillCron(raw: string): DrillCron {
  const bad = (why: string): ContextError =>
    new ContextError(
      'drillSchedule',
      `context drillSchedule must be an EventBridge cron expression such as "${DEFAULT_DRILL_SCHEDULE}" (minute hour day-of-month month day-of-week year): ${why}, got ${JSON.stringify(raw)}`,
    );
  const body = /^cron\((.*)\)$/.exec(raw.trim())?.[1] ?? raw;
  const fields = body.trim().split(/\s+/);
  if (fields.length !== CRON_FIELDS.length) throw bad(`${fields.length} fields instead of 6`);
  const values = CRON_FIELDS.map((field, i) => {
    const value = fields[i] ?? '';
    if (!field.pattern.test(value)) {
      throw bad(
        'max' in field
          ? `the ${field.name} must be a single number (the drill runs at most once a day)`
          : `the ${field.name} field ${JSON.stringify(value)} is not valid`,
      );
    }
    if ('max' in field && Number(value) > field.max) {
      throw bad(`the ${field.name} must be from 0 to ${field.max}`);
    }
    return value;
  });
  const [minute = '', hour = '', day = '', month = '', weekDay = '', year = ''] = values;
  if ((day === '?') === (weekDay === '?')) {
    throw bad('exactly one of day-of-month and day-of-week must be ?');
  }
  return {
    minute,
    hour,
    ...(day !== '?' && { day }),
    month,
    ...(weekDay !== '?' && { weekDay }),
    year,
  };
}

/**
 * An IANA zone name as the runtime's ICU knows it, spelt canonically ("Europe/Berlin", not
 * "europe/berlin"): EventBridge Scheduler rejects what ICU would forgive, but only at deploy.
 */
function timeZone(get: Get, key: string, fallback: string): string {
  const raw = text(get, key);
  if (raw === undefined) return fallback;
  let canonical: string;
  try {
    canonical = new Intl.DateTimeFormat('en-US', { timeZone: raw }).resolvedOptions().timeZone;
  } catch {
    throw new ContextError(
      key,
      `context ${key} must be an IANA time zone such as Europe/Berlin or UTC, got ${JSON.stringify(raw)}`,
    );
  }
  const known = raw === canonical || Intl.supportedValuesOf('timeZone').includes(raw);
  if (!known && !/^(?:Etc\/)?(?:UTC|GMT)$/.test(raw)) {
    throw new ContextError(
      key,
      `context ${key} must be spelt as in the IANA time zone database, got ${JSON.stringify(raw)} (did you mean ${JSON.stringify(canonical)}?)`,
    );
  }
  return raw;
}

function drill(
  get: Get,
  cluster: DeploymentSettings['cluster'],
  auth: AuthMode,
): DrillSettings | undefined {
  // Validated whether or not the drill is on, so a typo surfaces before the day it is enabled.
  const schedule = parseDrillCron(text(get, 'drillSchedule') ?? DEFAULT_DRILL_SCHEDULE);
  const settings: DrillSettings = {
    schedule,
    timeZone: timeZone(get, 'drillTimeZone', DEFAULT_DRILL_TIME_ZONE),
    timeLimitMs: integer(
      get,
      'drillTimeLimitMs',
      DEFAULT_DRILL_TIME_LIMIT_MS,
      60_000,
      LAMBDA_MAX_TIMEOUT_SECONDS * 1000 - DRILL_MARGIN_MS,
    ),
  };
  if (!flag(get, 'drill', false)) return undefined;
  if (cluster.mode === 'existing' && auth === 'iam' && cluster.drillUserId === undefined) {
    throw new ContextError(
      'drillUserId',
      'context drill=true with auth=iam on an existing cluster needs drillUserId: the user (IAM authentication) the drill connects as, with the drill access string from infra/access-string.ts',
    );
  }
  if (cluster.mode === 'existing' && cluster.replicationGroupId === undefined) {
    const guess = /^clustercfg\.([a-z][a-z0-9-]*)\./.exec(cluster.endpoint)?.[1];
    throw new ContextError(
      'replicationGroupId',
      `context drill=true on an existing cluster needs replicationGroupId, the ElastiCache replication group whose shard the drill fails over (TestFailover)${guess ? `; for ${cluster.endpoint} it is probably ${guess}` : ''}`,
    );
  }
  return settings;
}

/**
 * The probe's memory for a cluster of `nodes` nodes. Lambda's CPU grows with memory, and a sweep
 * is CPU work that grows with the nodes: `npm run bench` projects the first sweep after a cold
 * start (a TLS handshake per node) of 500 nodes at about 8.5 s with 256 MB, most of the default
 * 10 s deadline, and under 3 s with 1024 MB (docs/reference.md, Performance).
 */
export function defaultProbeMemoryMb(nodes: number): number {
  if (nodes <= 100) return 256;
  if (nodes <= 250) return 512;
  return 1024;
}

export function parseSettings(get: Get): DeploymentSettings {
  const scheduleMinutes = integer(get, 'probeRateMinutes', 1, 1, 60);
  const sweepsPerInvocation = integer(get, 'sweepsPerInvocation', 1, 1, 60);
  const sweepIntervalMs = integer(get, 'sweepIntervalMs', 10_000, 1000, 60_000);
  const timeoutMs = integer(get, 'probeTimeoutMs', 1000, 1, 60_000);
  const deadlineMs = integer(get, 'probeDeadlineMs', 10_000, 1, 60_000);
  if (timeoutMs >= deadlineMs) {
    throw new ContextError(
      'probeTimeoutMs',
      `context probeTimeoutMs (${timeoutMs}) must be below probeDeadlineMs (${deadlineMs})`,
    );
  }
  // The last sweep starts (n - 1) intervals in and needs two timeouts plus the invocation's
  // margins (lambda/invocation.ts) before the function times out, 2 s before the next run.
  const functionTimeoutMs = functionTimeoutSeconds(scheduleMinutes) * 1000;
  if (
    (sweepsPerInvocation - 1) * sweepIntervalMs + 2 * timeoutMs + SWEEP_MARGINS_MS >
    functionTimeoutMs
  ) {
    throw new ContextError(
      'sweepsPerInvocation',
      `context sweepsPerInvocation (${sweepsPerInvocation}) x sweepIntervalMs (${sweepIntervalMs}) leaves the last sweep no time within the ${functionTimeoutMs / 1000} s function timeout of a ${scheduleMinutes}-minute schedule`,
    );
  }
  const clusterName = matching(
    get,
    'clusterName',
    /^[^\p{Cc}]{1,255}$/u,
    '1 to 255 printable characters',
  );
  const alarmEmail = matching(get, 'alarmEmail', /^[^\s@]+@[^\s@]+\.[^\s@]+$/, 'an e-mail address');
  const auth = oneOf(get, 'auth', ['token', 'iam'] as const, 'token');
  const byo = [...EXISTING_KEYS, ...EXISTING_IAM_KEYS]
    .filter((key) => key !== 'replicationGroupId')
    .some((key) => present(get(key)));
  const cluster = byo ? existingCluster(get, auth) : newCluster(get);
  const drillSettings = drill(get, cluster, auth);
  return {
    stackPrefix:
      matching(
        get,
        'stackPrefix',
        /^[A-Za-z][A-Za-z0-9-]{0,63}$/,
        'a stack name prefix (letters, digits, -)',
      ) ?? 'Slotwatch',
    auth,
    ...(clusterName && { clusterName }),
    cluster,
    probe: {
      scheduleMinutes,
      sweepsPerInvocation,
      sweepIntervalMs,
      highResolution: flag(get, 'highResolution', false),
      metricsSink: oneOf(get, 'metricsSink', ['cloudwatch', 'emf'] as const, 'cloudwatch'),
      perNodeMetrics: oneOf(get, 'metricsPerNode', ['all', 'availability', 'none'] as const, 'all'),
      namespace:
        matching(
          get,
          'namespace',
          /^(?!AWS\/)[0-9A-Za-z.\-_/#:]{1,255}$/,
          'a CloudWatch namespace not starting with AWS/',
        ) ?? DEFAULT_NAMESPACE,
      timeoutMs,
      deadlineMs,
      memoryMb: integer(
        get,
        'probeMemoryMb',
        cluster.mode === 'create'
          ? defaultProbeMemoryMb(cluster.shards * (1 + cluster.replicasPerShard))
          : 256,
        128,
        10_240,
      ),
    },
    networkPath: oneOf(get, 'networkPath', ['endpoints', 'nat'] as const, 'endpoints'),
    ...(alarmEmail && { alarmEmail }),
    drill: drillSettings !== undefined,
    ...(drillSettings && { drillSettings }),
  };
}
