/**
 * The real probe Lambda handler against a real local cluster, with the real AWS SDK pointed at
 * local endpoints that speak CloudWatch's and Secrets Manager's JSON protocols.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { InvocationSummary } from '../../lambda/invocation.js';
import { adminOn, portOf, startTestCluster } from '../support/cluster.js';
import { startFakeAws, type FakeAws } from '../support/fake-aws.js';
import type { LocalCluster } from '../../tools/local/local-cluster.js';

const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:slotwatch/auth-AbCdEf';
const NAMESPACE = 'Test/Slotwatch';

let cluster: LocalCluster;
let aws: FakeAws;
const savedEnv = { ...process.env };
let stdout: string[] = [];

beforeAll(async () => {
  [cluster, aws] = await Promise.all([startTestCluster(), startFakeAws()]);
});

afterAll(async () => {
  await aws?.close();
  await cluster?.stop();
});

afterEach(() => {
  process.env = { ...savedEnv };
  vi.restoreAllMocks();
});

type Handler = (
  event: unknown,
  context: { getRemainingTimeInMillis(): number },
) => Promise<InvocationSummary>;

/** A fresh cold start of the handler module with exactly this environment. */
async function coldHandler(env: Record<string, string>): Promise<Handler> {
  // The Lambda takes its token from Secrets Manager, never from the environment.
  const clusterEnv = cluster.env();
  delete clusterEnv.CLUSTER_AUTH_TOKEN;
  process.env = {
    PATH: savedEnv.PATH,
    ...clusterEnv,
    ...aws.env,
    CLUSTER_AUTH_SECRET_ARN: SECRET_ARN,
    METRICS_NAMESPACE: NAMESPACE,
    PROBE_TIMEOUT_MS: '500',
    PROBE_DEADLINE_MS: '4000',
    ...env,
  };
  stdout = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout.push(String(chunk));
    return true;
  });
  vi.resetModules();
  const module = await import('../../lambda/handlers/probe.js');
  return module.handler;
}

/** A Lambda context whose remaining time runs down with the clock. */
function contextWith(remainingMs: number) {
  const until = performance.now() + remainingMs;
  return { getRemainingTimeInMillis: () => Math.max(0, Math.floor(until - performance.now())) };
}

const datumsNamed = (name: string) =>
  aws.putMetricData.flatMap((request) =>
    request.body.MetricData.filter((d) => d.MetricName === name).map((d) => ({
      ...d,
      namespace: request.body.Namespace,
    })),
  );

