/**
 * Environment (and CLI flags) -> one typed, validated ProbeConfig, read once per process.
 * Defaults are applied first, then every value is validated; a bad value is a ConfigError that
 * names the variable (or flag) and the value, except for secrets, whose values are never echoed.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { ConfigError } from './errors.js';
import { Secret } from './secret.js';

/** Which per-node metrics (dimension Node) to publish: their count grows with the cluster. */
export const PerNodeMetrics = {
  all: 'all',
  availability: 'availability',
  none: 'none',
} as const;
export type PerNodeMetrics = (typeof PerNodeMetrics)[keyof typeof PerNodeMetrics];

/**
 * How the probe authenticates: `token` sends a fixed AUTH token or password (CLUSTER_AUTH_TOKEN,
 * or the secret behind CLUSTER_AUTH_SECRET_ARN); `iam` signs an ElastiCache IAM auth token for
 * CLUSTER_USERNAME with the function's AWS credentials.
 */
export const AuthMode = {
  token: 'token',
  iam: 'iam',
} as const;
export type AuthMode = (typeof AuthMode)[keyof typeof AuthMode];

export const MetricsSink = {
  cloudwatch: 'cloudwatch',
  emf: 'emf',
  none: 'none',
} as const;
export type MetricsSink = (typeof MetricsSink)[keyof typeof MetricsSink];

/** The variables of CONTRACT section 1, by name. */
export const ENV = {
  endpoint: 'CLUSTER_ENDPOINT',
  clusterName: 'CLUSTER_NAME',
  tls: 'CLUSTER_TLS',
  caFile: 'CLUSTER_TLS_CA_FILE',
  username: 'CLUSTER_USERNAME',
  authToken: 'CLUSTER_AUTH_TOKEN',
  authSecretArn: 'CLUSTER_AUTH_SECRET_ARN',
  timeoutMs: 'PROBE_TIMEOUT_MS',
  deadlineMs: 'PROBE_DEADLINE_MS',
  metricsSink: 'METRICS_SINK',
  metricsNamespace: 'METRICS_NAMESPACE',
  // Additions (issue 3): sub-minute probing from one scheduled invocation.
  sweepsPerInvocation: 'PROBE_SWEEPS_PER_INVOCATION',
  sweepIntervalMs: 'PROBE_SWEEP_INTERVAL_MS',
  highResolution: 'METRICS_HIGH_RESOLUTION',
  perNodeMetrics: 'METRICS_PER_NODE',
  // Additions (issue 8): ElastiCache IAM authentication.
  authMode: 'CLUSTER_AUTH_MODE',
  replicationGroupId: 'ELASTICACHE_REPLICATION_GROUP_ID',
  region: 'AWS_REGION',
} as const;
export type EnvName = (typeof ENV)[keyof typeof ENV];

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

export interface ProbeConfig {
  readonly endpoint: Endpoint;
  readonly clusterName: string;
  readonly tls: boolean;
  readonly caFile?: string;
  /** Extra trusted CA certificates (PEM), read from caFile at start-up. */
  readonly caPem?: string;
  readonly username?: string;
  readonly authToken?: Secret;
  readonly authSecretArn?: string;
  readonly authMode: AuthMode;
  /** Set exactly when authMode is `iam`: what the IAM auth token is signed for. */
  readonly iam?: IamAuthTarget;
  readonly timeoutMs: number;
  readonly deadlineMs: number;
  readonly metricsSink: MetricsSink;
  readonly metricsNamespace: string;
  /** Sweeps per Lambda invocation (the CLI uses --rounds instead). */
  readonly sweepsPerInvocation: number;
  /** Time between the starts of those sweeps. */
  readonly sweepIntervalMs: number;
  /** Publish metrics at 1-second storage resolution. */
  readonly highResolution: boolean;
  /** Per-node metrics: all, NodeAvailable only, or none (cluster and role aggregates only). */
  readonly perNodeMetrics: PerNodeMetrics;
}

/** The ElastiCache IAM user a token is signed for, and where. */
export interface IamAuthTarget {
  /** The replication group the token admits to (ELASTICACHE_REPLICATION_GROUP_ID). */
  readonly replicationGroupId: string;
  /** The user's id, which ElastiCache requires to equal its name (CLUSTER_USERNAME). */
  readonly userId: string;
  /** The region of the replication group (AWS_REGION). */
  readonly region: string;
}

