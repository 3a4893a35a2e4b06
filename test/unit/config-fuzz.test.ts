/**
 * Property-based tests of what slotwatch reads from its operator: the environment (loadConfig),
 * the Secrets Manager value (tokenFromSecretValue) and the command line (parseFlags). Any input
 * ends in a valid result or in the project's named error, which names the variable or flag and
 * never holds a secret; never in a TypeError. Valid settings come back exactly as given.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { integerFlag, parseFlags } from '../../tools/cli/args.js';
import { DEFAULTS, ENV, MetricsSink, PerNodeMetrics, loadConfig } from '../../lambda/config.js';
import { ConfigError, SecretError } from '../../lambda/errors.js';
import { tokenFromSecretValue } from '../../lambda/token-source.js';

const RUNS = { seed: 7_2026, numRuns: 1000 };
const VARIABLES = Object.values(ENV);

const dir = mkdtempSync(join(tmpdir(), 'slotwatch-config-fuzz-'));
const notPem = join(dir, 'not-a-cert.pem');
writeFileSync(
  notPem,
  '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n',
);
const SYSTEM_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';
/** CA files the fuzzer may name: missing, a directory, not a certificate, and a real bundle. */
const CA_FILES = [
  join(dir, 'missing.pem'),
  dir,
  notPem,
  ...(existsSync(SYSTEM_BUNDLE) ? [SYSTEM_BUNDLE] : []),
];

/** Values near the valid ones as well as anything at all. */
const value: fc.Arbitrary<string> = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom(
    '',
    ' ',
    '0',
    '1',
    '-1',
    '1e3',
    '0x10',
    '999999999999',
    '1000',
    '10000',
    'true',
    'FALSE',
    'yes',
    'emf',
    'cloudwatch',
    'none',
    'all',
    'AWS/Elasticache',
    'host:6379',
    '[::1]:6379',
    '[nope]:1',
    'redis://host:6379',
    'host:0',
    'host:65536',
    '127.0.0.1:6380',
    'arn:aws:secretsmanager:us-east-1:123456789012:secret:x',
  ),
  fc
    .tuple(fc.domain(), fc.integer({ min: -1, max: 70_000 }))
    .map(([host, port]) => `${host}:${port}`),
);

/** An environment with some of slotwatch's variables (and a stray one) set to those values. */
const environment: fc.Arbitrary<Record<string, string>> = fc
  .dictionary(fc.constantFrom(...VARIABLES, 'UNRELATED'), value, { maxKeys: 8 })
  .chain((env) =>
    fc
      .option(fc.constantFrom(...CA_FILES), { nil: undefined })
      .map((ca) => (ca === undefined ? env : { ...env, [ENV.caFile]: ca })),
  );

/** A token that nothing else in a message could contain by chance. */
const TOKEN = 'SeCrEt-7f3a9c1e-token';

function loadOrNamedError(env: Record<string, string | undefined>) {
  try {
    return loadConfig({ env, defaultSink: 'none' });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const set = Object.keys(env).filter((name) => (env[name] ?? '').trim() !== '');
    expect([...set, ENV.endpoint]).toContain(error.setting);
    expect(error.message).toContain(error.setting);
    expect(error.message).not.toMatch(/[\r\n]/);
    expect(error.message).not.toContain(TOKEN);
    return undefined;
  }
}

