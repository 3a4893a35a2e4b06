/**
 * The fault matrix, credentials and AWS half: an AUTH token rotation, and CloudWatch and Secrets
 * Manager throttling, failing or unreachable. The probe runs as the Lambda runs it (runner,
 * invocation, Secrets Manager token source, CloudWatch sink, the real AWS SDK) against a real
 * local cluster, with the SDK pointed at the local fake endpoints. Every case also checks that
 * nothing raised an unhandled rejection and that a closed runner leaves no socket or timer.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type ProbeConfig } from '../../lambda/config.js';
import { MetricsPublishError } from '../../lambda/errors.js';
import { runInvocation, type InvocationSummary } from '../../lambda/invocation.js';
import type { LocalCluster } from '../../tools/local/local-cluster.js';
import { jsonLogger, type Logger } from '../../lambda/log.js';
import { createSink } from '../../lambda/metrics/sink.js';
import { ProbeRunner } from '../../lambda/runner.js';
import { tokenSourceFor } from '../../lambda/token-source.js';
import { TEST_TIMEOUTS, adminOn, useTestCluster } from '../support/cluster.js';
import { TARGET, applyEnv, startFakeAws, type FakeAws } from '../support/fake-aws.js';
import {
  DEADLINE_MS,
  MARGIN_MS,
  expectResourcesBackTo,
  liveResources,
  recordProcessFaults,
  runProbeCli,
} from '../support/fault-matrix.js';

const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:slotwatch/auth-AbCdEf';
const NAMESPACE = 'Test/FaultMatrix';
/** A port nothing listens on (discard): connection refused. */
const REFUSED_URL = 'http://127.0.0.1:9';

let cluster: LocalCluster;
let aws: FakeAws;
let restoreEnv: () => void = () => undefined;

const handle = useTestCluster();
beforeAll(async () => {
  cluster = handle.cluster;
  aws = await startFakeAws({ keepAlive: false });
  // The SDK clients read their endpoints and credentials from the environment.
  restoreEnv = applyEnv(aws.env);
});
afterAll(async () => {
  restoreEnv();
  await aws?.close();
});
recordProcessFaults();

/** The cluster's settings as the Lambda gets them: the token only through the secret. */
function lambdaEnv(overrides: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {
    ...cluster.env(),
    ...TEST_TIMEOUTS,
    CLUSTER_AUTH_SECRET_ARN: SECRET_ARN,
    METRICS_NAMESPACE: NAMESPACE,
    ...overrides,
  };
  delete env.CLUSTER_AUTH_TOKEN;
  return env;
}

interface Probe {
  readonly config: ProbeConfig;
  readonly runner: ProbeRunner;
  /** Every log line the runner wrote. */
  readonly lines: string[];
  readonly log: Logger;
}

/** A cold start: a runner built the way the handler builds one. */
function coldProbe(overrides: Record<string, string> = {}): Probe {
  const config = loadConfig({ env: lambdaEnv(overrides), defaultSink: 'cloudwatch' });
  const lines: string[] = [];
  const log = jsonLogger((line) => lines.push(line));
  const runner = new ProbeRunner(config, {
    sink: createSink(config.metricsSink, config.metricsNamespace),
    tokens: tokenSourceFor(config),
    log,
  });
  return { config, runner, lines, log };
}

/** One scheduled invocation with 30 s to run, as the handler runs it. */
const invoke = (probe: Probe, remainingMs = 30_000): Promise<InvocationSummary> => {
  const until = performance.now() + remainingMs;
  return runInvocation(probe.runner, probe.config, () => until - performance.now(), probe.log);
};

/** Runs `work` with a cold probe, closes it, and checks it left nothing open behind. */
async function withColdProbe<T>(
  overrides: Record<string, string>,
  work: (probe: Probe) => Promise<T>,
): Promise<T> {
  const baseline = liveResources();
  const probe = coldProbe(overrides);
  try {
    return await work(probe);
  } finally {
    probe.runner.close();
    await expectResourcesBackTo(baseline);
  }
}

