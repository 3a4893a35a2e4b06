import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { defaultClusterName, loadConfig, type ConfigSources } from '../../lambda/config.js';
import { ConfigError } from '../../lambda/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'slotwatch-config-'));
const notPem = join(dir, 'not-a-cert.pem');
writeFileSync(notPem, 'hello\n');

const HINT =
  '; for ElastiCache use the configuration endpoint, e.g. my-cache.abc123.clustercfg.use1.cache.amazonaws.com:6379';

const base = { CLUSTER_ENDPOINT: 'orders-cache.abc123.clustercfg.use1.cache.amazonaws.com:6379' };
const load = (env: Record<string, string>, extra: Partial<ConfigSources> = {}) =>
  loadConfig({ env: { ...base, ...env }, defaultSink: 'none', ...extra });

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig defaults', () => {
  it('applies the CONTRACT defaults', () => {
    // Act
    const config = load({});

    // Assess
    expect(config).toMatchObject({
      endpoint: { host: 'orders-cache.abc123.clustercfg.use1.cache.amazonaws.com', port: 6379 },
      clusterName: 'orders-cache',
      tls: true,
      timeoutMs: 1000,
      deadlineMs: 10_000,
      metricsSink: 'none',
      metricsNamespace: 'Slotwatch',
      sweepsPerInvocation: 1,
      sweepIntervalMs: 10_000,
      highResolution: false,
      perNodeMetrics: 'all',
    });
    expect(config.authToken).toBeUndefined();
    expect(config.caPem).toBeUndefined();
  });

  it('uses the sink default of the caller (cloudwatch in Lambda)', () => {
    expect(loadConfig({ env: base, defaultSink: 'cloudwatch' }).metricsSink).toBe('cloudwatch');
  });

  it.each([
    [{ host: '10.0.1.12', port: 6379 }, '10.0.1.12-6379'],
    [{ host: 'orders-cache.abc.clustercfg.use1.cache.amazonaws.com', port: 6379 }, 'orders-cache'],
    [
      { host: 'clustercfg.orders-cache.abc123.use1.cache.amazonaws.com', port: 6379 },
      'orders-cache',
    ],
    [{ host: 'localhost', port: 7000 }, 'localhost'],
    [{ host: '::1', port: 7000 }, '::1-7000'],
  ])('names the cluster after %o as %s', (endpoint, name) => {
    expect(defaultClusterName(endpoint)).toBe(name);
  });

  it('parses every variable when set', () => {
    const config = load({
      CLUSTER_ENDPOINT: '[::1]:7000',
      CLUSTER_NAME: 'orders',
      CLUSTER_TLS: 'FALSE',
      CLUSTER_USERNAME: 'probe-user',
      CLUSTER_AUTH_SECRET_ARN:
        'arn:aws:secretsmanager:eu-west-1:123456789012:secret:slotwatch/token-AbCdEf',
      PROBE_TIMEOUT_MS: ' 250 ',
      PROBE_DEADLINE_MS: '3000',
      METRICS_SINK: 'emf',
      METRICS_NAMESPACE: 'Team/Cache',
      PROBE_SWEEPS_PER_INVOCATION: '6',
      PROBE_SWEEP_INTERVAL_MS: '10000',
      METRICS_HIGH_RESOLUTION: 'true',
    });
    expect(config).toMatchObject({
      endpoint: { host: '::1', port: 7000 },
      clusterName: 'orders',
      tls: false,
      username: 'probe-user',
      authSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:slotwatch/token-AbCdEf',
      timeoutMs: 250,
      deadlineMs: 3000,
      metricsSink: 'emf',
      metricsNamespace: 'Team/Cache',
      sweepsPerInvocation: 6,
      sweepIntervalMs: 10_000,
      highResolution: true,
    });
    expect(config.authToken).toBeUndefined();
    expect(load({ CLUSTER_AUTH_TOKEN: 's3cret-token-value' }).authToken?.reveal()).toBe(
      's3cret-token-value',
    );
  });

  it('lets a flag override its variable, and names the flag in errors', () => {
    const flags = { PROBE_TIMEOUT_MS: { value: '200', flag: '--timeout-ms' } };
    expect(load({ PROBE_TIMEOUT_MS: '900' }, { flags }).timeoutMs).toBe(200);
    const error = configError(() =>
      load({}, { flags: { PROBE_TIMEOUT_MS: { value: 'x', flag: '--timeout-ms' } } }),
    );
    expect(error.setting).toBe('--timeout-ms');
    expect(error.message).toBe(
      '--timeout-ms must be a whole number of milliseconds between 1 and 60000, got "x"',
    );
  });
});