describe('the probe handler', () => {
  it('publishes the CONTRACT metrics of a healthy sweep, token from Secrets Manager', async () => {
    // Prepare
    aws.setSecret(SECRET_ARN, JSON.stringify({ token: cluster.settings.token }));
    aws.reset();
    const handler = await coldHandler({});

    // Act
    const summary = await handler({}, contextWith(30_000));

    // Assess
    expect(summary).toMatchObject({ ok: true, skippedSweeps: 0 });
    expect(summary.sweeps).toHaveLength(1);
    const [success] = datumsNamed('ProbeSuccess');
    expect(success).toMatchObject({ namespace: NAMESPACE, Value: 1, Unit: 'None' });
    expect(success?.Dimensions).toEqual([
      { Name: 'Cluster', Value: `127.0.0.1-${portOf(cluster.settings.endpoint)}` },
    ]);
    // The SDK's JSON serializer sends timestamps as epoch seconds.
    expect(new Date(Number(success?.Timestamp) * 1000).toISOString()).toBe(
      summary.sweeps[0]?.startedAt,
    );
    expect(datumsNamed('TotalNodes').find((d) => d.Dimensions?.length === 1)).toMatchObject({
      Value: 6,
      Unit: 'Count',
    });
    const available = datumsNamed('NodeAvailable');
    expect(available).toHaveLength(6);
    expect(available.every((d) => d.Value === 1 && d.Dimensions?.[1]?.Name === 'Node')).toBe(true);
    expect(
      datumsNamed('PingLatency').filter((d) => d.Dimensions?.[1]?.Name === 'Node'),
    ).toHaveLength(6);
    expect(
      datumsNamed('WriteLatency').filter((d) => d.Dimensions?.[1]?.Name === 'Node'),
    ).toHaveLength(3);
    expect(
      datumsNamed('ReplicationLag').filter((d) => d.Dimensions?.[1]?.Name === 'Node'),
    ).toHaveLength(3);
    expect(datumsNamed('SweepDuration')[0]?.Unit).toBe('Milliseconds');
    // One log line per sweep, and the token nowhere.
    const lines = stdout
      .join('')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.filter((l) => l.message === 'sweep')).toHaveLength(1);
    expect(stdout.join('')).not.toContain(cluster.settings.token);
  });

  it('publishes ProbeSuccess 0 when the secret holds a wrong token, without failing the invocation', async () => {
    aws.setSecret(SECRET_ARN, 'not-the-token');
    aws.reset();
    const handler = await coldHandler({});

    const summary = await handler({}, contextWith(30_000));

    expect(summary.ok).toBe(false);
    expect(datumsNamed('ProbeSuccess')[0]?.Value).toBe(0);
    const sweepLine = stdout
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.message === 'sweep');
    expect(sweepLine?.error).toMatch(/^topology: auth: WRONGPASS/);
    // The secret was re-read once after AUTH failed (it might have been rotated).
    expect(aws.requests.filter((r) => r.target === 'secretsmanager.GetSecretValue')).toHaveLength(
      2,
    );
  });

  it('publishes ProbeSuccess 0 when the secret cannot be read at all', async () => {
    aws.reset();
    const handler = await coldHandler({ CLUSTER_AUTH_SECRET_ARN: `${SECRET_ARN}-missing` });

    const summary = await handler({}, contextWith(30_000));

    expect(summary.ok).toBe(false);
    expect(datumsNamed('ProbeSuccess')[0]?.Value).toBe(0);
    const sweepLine = stdout
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.message === 'sweep');
    expect(sweepLine?.error).toMatch(/^secret: cannot read secret .*ResourceNotFoundException/);
  });

  it('publishes ProbeSuccess 0 when the cluster cannot be reached', async () => {
    aws.setSecret(SECRET_ARN, cluster.settings.token);
    aws.reset();
    const handler = await coldHandler({ CLUSTER_ENDPOINT: '127.0.0.1:9', CLUSTER_NAME: 'orders' });

    const summary = await handler({}, contextWith(30_000));

    expect(summary).toMatchObject({ cluster: 'orders', ok: false });
    const [success] = datumsNamed('ProbeSuccess');
    expect(success).toMatchObject({ Value: 0, Dimensions: [{ Name: 'Cluster', Value: 'orders' }] });
    expect(datumsNamed('TotalNodes')[0]?.Value).toBe(0);
  });

  it('follows an AUTH token rotation without a false alarm', async () => {
    // Prepare: a warm handler with the current token cached.
    const oldToken = cluster.settings.token;
    const newToken = `${oldToken}-rotated`;
    aws.setSecret(SECRET_ARN, oldToken);
    aws.reset();
    const handler = await coldHandler({});
    expect((await handler({}, contextWith(30_000))).ok).toBe(true);
    // Rotate: the cluster takes only the new token, the secret holds it, and the probe's
    // connections are closed so that it must AUTH again.
    try {
      for (const node of cluster.nodes) {
        await adminOn(cluster, node.port, async (admin) => {
          await admin.call('CONFIG', 'SET', 'requirepass', newToken);
          await admin.call('CONFIG', 'SET', 'masterauth', newToken);
        });
      }
      aws.setSecret(SECRET_ARN, newToken);
      for (const node of cluster.nodes) {
        await adminOn(
          cluster,
          node.port,
          async (admin) => {
            await admin.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
          },
          newToken,
        );
      }
      aws.reset();

      // Act
      const summary = await handler({}, contextWith(30_000));

      // Assess
      expect(summary.ok, stdout.at(-1)).toBe(true);
      expect(datumsNamed('ProbeSuccess').map((d) => d.Value)).toEqual([1]);
      expect(aws.requests.filter((r) => r.target === 'secretsmanager.GetSecretValue')).toHaveLength(
        1,
      );
      expect(stdout.join('')).not.toContain(newToken);
    } finally {
      for (const node of cluster.nodes) {
        await adminOn(
          cluster,
          node.port,
          async (admin) => {
            await admin.call('CONFIG', 'SET', 'requirepass', oldToken);
            await admin.call('CONFIG', 'SET', 'masterauth', oldToken);
          },
          newToken,
        );
      }
    }
  });

  it('still publishes when CloudWatch throttles twice first', async () => {
    aws.setSecret(SECRET_ARN, cluster.settings.token);
    aws.reset();
    aws.fail('GraniteServiceVersion20100801.PutMetricData', 'throttle', 2);
    const handler = await coldHandler({});

    const summary = await handler({}, contextWith(30_000));

    expect(summary.ok).toBe(true);
    expect(
      aws.requests.filter((r) => r.target === 'GraniteServiceVersion20100801.PutMetricData').length,
    ).toBeGreaterThanOrEqual(3);
    expect(datumsNamed('ProbeSuccess').map((d) => d.Value)).toEqual([1]);
  });

  it('fails the invocation, within a bounded time, when CloudWatch cannot be reached', async () => {
    aws.setSecret(SECRET_ARN, cluster.settings.token);
    const handler = await coldHandler({ AWS_ENDPOINT_URL_CLOUDWATCH: 'http://127.0.0.1:9' });

    const started = performance.now();
    await expect(handler({}, contextWith(30_000))).rejects.toThrow(
      /metrics of 1 of 1 sweeps were not published/,
    );
    // The SDK client's own bounds: 3 attempts, 1 s to connect, 3 s per request, plus backoff.
    expect(performance.now() - started).toBeLessThan(15_000);
  });

  it('writes Embedded Metric Format to stdout with METRICS_SINK=emf, and calls no CloudWatch API', async () => {
    aws.setSecret(SECRET_ARN, cluster.settings.token);
    aws.reset();
    const handler = await coldHandler({ METRICS_SINK: 'emf' });

    const summary = await handler({}, contextWith(30_000));

    expect(summary.ok).toBe(true);
    expect(aws.putMetricData).toHaveLength(0);
    const documents = stdout
      .join('')
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as Record<string, unknown> & {
            _aws?: {
              Timestamp: number;
              CloudWatchMetrics: {
                Namespace: string;
                Dimensions: string[][];
                Metrics: { Name: string; Unit: string }[];
              }[];
            };
          },
      )
      .filter((d) => d._aws !== undefined);
    expect(documents.length).toBeGreaterThan(0);
    for (const document of documents) {
      for (const directive of document._aws?.CloudWatchMetrics ?? []) {
        expect(directive.Namespace).toBe(NAMESPACE);
        for (const dimension of directive.Dimensions.flat())
          expect(typeof document[dimension]).toBe('string');
        for (const metric of directive.Metrics) expect(document[metric.Name]).toBeDefined();
      }
    }
    const clusterDocument = documents.find(
      (d) => d.ProbeSuccess !== undefined && d.Node === undefined && d.Role === undefined,
    );
    expect(clusterDocument?.ProbeSuccess).toBe(1);
    expect(documents.filter((d) => d.NodeAvailable !== undefined)).toHaveLength(6);
  });

  it('runs several sweeps per invocation and stays inside the remaining time', async () => {
    aws.setSecret(SECRET_ARN, cluster.settings.token);
    aws.reset();
    const handler = await coldHandler({
      PROBE_SWEEPS_PER_INVOCATION: '6',
      PROBE_SWEEP_INTERVAL_MS: '1000',
      METRICS_HIGH_RESOLUTION: 'true',
    });

    // Act: 6 sweeps 1 s apart need about 5 s plus the margins; the invocation gets 7.5 s.
    const started = performance.now();
    const summary = await handler({}, contextWith(7_500));
    const elapsed = performance.now() - started;

    // Assess: it ran what fitted, skipped the rest, and ended before the safety margin.
    expect(elapsed).toBeLessThan(7_500 - 1000);
    expect(summary.sweeps.length + summary.skippedSweeps).toBe(6);
    expect(summary.sweeps.length).toBeGreaterThanOrEqual(3);
    expect(summary.skippedSweeps).toBeGreaterThanOrEqual(1);
    const starts = summary.sweeps.map((s) => Date.parse(s.startedAt));
    for (let i = 1; i < starts.length; i++)
      expect((starts[i] ?? 0) - (starts[i - 1] ?? 0)).toBeGreaterThanOrEqual(950);
    expect(datumsNamed('ProbeSuccess')).toHaveLength(summary.sweeps.length);
    expect(datumsNamed('ProbeSuccess').every((d) => d.StorageResolution === 1)).toBe(true);
  });

  it('fails every invocation loudly on a configuration error', async () => {
    const handler = await coldHandler({ PROBE_TIMEOUT_MS: 'fast' });

    await expect(handler({}, contextWith(30_000))).rejects.toThrow(
      'PROBE_TIMEOUT_MS must be a whole number of milliseconds',
    );
    await expect(handler({}, contextWith(30_000))).rejects.toThrow('PROBE_TIMEOUT_MS');
    expect(stdout.join('')).toContain('"message":"configuration error"');
  });
});