export const DEFAULTS = {
  authMode: 'token',
  tls: true,
  timeoutMs: 1000,
  deadlineMs: 10_000,
  metricsNamespace: 'Slotwatch',
  sweepsPerInvocation: 1,
  sweepIntervalMs: 10_000,
  highResolution: false,
  perNodeMetrics: 'all',
} as const;

/** A value and where it came from: an environment variable, or the CLI flag that overrides it. */
export interface Setting {
  readonly value: string;
  readonly origin: string;
}

export interface ConfigSources {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Values given as CLI flags, keyed by the variable they override, with the flag's name. */
  readonly flags?: Partial<Record<EnvName, { value: string; flag: string }>>;
  /** `cloudwatch` inside Lambda, `none` in the CLI. */
  readonly defaultSink: MetricsSink;
}

export function loadConfig(sources: ConfigSources): ProbeConfig {
  const read = (name: EnvName): Setting | undefined => {
    const flag = sources.flags?.[name];
    if (flag !== undefined) return { value: flag.value.trim(), origin: flag.flag };
    const raw = sources.env[name];
    if (raw === undefined || raw.trim() === '') return undefined;
    return { value: raw.trim(), origin: name };
  };

  const endpointSetting = read(ENV.endpoint);
  if (endpointSetting === undefined) {
    throw new ConfigError(
      ENV.endpoint,
      `${ENV.endpoint} is required: the host:port of the cluster's configuration endpoint`,
    );
  }
  const endpoint = parseEndpoint(endpointSetting);
  const tls = parseBoolean(read(ENV.tls), DEFAULTS.tls);
  const caSetting = read(ENV.caFile);
  const timeoutMs = parseMillis(read(ENV.timeoutMs), DEFAULTS.timeoutMs, 60_000);
  const deadlineMs = parseMillis(read(ENV.deadlineMs), DEFAULTS.deadlineMs, 900_000);
  if (timeoutMs >= deadlineMs) {
    throw new ConfigError(
      ENV.timeoutMs,
      `${ENV.timeoutMs} (${timeoutMs}) must be below ${ENV.deadlineMs} (${deadlineMs}): one command cannot take the whole sweep`,
    );
  }

  const tokenSetting = read(ENV.authToken);
  const secretArnSetting = read(ENV.authSecretArn);
  if (tokenSetting && secretArnSetting) {
    throw new ConfigError(
      ENV.authToken,
      `set ${ENV.authToken} or ${ENV.authSecretArn}, not both: which token should win is not obvious`,
    );
  }

  const authMode = parseOneOf(read(ENV.authMode), Object.values(AuthMode), DEFAULTS.authMode);
  const username = parseUsername(read(ENV.username));
  const iam =
    authMode === AuthMode.iam
      ? parseIamTarget(read, username, tls, tokenSetting ?? secretArnSetting)
      : undefined;

  return {
    endpoint,
    clusterName: parseClusterName(read(ENV.clusterName), endpoint),
    tls,
    ...(caSetting && { caFile: caSetting.value, caPem: readCaFile(caSetting) }),
    ...optional('username', username),
    ...optional('authToken', parseToken(tokenSetting)),
    ...optional('authSecretArn', parseSecretArn(secretArnSetting)),
    authMode,
    ...optional('iam', iam),
    timeoutMs,
    deadlineMs,
    metricsSink: parseSink(read(ENV.metricsSink), sources.defaultSink),
    metricsNamespace: parseNamespace(read(ENV.metricsNamespace)),
    sweepsPerInvocation: parseCount(
      read(ENV.sweepsPerInvocation),
      DEFAULTS.sweepsPerInvocation,
      60,
    ),
    sweepIntervalMs: parseMillis(read(ENV.sweepIntervalMs), DEFAULTS.sweepIntervalMs, 900_000),
    highResolution: parseBoolean(read(ENV.highResolution), DEFAULTS.highResolution),
    perNodeMetrics: parseOneOf(
      read(ENV.perNodeMetrics),
      Object.values(PerNodeMetrics),
      DEFAULTS.perNodeMetrics,
    ),
  };
}

/**
 * What ElastiCache IAM authentication needs: a user (whose id is its name), the replication group
 * and the region the token is signed for, TLS, and no fixed token beside it.
 */
