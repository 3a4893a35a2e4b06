/**
 * CloudWatchSink with the real AWS SDK against a local server that speaks PutMetricData's JSON
 * protocol: what arrives on the wire, compression, retries, timeouts and partial failures.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MetricsPublishError } from '../../lambda/errors.js';
import { CloudWatchSink, REQUEST_BYTE_BUDGET } from '../../lambda/metrics/cloudwatch.js';
import type { MetricDatum } from '../../lambda/metrics/datum.js';
import { METRIC } from '../../lambda/metrics/names.js';
import { applyEnv, startFakeAws, TARGET, type FakeAws } from '../support/fake-aws.js';

const NAMESPACE = 'Test/Slotwatch';
const STARTED = new Date('2026-11-22T10:00:00.123Z');
const CLUSTER = { name: 'Cluster', value: 'orders-cache' } as const;

let aws: FakeAws;
let restoreEnv: () => void;

beforeAll(async () => {
  aws = await startFakeAws();
});

afterAll(async () => {
  await aws?.close();
});

// The SDK reads region, credentials and endpoint at a client's first request, so the variables
// stay set for the whole test and are put back after it; other files never see them.
beforeEach(() => {
  aws.reset();
  restoreEnv = applyEnv(aws.env);
});

afterEach(() => {
  restoreEnv();
});

/** A sink with the default client, built now that the AWS_* variables point at the fake. */
const newSink = () => new CloudWatchSink({ namespace: NAMESPACE });

function datum(overrides: Partial<MetricDatum> = {}): MetricDatum {
  return {
    name: 'ProbeSuccess',
    unit: 'None',
    dimensions: [CLUSTER],
    values: [1],
    timestamp: STARTED,
    highResolution: false,
    ...overrides,
  };
}

/** Every metric of names.ts for each of `nodes` nodes. */
function nodeDatums(nodes: number): MetricDatum[] {
  return Array.from({ length: nodes }, (_, n) => `10.0.${n >> 8}.${n & 255}:6379`).flatMap(
    (node, n) =>
      Object.values(METRIC).map((metric, m) =>
        datum({
          name: metric.name,
          unit: metric.unit,
          dimensions: [CLUSTER, { name: 'Node', value: node }],
          values: [n + m / 7],
        }),
      ),
  );
}

/** Every PutMetricData attempt the server saw; aws.putMetricData holds the accepted ones. */
const attempts = () => aws.requests.filter((r) => r.target === TARGET.putMetricData);
const entries = () => aws.putMetricData.flatMap((request) => request.body.MetricData);