const putAttempts = () => aws.requests.filter((r) => r.target === TARGET.putMetricData);
const secretReads = () => aws.requests.filter((r) => r.target === TARGET.getSecretValue);
const probeSuccessValues = () =>
  aws.putMetricData.flatMap((request) =>
    request.body.MetricData.filter(
      (d) => d.MetricName === 'ProbeSuccess' && d.Dimensions?.length === 1,
    ).map((d) => d.Value),
  );
const sweepLines = (probe: Probe) =>
  probe.lines
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line.message === 'sweep');

async function onEveryNode(token: string, ...commands: string[][]): Promise<void> {
  for (const node of cluster.nodes) {
    await adminOn(
      cluster,
      node.port,
      async (admin) => {
        for (const [name = '', ...args] of commands) await admin.call(name, ...args);
      },
      token,
    );
  }
}

/** total_connections_received of every node, in node order (the asking connection included). */
async function connectionsReceived(): Promise<number[]> {
  const counts: number[] = [];
  for (const node of cluster.nodes) {
    await adminOn(cluster, node.port, async (admin) => {
      const stats = await admin.info('stats');
      counts.push(Number(/total_connections_received:(\d+)/.exec(stats)?.[1]));
    });
  }
  return counts;
}

describe('an AUTH token rotation', () => {
  it('moves from the old token to the new one with no false failure at any step, printing neither', async () => {
    // Prepare: a warm probe with the old token cached.
    const oldToken = cluster.settings.token;
    const newToken = randomBytes(16).toString('hex');
    aws.setSecret(SECRET_ARN, JSON.stringify({ token: oldToken }));
    aws.reset();
    const baseline = liveResources();
    const warm = coldProbe();
    const summaries: InvocationSummary[] = [];
    const cold: Probe[] = [];
    const coldInvoke = async (): Promise<void> => {
      const probe = coldProbe();
      cold.push(probe);
      summaries.push(await invoke(probe));
      probe.runner.close();
    };
    let cliOutput: string | undefined;
    try {
      summaries.push(await invoke(warm));

      // Act 1: both tokens valid (ElastiCache's ROTATE strategy); replicas re-authenticate to
      // their primaries with the new one.
      await onEveryNode(
        oldToken,
        ['ACL', 'SETUSER', 'default', `>${newToken}`],
        ['CONFIG', 'SET', 'masterauth', newToken],
      );
      summaries.push(await invoke(warm));
      await coldInvoke();

      // Act 2: the secret moves to the new token. The warm probe keeps its old one (still
      // valid); a cold start reads the new one.
      aws.setSecret(SECRET_ARN, JSON.stringify({ token: newToken }));
      summaries.push(await invoke(warm));
      await coldInvoke();

      // Act 3: only the new token is valid. Warm connections stay authenticated; once the
      // servers drop them (idle timeout, failover), the old token fails AUTH and the probe
      // re-reads the secret and sweeps again with the new one, within the same invocation.
      await onEveryNode(newToken, ['ACL', 'SETUSER', 'default', `<${oldToken}`]);
      summaries.push(await invoke(warm));
      await onEveryNode(newToken, ['CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes']);
      summaries.push(await invoke(warm));
      await coldInvoke();
      const cli = await runProbeCli({ ...lambdaEnv(), ...aws.env, METRICS_SINK: 'none' }, [
        oldToken,
        newToken,
      ]);
      cliOutput = cli.run.stdout + cli.run.stderr;
      expect(cli.report.ok, cli.run.stderr).toBe(true);
    } finally {
      warm.runner.close();
      // Back to the cluster's own token, which the other tests' admin connections use. (Not
      // with CONFIG SET requirepass: its value never changed, so Redis would skip applying it.)
      await onEveryNode(
        newToken,
        ['ACL', 'SETUSER', 'default', 'resetpass', `>${oldToken}`],
        ['CONFIG', 'SET', 'masterauth', oldToken],
      );
    }

    // Assess: every sweep passed and published ProbeSuccess 1; none was ever 0.
    expect(summaries.map((s) => s.ok)).toEqual(Array<boolean>(summaries.length).fill(true));
    expect(probeSuccessValues()).toEqual(Array<number>(summaries.length).fill(1));
    // The warm probe read the secret at its cold start and once after AUTH failed.
    const warmSweeps = sweepLines(warm);
    expect(warmSweeps.every((line) => line.ok === true)).toBe(true);
    expect(warm.lines.join('\n')).toContain('AUTH failed and a new token is available');
    expect(secretReads()).toHaveLength(2 + cold.length + 1);
    for (const text of [...warm.lines, ...cold.flatMap((p) => p.lines), cliOutput ?? '']) {
      expect(text).not.toContain(oldToken);
      expect(text).not.toContain(newToken);
    }
    await expectResourcesBackTo(baseline);
  });
});

