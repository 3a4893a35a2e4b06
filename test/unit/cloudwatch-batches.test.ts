import type { PutMetricDataInput } from '@aws-sdk/client-cloudwatch';
import { describe, expect, it } from 'vitest';
import {
  PUT_METRIC_DATA_LIMITS,
  REQUEST_BYTE_BUDGET,
  toPutMetricDataBatches,
} from '../../lambda/metrics/cloudwatch.js';
import type { Dimension, MetricDatum } from '../../lambda/metrics/datum.js';
import { MetricsPublishError } from '../../lambda/errors.js';
import { METRIC } from '../../lambda/metrics/names.js';

const NAMESPACE = 'Slotwatch';
const STARTED = new Date('2026-11-22T10:00:00.123Z');

function datum(overrides: Partial<MetricDatum> = {}): MetricDatum {
  return {
    name: 'PingLatency',
    unit: 'Milliseconds',
    dimensions: [{ name: 'Cluster', value: 'orders-cache' }],
    values: [0.41],
    timestamp: STARTED,
    highResolution: false,
    ...overrides,
  };
}

/** Every metric of names.ts for each of `nodes` nodes: what a very large cluster would emit. */
function largeClusterDatums(nodes: number): MetricDatum[] {
  const metrics = Object.values(METRIC);
  return Array.from({ length: nodes }, (_, n) => `10.0.${n >> 8}.${n & 255}:6379`).flatMap(
    (node, n) =>
      metrics.map((metric, m) =>
        datum({
          name: metric.name,
          unit: metric.unit,
          dimensions: [
            { name: 'Cluster', value: 'orders-cache' },
            { name: 'Node', value: node },
          ],
          values: [n + m / 7], // long decimals, the heavy case
        }),
      ),
  );
}

/** The request body as the SDK's AWS JSON 1.0 serializer writes it (Timestamp in seconds), in bytes. */
function wireBytes(batch: PutMetricDataInput): number {
  const metricData = (batch.MetricData ?? []).map((entry) => ({
    ...entry,
    Timestamp: entry.Timestamp instanceof Date ? entry.Timestamp.getTime() / 1000 : undefined,
  }));
  return Buffer.byteLength(JSON.stringify({ ...batch, MetricData: metricData }));
}

const entriesOf = (batches: PutMetricDataInput[]) => batches.flatMap((b) => b.MetricData ?? []);