function parseIamTarget(
  read: (name: EnvName) => Setting | undefined,
  username: string | undefined,
  tls: boolean,
  fixedToken: Setting | undefined,
): IamAuthTarget {
  const iamMode = `${ENV.authMode}=iam`;
  if (fixedToken !== undefined) {
    throw new ConfigError(
      fixedToken.origin,
      `${fixedToken.origin} cannot be combined with ${iamMode}: IAM mode signs its own token; unset ${fixedToken.origin} or use ${ENV.authMode}=token`,
    );
  }
  if (username === undefined) {
    throw new ConfigError(
      ENV.username,
      `${ENV.username} is required with ${iamMode}: the ElastiCache user (IAM authentication) whose id the token is signed for`,
    );
  }
  if (!/^[A-Za-z][A-Za-z0-9-]*$/.test(username)) {
    throw new ConfigError(
      ENV.username,
      `${ENV.username} must be an ElastiCache user id with ${iamMode} (a letter, then letters, digits and hyphens; IAM users have id = name), got ${quote(username)}`,
    );
  }
  if (!tls) {
    throw new ConfigError(
      ENV.tls,
      `${ENV.tls} must be true with ${iamMode}: ElastiCache accepts IAM authentication only over TLS`,
    );
  }
  const group = read(ENV.replicationGroupId);
  if (group === undefined) {
    throw new ConfigError(
      ENV.replicationGroupId,
      `${ENV.replicationGroupId} is required with ${iamMode}: the replication group the IAM auth token is signed for`,
    );
  }
  const region = read(ENV.region);
  if (region === undefined) {
    throw new ConfigError(
      ENV.region,
      `${ENV.region} is required with ${iamMode}: the region the IAM auth token is signed for (Lambda sets it)`,
    );
  }
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region.value)) {
    throw new ConfigError(
      region.origin,
      `${region.origin} must be an AWS region such as us-east-1, got ${quote(region.value)}`,
    );
  }
  return {
    replicationGroupId: parseReplicationGroupId(group),
    userId: username,
    region: region.value,
  };
}

/** ElastiCache's rules: 1 to 40 letters, digits and hyphens, a letter first, no `--`, no trailing `-`. */
export function parseReplicationGroupId({ value, origin }: Setting): string {
  if (!/^[A-Za-z][A-Za-z0-9-]{0,39}$/.test(value) || value.includes('--') || value.endsWith('-')) {
    throw new ConfigError(
      origin,
      `${origin} must be a replication group id (1 to 40 letters, digits or hyphens, starting with a letter), got ${quote(value)}`,
    );
  }
  return value;
}

function parseCount(setting: Setting | undefined, fallback: number, max: number): number {
  if (setting === undefined) return fallback;
  const { value, origin } = setting;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max) {
    throw new ConfigError(
      origin,
      `${origin} must be a whole number between 1 and ${max}, got ${quote(value)}`,
    );
  }
  return Number(value);
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

const quote = (value: string): string => JSON.stringify(value);

export function parseEndpoint({ value, origin }: Setting): Endpoint {
  const bad = (why: string): ConfigError =>
    new ConfigError(
      origin,
      `${origin} must be host:port (${why}), got ${quote(value)}; for ElastiCache use the configuration endpoint, e.g. my-cache.abc123.clustercfg.use1.cache.amazonaws.com:6379`,
    );
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) throw bad('no URL scheme');
  const match = /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(value) ?? /^([^\s:/[\]]+):(\d+)$/.exec(value);
  if (!match) throw bad('a host, a colon and a port number');
  const host = match[1] ?? '';
  const port = Number(match[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw bad('port between 1 and 65535');
  if (value.startsWith('[') && isIP(host) !== 6) throw bad('a valid IPv6 address in brackets');
  if (
    !value.startsWith('[') &&
    isIP(host) === 0 &&
    !/^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9])?$/.test(host)
  ) {
    throw bad('a valid DNS name or IP address');
  }
  return { host, port };
}

function parseBoolean(setting: Setting | undefined, fallback: boolean): boolean {
  if (setting === undefined) return fallback;
  const lower = setting.value.toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  throw new ConfigError(
    setting.origin,
    `${setting.origin} must be true or false, got ${quote(setting.value)}`,
  );
}