describe('CloudWatch', () => {
  it('throttling a few times: the SDK retries get the metrics through', async () => {
    aws.setSecret(SECRET_ARN, cluster.settings.token);
    aws.reset();
    aws.fail(TARGET.putMetricData, 'throttle', 2);

    const summary = await withColdProbe({}, (probe) => invoke(probe));

    expect(summary.ok).toBe(true);
    expect(putAttempts().map((r) => r.status)).toEqual([400, 400, 200]);
    expect(probeSuccessValues()).toEqual([1]);
  });

  it('throttling that persists: the invocation fails with a named error after every sweep tried', async () => {
    aws.setSecret(SECRET_ARN, cluster.settings.token);
    aws.reset();
    aws.fail(TARGET.putMetricData, 'throttle', Infinity);

    const outcome = withColdProbe(
      { PROBE_SWEEPS_PER_INVOCATION: '2', PROBE_SWEEP_INTERVAL_MS: '100' },
      async (probe) => {
        const invocation = invoke(probe);
        await expect(invocation).rejects.toThrow(MetricsPublishError);
        await expect(invocation).rejects.toThrow(
          /^metrics of 2 of 2 sweeps were not published: 1 of 1 PutMetricData requests to namespace Test\/FaultMatrix failed; first: Throttling: Rate exceeded/,
        );
        return sweepLines(probe);
      },
    );

    // Both sweeps ran and passed; each one's request was attempted three times (the SDK's
    // attempts), none accepted.
    const sweeps = await outcome;
    expect(sweeps.map((line) => line.ok)).toEqual([true, true]);
    expect(putAttempts()).toHaveLength(6);
    expect(aws.putMetricData).toHaveLength(0);
  });

  it.each([
    ['answering 503', 'unavailable', /first: ServiceUnavailable: Service is unavailable/],
    ['answering 500', 'internal-error', /first: InternalServiceFault: An internal error/],
    ['dropping every connection', 'reset', /first: \w+: .*(socket hang up|ECONNRESET)/],
  ] as const)(
    'unavailable (%s): the invocation fails with a named error, after the SDK retries',
    async (_case, fault, cause) => {
      aws.setSecret(SECRET_ARN, cluster.settings.token);
      aws.reset();
      aws.fail(TARGET.putMetricData, fault, Infinity);

      await withColdProbe({}, async (probe) => {
        await expect(invoke(probe)).rejects.toThrow(cause);
      });

      expect(putAttempts()).toHaveLength(3);
    },
  );

  it('unreachable (connection refused): the invocation fails naming the refusal', async () => {
    aws.setSecret(SECRET_ARN, cluster.settings.token);
    aws.reset();
    const restore = applyEnv({ AWS_ENDPOINT_URL_CLOUDWATCH: REFUSED_URL });
    try {
      await withColdProbe({}, async (probe) => {
        await expect(invoke(probe)).rejects.toThrow(/first: \w+: .*ECONNREFUSED/);
        expect(sweepLines(probe).map((line) => line.ok)).toEqual([true]);
      });
    } finally {
      restore();
    }
  });

  it('failing under the CLI: the round still reports, stderr names the error, the process exits', async () => {
    aws.setSecret(SECRET_ARN, cluster.settings.token);
    aws.reset();
    aws.fail(TARGET.putMetricData, 'unavailable', Infinity);

    const { run, report } = await runProbeCli(
      { ...lambdaEnv(), ...aws.env, METRICS_SINK: 'cloudwatch' },
      [cluster.settings.token],
    );

    expect(report.ok).toBe(true);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/^slotwatch: metrics not published: .*ServiceUnavailable/m);
    expect(putAttempts()).toHaveLength(3);
  });
});