describe('toPutMetricDataBatches', () => {
  it('makes no request for no datums', () => {
    expect(toPutMetricDataBatches(NAMESPACE, [])).toEqual([]);
  });

  it('maps a datum to one entry with its name, unit, dimensions, timestamp and value', () => {
    // Act
    const batches = toPutMetricDataBatches(NAMESPACE, [datum()]);

    // Assess
    expect(batches).toEqual([
      {
        Namespace: NAMESPACE,
        MetricData: [
          {
            MetricName: 'PingLatency',
            Unit: 'Milliseconds',
            Dimensions: [{ Name: 'Cluster', Value: 'orders-cache' }],
            Timestamp: STARTED,
            Value: 0.41,
          },
        ],
      },
    ]);
  });

  it('splits the datums of a 500-node cluster into requests within 1,000 entries and 1 MB', () => {
    // Prepare
    const datums = largeClusterDatums(500);

    // Act
    const batches = toPutMetricDataBatches(NAMESPACE, datums);

    // Assess: nothing lost or reordered, every request within both limits.
    expect(datums).toHaveLength(Object.keys(METRIC).length * 500);
    expect(batches.length).toBeGreaterThanOrEqual(Math.ceil(datums.length / 1000));
    expect(entriesOf(batches).map((e) => e.MetricName)).toEqual(datums.map((d) => d.name));
    for (const batch of batches) {
      expect(batch.Namespace).toBe(NAMESPACE);
      expect(batch.MetricData?.length).toBeLessThanOrEqual(
        PUT_METRIC_DATA_LIMITS.entriesPerRequest,
      );
      expect(wireBytes(batch)).toBeLessThan(PUT_METRIC_DATA_LIMITS.requestBytes);
    }
  });

  it('splits by size before the entry count when entries are large', () => {
    // Prepare: four 1,024-character dimension values make each entry over 4 KB.
    const long = (c: string) => c.repeat(1024);
    const dimensions: Dimension[] = [
      { name: 'Cluster', value: long('c') },
      { name: 'Node', value: long('n') },
      { name: 'Role', value: long('r') },
      { name: 'Check', value: long('k') },
    ];
    const datums = Array.from({ length: 1000 }, () => datum({ dimensions }));

    // Act
    const batches = toPutMetricDataBatches(NAMESPACE, datums);

    // Assess
    expect(batches.length).toBeGreaterThan(4);
    expect(entriesOf(batches)).toHaveLength(1000);
    for (const batch of batches) expect(wireBytes(batch)).toBeLessThanOrEqual(REQUEST_BYTE_BUDGET);
  });

  it('sends several values as Values and Counts, at most 150 distinct values per entry', () => {
    // Prepare: 400 distinct values, the first one three times.
    const values = [0, 0, ...Array.from({ length: 400 }, (_, i) => i)];

    // Act
    const entries = entriesOf(toPutMetricDataBatches(NAMESPACE, [datum({ values })]));

    // Assess
    expect(entries.map((e) => e.Values?.length)).toEqual([150, 150, 100]);
    expect(entries.every((e) => e.Value === undefined)).toBe(true);
    expect(entries[0]?.Values?.slice(0, 2)).toEqual([0, 1]);
    expect(entries[0]?.Counts?.slice(0, 2)).toEqual([3, 1]);
    expect(entries.flatMap((e) => e.Counts ?? []).reduce((a, b) => a + b, 0)).toBe(402);
    expect(entries.flatMap((e) => e.Values ?? []).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 400 }, (_, i) => i),
    );
    for (const entry of entries) expect(entry.Counts).toHaveLength(entry.Values?.length ?? -1);
  });

  it('asks for 1-second storage only for high-resolution datums', () => {
    const entries = entriesOf(
      toPutMetricDataBatches(NAMESPACE, [
        datum({ highResolution: true }),
        datum({ highResolution: false }),
      ]),
    );
    expect(entries[0]?.StorageResolution).toBe(1);
    expect(entries[1]).not.toHaveProperty('StorageResolution');
  });

  it('never sends a non-finite or out-of-range value, and skips a datum left with none', () => {
    // Act
    const entries = entriesOf(
      toPutMetricDataBatches(NAMESPACE, [
        datum({ name: 'A', values: [Number.NaN, 2, Number.POSITIVE_INFINITY] }),
        datum({ name: 'B', values: [Number.NaN] }),
        datum({ name: 'C', values: [2 ** 400, -(2 ** 400), 3, 4] }),
        datum({ name: 'D', values: [] }),
      ]),
    );

    // Assess
    expect(entries.map((e) => e.MetricName)).toEqual(['A', 'C']);
    expect(entries[0]?.Value).toBe(2);
    expect(entries[1]?.Values).toEqual([3, 4]);
    const numbers = entries.flatMap((e) => [e.Value ?? 0, ...(e.Values ?? [])]);
    expect(numbers.every(Number.isFinite)).toBe(true);
  });

  it('rejects a datum that no split can make valid', () => {
    const tooMany = Array.from({ length: 31 }, (): Dimension => ({ name: 'Node', value: 'n' }));
    expect(() => toPutMetricDataBatches(NAMESPACE, [datum({ dimensions: tooMany })])).toThrow(
      MetricsPublishError,
    );
    expect(() =>
      toPutMetricDataBatches(NAMESPACE, [datum({ timestamp: new Date(Number.NaN) })]),
    ).toThrow(/invalid timestamp/);
  });
});