function parseMillis(setting: Setting | undefined, fallback: number, max: number): number {
  if (setting === undefined) return fallback;
  const { value, origin } = setting;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max) {
    throw new ConfigError(
      origin,
      `${origin} must be a whole number of milliseconds between 1 and ${max}, got ${quote(value)}`,
    );
  }
  return Number(value);
}

/**
 * The first DNS label of the endpoint host (`orders-cache` of the ElastiCache name), or
 * `host-port` for an IP. TLS-enabled ElastiCache clusters put `clustercfg.` in front of the
 * replication group's name, so that label is skipped.
 */
export function defaultClusterName(endpoint: Endpoint): string {
  if (isIP(endpoint.host) !== 0) return `${endpoint.host}-${endpoint.port}`;
  const labels = endpoint.host.split('.');
  const first = labels[0] === 'clustercfg' && labels.length > 1 ? labels[1] : labels[0];
  return first ?? endpoint.host;
}

function parseClusterName(setting: Setting | undefined, endpoint: Endpoint): string {
  if (setting === undefined) return defaultClusterName(endpoint);
  // CloudWatch dimension values: 1 to 255 characters, no control characters.
  if (setting.value.length > 255 || /\p{Cc}/u.test(setting.value)) {
    throw new ConfigError(
      setting.origin,
      `${setting.origin} must be 1 to 255 printable characters (it is the Cluster dimension), got ${quote(setting.value)}`,
    );
  }
  return setting.value;
}

function readCaFile({ value, origin }: Setting): string {
  let pem: string;
  try {
    pem = readFileSync(value, 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError(origin, `${origin}: cannot read CA file ${quote(value)} (${code})`, {
      cause,
    });
  }
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  try {
    if (blocks.length === 0) throw new Error('no certificate');
    for (const block of blocks) new X509Certificate(block);
  } catch (cause) {
    throw new ConfigError(
      origin,
      `${origin}: ${quote(value)} holds no valid PEM certificate (expected -----BEGIN CERTIFICATE-----)`,
      { cause },
    );
  }
  return blocks.join('\n');
}

function parseUsername(setting: Setting | undefined): string | undefined {
  if (setting === undefined) return undefined;
  if (/[\s\p{Cc}]/u.test(setting.value) || setting.value.length > 128) {
    throw new ConfigError(
      setting.origin,
      `${setting.origin} must be an ACL user name without spaces (at most 128 characters), got ${quote(setting.value)}`,
    );
  }
  return setting.value;
}

function parseToken(setting: Setting | undefined): Secret | undefined {
  if (setting === undefined) return undefined;
  // The value is never echoed: say what is wrong with it, not what it is.
  if (/[\s\p{Cc}]/u.test(setting.value)) {
    throw new ConfigError(
      setting.origin,
      `${setting.origin} contains whitespace or control characters (value not shown)`,
    );
  }
  return new Secret(setting.value);
}

function parseSecretArn(setting: Setting | undefined): string | undefined {
  if (setting === undefined) return undefined;
  if (
    !/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/.test(
      setting.value,
    )
  ) {
    throw new ConfigError(
      setting.origin,
      `${setting.origin} must be a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>), got ${quote(setting.value)}`,
    );
  }
  return setting.value;
}

function parseSink(setting: Setting | undefined, fallback: MetricsSink): MetricsSink {
  return parseOneOf(setting, Object.values(MetricsSink), fallback);
}

function parseOneOf<T extends string>(
  setting: Setting | undefined,
  allowed: readonly T[],
  fallback: T,
): T {
  if (setting === undefined) return fallback;
  const value = allowed.find((candidate) => candidate === setting.value);
  if (value === undefined) {
    throw new ConfigError(
      setting.origin,
      `${setting.origin} must be one of ${allowed.join(', ')}, got ${quote(setting.value)}`,
    );
  }
  return value;
}

function parseNamespace(setting: Setting | undefined): string {
  if (setting === undefined) return DEFAULTS.metricsNamespace;
  // CloudWatch: 1-255 of [0-9A-Za-z.-_/#:], and AWS/ is reserved for AWS services.
  if (!/^[0-9A-Za-z.\-_/#:]{1,255}$/.test(setting.value) || setting.value.startsWith('AWS/')) {
    throw new ConfigError(
      setting.origin,
      `${setting.origin} must be 1 to 255 of the characters 0-9 A-Z a-z . - _ / # : and not start with AWS/, got ${quote(setting.value)}`,
    );
  }
  return setting.value;
}