describe('Secrets Manager', () => {
  it.each([
    ['answering 500', 'internal-error', /InternalServiceError: An internal error occurred/],
    ['answering 503', 'unavailable', /ServiceUnavailable: Service is unavailable/],
    ['dropping every connection', 'reset', /(socket hang up|ECONNRESET)/],
  ] as const)(
    'unavailable at a cold start (%s): ProbeSuccess 0 with a named cause, the cluster never contacted',
    async (_case, fault, cause) => {
      // Prepare
      aws.setSecret(SECRET_ARN, cluster.settings.token);
      aws.reset();
      aws.fail(TARGET.getSecretValue, fault, Infinity);
      const before = await connectionsReceived();

      // Act
      const { summary, sweeps } = await withColdProbe({}, async (probe) => ({
        summary: await invoke(probe),
        sweeps: sweepLines(probe),
      }));

      // Assess
      expect(summary.ok).toBe(false);
      expect(probeSuccessValues()).toEqual([0]);
      expect(sweeps).toHaveLength(1);
      expect(sweeps[0]?.error).toMatch(new RegExp(`^secret: cannot read secret ${SECRET_ARN}: `));
      expect(sweeps[0]?.error).toMatch(cause);
      expect(secretReads()).toHaveLength(3);
      // Only the connection that asked each node for its count: no sweep without a token.
      const after = await connectionsReceived();
      expect(after.map((count, i) => count - (before[i] ?? 0))).toEqual(before.map(() => 1));
    },
  );

  it('hanging: the sweep still ends within its deadline, ProbeSuccess 0', async () => {
    aws.setSecret(SECRET_ARN, cluster.settings.token);
    aws.reset();
    aws.fail(TARGET.getSecretValue, 'hang', Infinity);

    const sweeps = await withColdProbe({}, async (probe) => {
      expect((await invoke(probe)).ok).toBe(false);
      return sweepLines(probe);
    });

    expect(sweeps[0]?.error).toMatch(/^secret: cannot read secret .*: \w+/);
    expect(Number(sweeps[0]?.durationMs)).toBeLessThan(DEADLINE_MS + MARGIN_MS);
    expect(probeSuccessValues()).toEqual([0]);
  });

  it('unavailable while warm: the cached token keeps the probe going, with no false alarm', async () => {
    aws.setSecret(SECRET_ARN, cluster.settings.token);
    aws.reset();

    const summaries = await withColdProbe({}, async (probe) => {
      const first = await invoke(probe);
      aws.fail(TARGET.getSecretValue, 'unavailable', Infinity);
      return [first, await invoke(probe)];
    });

    expect(summaries.map((s) => s.ok)).toEqual([true, true]);
    expect(probeSuccessValues()).toEqual([1, 1]);
    expect(secretReads()).toHaveLength(1);
  });

  it('unreachable under the CLI: one report with the cause, exit 1, and the process exits', async () => {
    aws.setSecret(SECRET_ARN, cluster.settings.token);
    aws.reset();

    const { report, probeSuccess } = await runProbeCli(
      { ...lambdaEnv(), ...aws.env, AWS_ENDPOINT_URL_SECRETS_MANAGER: REFUSED_URL },
      [cluster.settings.token],
    );

    expect(report).toMatchObject({ ok: false, nodes: [] });
    expect(report.error).toMatch(/^secret: cannot read secret .*ECONNREFUSED/);
    expect(probeSuccess).toBe(0);
  });

  it('hanging under the CLI: the round ends within its deadline and the process exits', async () => {
    aws.setSecret(SECRET_ARN, cluster.settings.token);
    aws.reset();
    aws.fail(TARGET.getSecretValue, 'hang', Infinity);

    const { report } = await runProbeCli({ ...lambdaEnv(), ...aws.env }, [cluster.settings.token]);

    expect(report).toMatchObject({ ok: false, nodes: [] });
    expect(report.error).toMatch(/^secret: cannot read secret /);
    expect(report.durationMs).toBeLessThan(DEADLINE_MS + MARGIN_MS);
  });
});