describe('loadConfig rejects bad input with a message naming the variable and value', () => {
  it.each<[string, Record<string, string>, string, string]>([
    [
      'a missing endpoint',
      { CLUSTER_ENDPOINT: '' },
      'CLUSTER_ENDPOINT',
      "CLUSTER_ENDPOINT is required: the host:port of the cluster's configuration endpoint",
    ],
    [
      'an endpoint without port',
      { CLUSTER_ENDPOINT: 'cache.example.com' },
      'CLUSTER_ENDPOINT',
      'CLUSTER_ENDPOINT must be host:port (a host, a colon and a port number), got "cache.example.com"' +
        HINT,
    ],
    [
      'an endpoint URL',
      { CLUSTER_ENDPOINT: 'rediss://cache:6379' },
      'CLUSTER_ENDPOINT',
      'CLUSTER_ENDPOINT must be host:port (no URL scheme), got "rediss://cache:6379"' + HINT,
    ],
    [
      'a port out of range',
      { CLUSTER_ENDPOINT: 'cache:70000' },
      'CLUSTER_ENDPOINT',
      'CLUSTER_ENDPOINT must be host:port (port between 1 and 65535), got "cache:70000"' + HINT,
    ],
    [
      'port zero',
      { CLUSTER_ENDPOINT: 'cache:0' },
      'CLUSTER_ENDPOINT',
      'CLUSTER_ENDPOINT must be host:port (port between 1 and 65535), got "cache:0"' + HINT,
    ],
    [
      'a bad IPv6 literal',
      { CLUSTER_ENDPOINT: '[zz::1]:6379' },
      'CLUSTER_ENDPOINT',
      'CLUSTER_ENDPOINT must be host:port (a host, a colon and a port number), got "[zz::1]:6379"' +
        HINT,
    ],
    [
      'a bad host name',
      { CLUSTER_ENDPOINT: '-bad-.example:6379' },
      'CLUSTER_ENDPOINT',
      'CLUSTER_ENDPOINT must be host:port (a valid DNS name or IP address), got "-bad-.example:6379"' +
        HINT,
    ],
    [
      'a non-boolean TLS flag',
      { CLUSTER_TLS: 'yes' },
      'CLUSTER_TLS',
      'CLUSTER_TLS must be true or false, got "yes"',
    ],
    [
      'a non-numeric timeout',
      { PROBE_TIMEOUT_MS: '1s' },
      'PROBE_TIMEOUT_MS',
      'PROBE_TIMEOUT_MS must be a whole number of milliseconds between 1 and 60000, got "1s"',
    ],
    [
      'a zero timeout',
      { PROBE_TIMEOUT_MS: '0' },
      'PROBE_TIMEOUT_MS',
      'PROBE_TIMEOUT_MS must be a whole number of milliseconds between 1 and 60000, got "0"',
    ],
    [
      'a negative deadline',
      { PROBE_DEADLINE_MS: '-5' },
      'PROBE_DEADLINE_MS',
      'PROBE_DEADLINE_MS must be a whole number of milliseconds between 1 and 900000, got "-5"',
    ],
    [
      'a fractional deadline',
      { PROBE_DEADLINE_MS: '1.5' },
      'PROBE_DEADLINE_MS',
      'PROBE_DEADLINE_MS must be a whole number of milliseconds between 1 and 900000, got "1.5"',
    ],
    [
      'a timeout not below the deadline',
      { PROBE_TIMEOUT_MS: '5000', PROBE_DEADLINE_MS: '5000' },
      'PROBE_TIMEOUT_MS',
      'PROBE_TIMEOUT_MS (5000) must be below PROBE_DEADLINE_MS (5000): one command cannot take the whole sweep',
    ],
    [
      'an unknown sink',
      { METRICS_SINK: 'prometheus' },
      'METRICS_SINK',
      'METRICS_SINK must be one of cloudwatch, emf, none, got "prometheus"',
    ],
    [
      'a reserved namespace',
      { METRICS_NAMESPACE: 'AWS/ElastiCache' },
      'METRICS_NAMESPACE',
      'METRICS_NAMESPACE must be 1 to 255 of the characters 0-9 A-Z a-z . - _ / # : and not start with AWS/, got "AWS/ElastiCache"',
    ],
    [
      'a namespace with spaces',
      { METRICS_NAMESPACE: 'My Cache' },
      'METRICS_NAMESPACE',
      'METRICS_NAMESPACE must be 1 to 255 of the characters 0-9 A-Z a-z . - _ / # : and not start with AWS/, got "My Cache"',
    ],
    [
      'a missing CA file',
      { CLUSTER_TLS_CA_FILE: '/nonexistent/ca.pem' },
      'CLUSTER_TLS_CA_FILE',
      'CLUSTER_TLS_CA_FILE: cannot read CA file "/nonexistent/ca.pem" (ENOENT)',
    ],
    [
      'a CA file that is a directory',
      { CLUSTER_TLS_CA_FILE: dir },
      'CLUSTER_TLS_CA_FILE',
      `CLUSTER_TLS_CA_FILE: cannot read CA file ${JSON.stringify(dir)} (EISDIR)`,
    ],
    [
      'a CA file without certificate',
      { CLUSTER_TLS_CA_FILE: notPem },
      'CLUSTER_TLS_CA_FILE',
      `CLUSTER_TLS_CA_FILE: ${JSON.stringify(notPem)} holds no valid PEM certificate (expected -----BEGIN CERTIFICATE-----)`,
    ],
    [
      'a user name with spaces',
      { CLUSTER_USERNAME: 'probe user' },
      'CLUSTER_USERNAME',
      'CLUSTER_USERNAME must be an ACL user name without spaces (at most 128 characters), got "probe user"',
    ],
    [
      'a malformed secret ARN',
      { CLUSTER_AUTH_SECRET_ARN: 'my-secret' },
      'CLUSTER_AUTH_SECRET_ARN',
      'CLUSTER_AUTH_SECRET_ARN must be a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>), got "my-secret"',
    ],
    [
      'a control character in the cluster name',
      { CLUSTER_NAME: 'a\u0007b' },
      'CLUSTER_NAME',
      'CLUSTER_NAME must be 1 to 255 printable characters (it is the Cluster dimension), got "a\\u0007b"',
    ],
    [
      'zero sweeps per invocation',
      { PROBE_SWEEPS_PER_INVOCATION: '0' },
      'PROBE_SWEEPS_PER_INVOCATION',
      'PROBE_SWEEPS_PER_INVOCATION must be a whole number between 1 and 60, got "0"',
    ],
    [
      'a sweep interval in seconds',
      { PROBE_SWEEP_INTERVAL_MS: '10s' },
      'PROBE_SWEEP_INTERVAL_MS',
      'PROBE_SWEEP_INTERVAL_MS must be a whole number of milliseconds between 1 and 900000, got "10s"',
    ],
    [
      'a non-boolean resolution flag',
      { METRICS_HIGH_RESOLUTION: '1' },
      'METRICS_HIGH_RESOLUTION',
      'METRICS_HIGH_RESOLUTION must be true or false, got "1"',
    ],
    [
      'both a token and a secret',
      {
        CLUSTER_AUTH_TOKEN: 'x',
        CLUSTER_AUTH_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:t',
      },
      'CLUSTER_AUTH_TOKEN',
      'set CLUSTER_AUTH_TOKEN or CLUSTER_AUTH_SECRET_ARN, not both: which token should win is not obvious',
    ],
  ])('%s', (_case, env, setting, message) => {
    // Act
    const error = configError(() => load(env));

    // Assess
    expect(error.setting).toBe(setting);
    expect(error.message).toBe(message);
  });

  it('never echoes a bad token', () => {
    const token = 'tok en-with-a-space';
    const error = configError(() => load({ CLUSTER_AUTH_TOKEN: token }));
    expect(error.setting).toBe('CLUSTER_AUTH_TOKEN');
    expect(error.message).toBe(
      'CLUSTER_AUTH_TOKEN contains whitespace or control characters (value not shown)',
    );
    expect(error.message).not.toContain('en-with');
  });
});