describe('CloudWatchSink with the AWS SDK', () => {
  it('sends namespace, names, dimensions, units, values and timestamps as PutMetricData', async () => {
    // Prepare
    const node = { name: 'Node', value: '10.0.0.1:7001' } as const;
    const datums = [
      datum(),
      datum({
        name: 'PingLatency',
        unit: 'Milliseconds',
        dimensions: [CLUSTER, node],
        values: [0.41],
        highResolution: true,
      }),
      datum({
        name: 'PingLatency',
        unit: 'Milliseconds',
        dimensions: [CLUSTER, { name: 'Role', value: 'replica' }],
        values: [0.3, 0.5, 0.3],
      }),
    ];

    // Act
    const result = await newSink().publish(datums);

    // Assess
    expect(result).toEqual({ requests: 1, datums: 3 });
    const [request] = aws.putMetricData;
    expect(request?.headers['content-type']).toBe('application/x-amz-json-1.0');
    expect(request?.headers['x-amz-target']).toBe(TARGET.putMetricData);
    expect(request?.body).toEqual({
      Namespace: NAMESPACE,
      MetricData: [
        {
          MetricName: 'ProbeSuccess',
          Unit: 'None',
          Dimensions: [{ Name: 'Cluster', Value: 'orders-cache' }],
          Timestamp: STARTED.getTime() / 1000,
          Value: 1,
        },
        {
          MetricName: 'PingLatency',
          Unit: 'Milliseconds',
          Dimensions: [
            { Name: 'Cluster', Value: 'orders-cache' },
            { Name: 'Node', Value: '10.0.0.1:7001' },
          ],
          Timestamp: STARTED.getTime() / 1000,
          Value: 0.41,
          StorageResolution: 1,
        },
        {
          MetricName: 'PingLatency',
          Unit: 'Milliseconds',
          Dimensions: [
            { Name: 'Cluster', Value: 'orders-cache' },
            { Name: 'Role', Value: 'replica' },
          ],
          Timestamp: STARTED.getTime() / 1000,
          Values: [0.3, 0.5],
          Counts: [2, 1],
        },
      ],
    });
  });

  it('publishes a 500-node sweep in several gzip-compressed requests that decode intact', async () => {
    // Prepare
    const datums = nodeDatums(500);

    // Act
    const result = await newSink().publish(datums);

    // Assess: every request compressed (all are far above the SDK's 10 KB threshold) and within
    // the limits; the uncompressed bodies the real serializer wrote fit the sink's own estimate.
    expect(result).toEqual({ requests: aws.putMetricData.length, datums: datums.length });
    expect(result.requests).toBeGreaterThanOrEqual(7);
    for (const request of aws.putMetricData) {
      expect(request.gzipped).toBe(true);
      expect(request.wireBytes).toBeLessThan(request.bodyBytes);
      expect(request.bodyBytes).toBeLessThanOrEqual(REQUEST_BYTE_BUDGET);
      expect(request.body.MetricData.length).toBeLessThanOrEqual(1000);
      expect(request.body.Namespace).toBe(NAMESPACE);
    }
    const key = (name: string, node: string | undefined, value: number | undefined) =>
      `${name}|${node}|${value}`;
    expect(
      entries()
        .map((e) => key(e.MetricName, e.Dimensions?.[1]?.Value, e.Value))
        .sort(),
    ).toEqual(datums.map((d) => key(d.name, d.dimensions[1]?.value, d.values[0])).sort());
  });

  it('still publishes after two throttling answers, the SDK retrying with backoff', async () => {
    // Prepare
    aws.fail(TARGET.putMetricData, 'throttle', 2);

    // Act
    const result = await newSink().publish([datum()]);

    // Assess
    expect(result).toEqual({ requests: 1, datums: 1 });
    expect(attempts().map((r) => r.status)).toEqual([400, 400, 200]);
    expect(aws.putMetricData).toHaveLength(1);
    expect(attempts()[0]?.body).toEqual(aws.putMetricData[0]?.body);
  });

  it('rejects with MetricsPublishError, in bounded time, when the service never answers', async () => {
    // Prepare
    aws.fail(TARGET.putMetricData, 'hang', Number.POSITIVE_INFINITY);
    const started = performance.now();

    // Act
    const publishing = newSink().publish([datum()]);

    // Assess: the bound is the default client's: 3 attempts x 3 s request timeout, plus the
    // standard retry mode's jittered backoff for a transient error (50 ms base, doubling), ~9.2 s.
    await expect(publishing).rejects.toThrow(MetricsPublishError);
    await expect(publishing).rejects.toThrow(/1 of 1 PutMetricData requests .* TimeoutError/);
    expect(performance.now() - started).toBeLessThan(15_000);
    expect(attempts()).toHaveLength(3);
    expect(aws.putMetricData).toHaveLength(0);
  });

  it('rejects for one failing batch only after every batch was attempted', async () => {
    // Prepare: 3,001 entries make 4 requests; the second, holding "Poison", always fails.
    const datums = nodeDatums(215).slice(0, 3000);
    datums.splice(1500, 0, datum({ name: 'Poison' }));
    const batches = Math.ceil(datums.length / 1000);
    const poisoned = (body: Record<string, unknown>) =>
      JSON.stringify(body.MetricData).includes('"Poison"');
    aws.fail(TARGET.putMetricData, 'internal-error', Number.POSITIVE_INFINITY, poisoned);

    // Act
    const publishing = newSink().publish(datums);

    // Assess
    await expect(publishing).rejects.toThrow(
      `1 of ${batches} PutMetricData requests to namespace ${NAMESPACE} failed; first: InternalServiceFault`,
    );
    const failed = attempts().filter((r) => poisoned(r.body));
    expect(failed.map((r) => r.status)).toEqual([500, 500, 500]); // the SDK retried twice
    expect(aws.putMetricData).toHaveLength(batches - 1);
    expect(entries()).toHaveLength(datums.length - 1000);
    expect(entries().some((e) => e.MetricName === 'Poison')).toBe(false);
  });

  it('sends nothing once aborted', async () => {
    const publishing = newSink().publish([datum()], { signal: AbortSignal.abort() });
    await expect(publishing).rejects.toThrow(MetricsPublishError);
    expect(attempts()).toHaveLength(0);
  });
});