describe('loadConfig under fuzzing', () => {
  it('gives a valid config or a ConfigError naming a variable that was set', () => {
    fc.assert(
      fc.property(environment, fc.boolean(), (env, withToken) => {
        const config = loadOrNamedError(withToken ? { ...env, [ENV.authToken]: TOKEN } : env);
        if (config === undefined) return;
        expect(config.timeoutMs).toBeLessThan(config.deadlineMs);
        expect(Number.isInteger(config.endpoint.port)).toBe(true);
        expect(config.endpoint.port).toBeGreaterThanOrEqual(1);
        expect(config.endpoint.port).toBeLessThanOrEqual(65_535);
        expect(Object.values(MetricsSink)).toContain(config.metricsSink);
        expect(Object.values(PerNodeMetrics)).toContain(config.perNodeMetrics);
        expect(config.clusterName.length).toBeGreaterThan(0);
        expect(config.sweepsPerInvocation).toBeGreaterThanOrEqual(1);
        expect(JSON.stringify(config)).not.toContain(TOKEN);
      }),
      RUNS,
    );
  });

  it('never echoes a bad token, whatever is wrong with it', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }),
        fc.constantFrom(' ', '\t', '\n', '\u0000'),
        (t, bad) => {
          const token = `${TOKEN}${bad}${t}`;
          let error: unknown;
          try {
            loadConfig({
              env: { [ENV.endpoint]: 'h:1', [ENV.authToken]: token },
              defaultSink: 'none',
            });
          } catch (caught) {
            error = caught;
          }
          expect(error).toBeInstanceOf(ConfigError);
          expect((error as ConfigError).setting).toBe(ENV.authToken);
          expect((error as ConfigError).message).not.toContain(TOKEN);
        },
      ),
      { ...RUNS, numRuns: 200 },
    );
  });

  it('returns valid settings exactly as given, surrounding whitespace ignored', () => {
    const label = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}[a-z0-9]$/);
    const valid = fc.record({
      host: fc.oneof(
        fc.tuple(label, label).map(([a, b]) => `${a}.${b}.example.com`),
        fc.ipV4(),
      ),
      port: fc.integer({ min: 1, max: 65_535 }),
      timeoutMs: fc.integer({ min: 1, max: 59_999 }),
      extraMs: fc.integer({ min: 1, max: 100_000 }),
      tls: fc.constantFrom('true', 'false', 'TRUE', 'False'),
      sink: fc.constantFrom(...Object.values(MetricsSink)),
      namespace: fc
        .stringMatching(/^[0-9A-Za-z.\-_/#:]{1,40}$/)
        .filter((n) => !n.startsWith('AWS/')),
      pad: fc.constantFrom('', ' ', '\t', '  '),
    });
    fc.assert(
      fc.property(valid, (v) => {
        const deadlineMs = Math.min(v.timeoutMs + v.extraMs, 900_000);
        const config = loadConfig({
          env: {
            [ENV.endpoint]: `${v.pad}${v.host}:${v.port}${v.pad}`,
            [ENV.timeoutMs]: `${v.pad}${v.timeoutMs}`,
            [ENV.deadlineMs]: `${deadlineMs}${v.pad}`,
            [ENV.tls]: v.tls,
            [ENV.metricsSink]: v.sink,
            [ENV.metricsNamespace]: v.namespace,
          },
          defaultSink: 'none',
        });
        expect(config).toMatchObject({
          endpoint: { host: v.host, port: v.port },
          timeoutMs: v.timeoutMs,
          deadlineMs,
          tls: v.tls.toLowerCase() === 'true',
          metricsSink: v.sink,
          metricsNamespace: v.namespace,
          sweepsPerInvocation: DEFAULTS.sweepsPerInvocation,
        });
        expect(config.clusterName).toBe(
          /^\d/.test(v.host) ? `${v.host}-${v.port}` : v.host.split('.')[0],
        );
      }),
      { ...RUNS, numRuns: 500 },
    );
  });
});

/** The messages and properties of an error and of every cause behind it, as a logger shows them. */
function causeChain(error: unknown): string[] {
  const shown: string[] = [];
  let current = error;
  for (let depth = 0; depth < 10 && current !== undefined; depth++) {
    shown.push(
      current instanceof Error ? `${current.message} ${JSON.stringify(current)}` : inspect(current),
    );
    current = current instanceof Error ? current.cause : undefined;
  }
  return shown;
}