describe('the token', () => {
  it('is redacted in every textual form', () => {
    const config = load({ CLUSTER_AUTH_TOKEN: 'hunter2-very-secret' });
    const forms = [
      JSON.stringify(config),
      inspect(config, { depth: 5 }),
      `${String(config.authToken)}`,
      String(config.authToken),
    ];
    for (const form of forms) {
      expect(form).not.toContain('hunter2');
      expect(form).toContain('[redacted]');
    }
    expect(config.authToken?.scrub('AUTH hunter2-very-secret failed')).toBe(
      'AUTH [redacted] failed',
    );
  });
});

describe('CLUSTER_AUTH_MODE', () => {
  const iam = {
    CLUSTER_AUTH_MODE: 'iam',
    CLUSTER_USERNAME: 'slotwatch-probe',
    ELASTICACHE_REPLICATION_GROUP_ID: 'orders-cache',
    AWS_REGION: 'eu-central-1',
  };
  const without = (name: keyof typeof iam): Record<string, string> =>
    Object.fromEntries(Object.entries(iam).filter(([key]) => key !== name));

  it('is token by default, without an IAM target', () => {
    const config = load({ ELASTICACHE_REPLICATION_GROUP_ID: 'orders-cache' });

    expect(config.authMode).toBe('token');
    expect(config.iam).toBeUndefined();
  });

  it('iam: signs for the user, the replication group and the region given', () => {
    const config = load(iam);

    expect(config.authMode).toBe('iam');
    expect(config.iam).toEqual({
      replicationGroupId: 'orders-cache',
      userId: 'slotwatch-probe',
      region: 'eu-central-1',
    });
    expect(config.authToken).toBeUndefined();
  });

  it('takes --auth-mode and --replication-group-id from the command line', () => {
    const config = load(without('ELASTICACHE_REPLICATION_GROUP_ID'), {
      flags: {
        CLUSTER_AUTH_MODE: { value: 'iam', flag: '--auth-mode' },
        ELASTICACHE_REPLICATION_GROUP_ID: { value: 'Other-Group', flag: '--replication-group-id' },
      },
    });

    expect(config.iam?.replicationGroupId).toBe('Other-Group');
  });

  it.each<[string, Record<string, string>, string, string]>([
    [
      'an unknown mode',
      { CLUSTER_AUTH_MODE: 'IAM' },
      'CLUSTER_AUTH_MODE',
      'CLUSTER_AUTH_MODE must be one of token, iam, got "IAM"',
    ],
    [
      'iam without a user',
      without('CLUSTER_USERNAME'),
      'CLUSTER_USERNAME',
      'CLUSTER_USERNAME is required with CLUSTER_AUTH_MODE=iam: the ElastiCache user (IAM authentication) whose id the token is signed for',
    ],
    [
      'iam with a user name that cannot be a user id',
      { ...iam, CLUSTER_USERNAME: 'probe_user' },
      'CLUSTER_USERNAME',
      'CLUSTER_USERNAME must be an ElastiCache user id with CLUSTER_AUTH_MODE=iam (a letter, then letters, digits and hyphens; IAM users have id = name), got "probe_user"',
    ],
    [
      'iam without a replication group',
      without('ELASTICACHE_REPLICATION_GROUP_ID'),
      'ELASTICACHE_REPLICATION_GROUP_ID',
      'ELASTICACHE_REPLICATION_GROUP_ID is required with CLUSTER_AUTH_MODE=iam: the replication group the IAM auth token is signed for',
    ],
    [
      'iam with a bad replication group id',
      { ...iam, ELASTICACHE_REPLICATION_GROUP_ID: 'orders--cache' },
      'ELASTICACHE_REPLICATION_GROUP_ID',
      'ELASTICACHE_REPLICATION_GROUP_ID must be a replication group id (1 to 40 letters, digits or hyphens, starting with a letter), got "orders--cache"',
    ],
    [
      'iam without a region',
      without('AWS_REGION'),
      'AWS_REGION',
      'AWS_REGION is required with CLUSTER_AUTH_MODE=iam: the region the IAM auth token is signed for (Lambda sets it)',
    ],
    [
      'iam with a bad region',
      { ...iam, AWS_REGION: 'Frankfurt' },
      'AWS_REGION',
      'AWS_REGION must be an AWS region such as us-east-1, got "Frankfurt"',
    ],
    [
      'iam without TLS',
      { ...iam, CLUSTER_TLS: 'false' },
      'CLUSTER_TLS',
      'CLUSTER_TLS must be true with CLUSTER_AUTH_MODE=iam: ElastiCache accepts IAM authentication only over TLS',
    ],
    [
      'iam beside a fixed token',
      { ...iam, CLUSTER_AUTH_TOKEN: 'hunter2-very-secret' },
      'CLUSTER_AUTH_TOKEN',
      'CLUSTER_AUTH_TOKEN cannot be combined with CLUSTER_AUTH_MODE=iam: IAM mode signs its own token; unset CLUSTER_AUTH_TOKEN or use CLUSTER_AUTH_MODE=token',
    ],
    [
      'iam beside a secret',
      {
        ...iam,
        CLUSTER_AUTH_SECRET_ARN:
          'arn:aws:secretsmanager:eu-central-1:123456789012:secret:slotwatch-AbCdEf',
      },
      'CLUSTER_AUTH_SECRET_ARN',
      'CLUSTER_AUTH_SECRET_ARN cannot be combined with CLUSTER_AUTH_MODE=iam: IAM mode signs its own token; unset CLUSTER_AUTH_SECRET_ARN or use CLUSTER_AUTH_MODE=token',
    ],
  ])('rejects %s', (_case, env, setting, message) => {
    // Act
    const error = configError(() => load(env));

    // Assess
    expect(error.setting).toBe(setting);
    expect(error.message).toBe(message);
    expect(error.message).not.toContain('hunter2');
  });
});