describe('tokenFromSecretValue under fuzzing', () => {
  const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:probe-auth';

  /** Every 8-character piece of `secret`: none may surface in a message. */
  const pieces = (secret: string) =>
    Array.from({ length: secret.length - 7 }, (_, i) => secret.slice(i, i + 8));

  it('gives a token or a SecretError that shows no part of the secret, cause included', () => {
    // A secret as a bare word where JSON.parse stops, whose messages quote the text around it.
    const word = fc.stringMatching(/^[g-z][A-Za-z0-9]{11,40}$/);
    const shape = fc.constantFrom(
      (w: string) => `{"token": ${w}}`,
      (w: string) => `{"token": "${w}"`,
      (w: string) => `{${w}`,
      (w: string) => `{"password": "x", ${w}: 1}`,
      (w: string) => `{"token": "${w}"} ${w}`,
    );
    fc.assert(
      fc.property(word, shape, fc.string(), (secret, wrap, noise) => {
        let error: unknown;
        try {
          tokenFromSecretValue(`${wrap(secret)}${noise}`, ARN);
        } catch (caught) {
          error = caught;
        }
        expect(error).toBeInstanceOf(SecretError);
        const { message } = error as SecretError;
        expect(message).toContain(ARN);
        const shown = causeChain(error).join('\n');
        for (const piece of pieces(secret)) expect(shown).not.toContain(piece);
      }),
      { ...RUNS, numRuns: 500 },
    );
  });

  it('gives a token or a SecretError for any value at all', () => {
    const anyValue = fc.oneof(
      fc.string(),
      fc.json(),
      fc.string().map((s) => `{${s}`),
      fc
        .dictionary(fc.constantFrom('token', 'password', 'user', '__proto__'), fc.jsonValue())
        .map((o) => JSON.stringify(o)),
    );
    fc.assert(
      fc.property(anyValue, (value) => {
        try {
          expect(tokenFromSecretValue(value, ARN).length).toBeGreaterThan(0);
        } catch (error) {
          expect(error).toBeInstanceOf(SecretError);
        }
      }),
      RUNS,
    );
  });

  it('reads the token back from a plain value and from either JSON field', () => {
    const token = fc
      .string({ minLength: 1 })
      .filter((t) => t.trim() !== '' && !t.trim().startsWith('{'));
    fc.assert(
      fc.property(token, (t) => {
        expect(tokenFromSecretValue(t, ARN)).toBe(t.trim());
        expect(tokenFromSecretValue(JSON.stringify({ token: t }), ARN)).toBe(t);
        expect(tokenFromSecretValue(JSON.stringify({ password: t, user: 'x' }), ARN)).toBe(t);
      }),
      { ...RUNS, numRuns: 500 },
    );
  });
});

describe('parseFlags under fuzzing', () => {
  const OPTIONS = { json: { type: 'boolean' }, rounds: { type: 'string' } } as const;
  const arg = fc.oneof(
    fc.string(),
    fc.constantFrom(
      '--json',
      '--rounds',
      '--timeout-ms',
      '--endpoint',
      '--',
      '-',
      '-x',
      '--bogus',
      '--rounds=3',
      '--json=1',
    ),
  );

  it('gives flags or a ConfigError naming the flag or the arguments', () => {
    fc.assert(
      fc.property(fc.array(arg, { maxLength: 6 }), (argv) => {
        try {
          const { values } = parseFlags(argv, OPTIONS);
          const rounds = integerFlag(values, 'rounds', 1, 1, 1_000_000);
          expect(Number.isInteger(rounds)).toBe(true);
        } catch (error) {
          expect(error).toBeInstanceOf(ConfigError);
          const { setting, message } = error as ConfigError;
          expect(setting === 'arguments' || setting.startsWith('-')).toBe(true);
          expect(message).toContain(setting === 'arguments' ? 'command line' : setting);
        }
      }),
      RUNS,
    );
  });
});
