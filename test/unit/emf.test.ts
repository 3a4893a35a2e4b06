import { describe, expect, it } from 'vitest';
import { MetricsPublishError } from '../../lambda/errors.js';
import type { Dimension, MetricDatum } from '../../lambda/metrics/datum.js';
import { EMF_LIMITS, EmfSink, toEmfDocuments, type EmfDocument } from '../../lambda/metrics/emf.js';
import { createSink } from '../../lambda/metrics/sink.js';

const NAMESPACE = 'Slotwatch';
const STARTED = new Date('2026-11-22T10:00:00.123Z');
const CLUSTER: Dimension = { name: 'Cluster', value: 'orders-cache' };
const node = (address: string): Dimension => ({ name: 'Node', value: address });

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

const UNITS = new Set(['None', 'Count', 'Milliseconds', 'Seconds', 'Microseconds', 'Percent']);

/**
 * The rules of the EMF specification, as a list of violations (empty when the document is valid):
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */
function emfViolations(document: EmfDocument): string[] {
  const problems: string[] = [];
  const root = JSON.parse(JSON.stringify(document)) as Record<string, unknown>;
  const meta = root._aws as { Timestamp?: unknown; CloudWatchMetrics?: unknown } | undefined;
  if (typeof meta !== 'object') return ['no _aws metadata object'];
  // Timestamp: a number of milliseconds after the epoch (the schema says integer).
  if (!Number.isInteger(meta.Timestamp) || (meta.Timestamp as number) < 1e12)
    problems.push(`Timestamp ${String(meta.Timestamp)} is not epoch milliseconds`);
  if (!Array.isArray(meta.CloudWatchMetrics) || meta.CloudWatchMetrics.length === 0)
    return [...problems, 'CloudWatchMetrics is not a non-empty array'];
  for (const directive of meta.CloudWatchMetrics as Record<string, unknown>[]) {
    if (typeof directive.Namespace !== 'string' || directive.Namespace.length === 0)
      problems.push('a directive has no Namespace');
    const sets = directive.Dimensions as unknown[][];
    if (!Array.isArray(sets) || sets.length === 0) problems.push('Dimensions is not an array');
    for (const set of sets ?? []) {
      if (set.length > 30) problems.push(`a DimensionSet has ${set.length} keys`);
      for (const key of set)
        if (typeof root[String(key)] !== 'string')
          problems.push(`dimension ${String(key)} has no string target member`);
    }
    const metrics = directive.Metrics as Record<string, unknown>[];
    if (metrics.length > 100) problems.push(`a directive has ${metrics.length} metrics`);
    const names = metrics.map((m) => String(m.Name));
    if (new Set(names).size !== names.length) problems.push('a metric is defined twice');
    for (const metric of metrics) {
      const target = root[String(metric.Name)];
      const values = Array.isArray(target) ? (target as unknown[]) : [target];
      if (values.length === 0 || !values.every((v) => typeof v === 'number' && isFinite(v)))
        problems.push(`metric ${String(metric.Name)} has no numeric target member`);
      if (values.length > 100) problems.push(`metric ${String(metric.Name)} has ${values.length}`);
      // Unit is optional ("None" when absent) and SHOULD be a CloudWatch unit.
      if (metric.Unit !== undefined && !(typeof metric.Unit === 'string' && UNITS.has(metric.Unit)))
        problems.push(`metric ${String(metric.Name)} has unit ${JSON.stringify(metric.Unit)}`);
      if (![undefined, 1, 60].includes(metric.StorageResolution as number | undefined))
        problems.push(`metric ${String(metric.Name)} has a bad StorageResolution`);
    }
  }
  return problems;
}

const metricNames = (document: EmfDocument) =>
  document._aws.CloudWatchMetrics.flatMap((d) => d.Metrics.map((m) => m.Name));

describe('toEmfDocuments', () => {
  it('is checked by a validator that does catch broken documents', () => {
    const broken = {
      _aws: {
        Timestamp: 1764000000,
        CloudWatchMetrics: [
          {
            Namespace: NAMESPACE,
            Dimensions: [['Cluster']],
            Metrics: [{ Name: 'X', Unit: 'None' }],
          },
        ],
      },
    } as unknown as EmfDocument;
    expect(emfViolations(broken)).toEqual([
      'Timestamp 1764000000 is not epoch milliseconds',
      'dimension Cluster has no string target member',
      'metric X has no numeric target member',
    ]);
  });

  it('groups datums by dimension values and timestamp, one valid document per group', () => {
    // Prepare
    const datums = [
      datum(),
      datum({ name: 'TotalNodes', unit: 'Count', values: [6] }),
      datum({ name: 'NodeAvailable', dimensions: [CLUSTER, node('10.0.0.1:7001')] }),
      datum({
        name: 'PingLatency',
        unit: 'Milliseconds',
        dimensions: [CLUSTER, node('10.0.0.1:7001')],
        values: [0.41],
      }),
      datum({ name: 'NodeAvailable', dimensions: [CLUSTER, node('10.0.0.1:7002')], values: [0] }),
      datum({ timestamp: new Date(STARTED.getTime() + 1000) }),
    ];

    // Act
    const documents = toEmfDocuments(NAMESPACE, datums);

    // Assess
    expect(documents.map(emfViolations)).toEqual(documents.map(() => []));
    expect(documents).toHaveLength(4);
    expect(documents[0]).toEqual({
      _aws: {
        Timestamp: STARTED.getTime(),
        CloudWatchMetrics: [
          {
            Namespace: NAMESPACE,
            Dimensions: [['Cluster']],
            Metrics: [
              { Name: 'ProbeSuccess', Unit: 'None' },
              { Name: 'TotalNodes', Unit: 'Count' },
            ],
          },
        ],
      },
      Cluster: 'orders-cache',
      ProbeSuccess: 1,
      TotalNodes: 6,
    });
    expect(documents[1]).toMatchObject({
      Node: '10.0.0.1:7001',
      NodeAvailable: 1,
      PingLatency: 0.41,
    });
    expect(documents[1]?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['Cluster', 'Node']]);
    expect(documents[2]).toMatchObject({ Node: '10.0.0.1:7002', NodeAvailable: 0 });
    expect(documents[3]?._aws.Timestamp).toBe(STARTED.getTime() + 1000);
  });

  it('writes several samples as an array, at most 100 per metric, split across documents', () => {
    // Act
    const values = Array.from({ length: 250 }, (_, i) => i / 10);
    const documents = toEmfDocuments(NAMESPACE, [
      datum({ name: 'PingLatency', unit: 'Milliseconds', values }),
    ]);

    // Assess
    expect(documents.map(emfViolations).flat()).toEqual([]);
    expect(documents.map((d) => (d.PingLatency as number[]).length)).toEqual([100, 100, 50]);
    expect(documents.flatMap((d) => d.PingLatency as number[])).toEqual(values);
  });

  it('splits more than 100 metrics of one dimension set into several documents', () => {
    // Act
    const datums = Array.from({ length: 250 }, (_, i) => datum({ name: `Metric${i}` }));
    const documents = toEmfDocuments(NAMESPACE, datums);

    // Assess
    expect(documents.map(emfViolations).flat()).toEqual([]);
    expect(documents.map((d) => metricNames(d).length)).toEqual([100, 100, 50]);
    expect(documents.flatMap(metricNames)).toEqual(datums.map((d) => d.name));
  });

  it('keeps a metric name once per document when the same metric comes twice', () => {
    const documents = toEmfDocuments(NAMESPACE, [datum({ values: [1] }), datum({ values: [0] })]);
    expect(documents.map(emfViolations).flat()).toEqual([]);
    expect(documents.map((d) => d.ProbeSuccess)).toEqual([1, 0]);
  });

  it('keeps every document under the size limit, however long the values', () => {
    // Prepare: 100 metrics x 100 values of 20+ characters each would make one ~250 KB document.
    const values = Array.from({ length: 100 }, (_, i) => -1.2345678901234567e-100 * (i + 1));
    const datums = Array.from({ length: 100 }, (_, i) => datum({ name: `M${i}`, values }));

    // Act
    const documents = toEmfDocuments(NAMESPACE, datums);

    // Assess
    expect(documents.length).toBeGreaterThan(1);
    for (const document of documents) {
      expect(emfViolations(document)).toEqual([]);
      expect(Buffer.byteLength(JSON.stringify(document))).toBeLessThanOrEqual(
        EMF_LIMITS.documentBytes,
      );
    }
    expect(documents.flatMap(metricNames)).toHaveLength(100);
  });

  it('marks high-resolution metrics with StorageResolution 1 and leaves the others at the default', () => {
    const [document] = toEmfDocuments(NAMESPACE, [
      datum({ name: 'Fast', highResolution: true }),
      datum({ name: 'Slow' }),
    ]);
    expect(document?._aws.CloudWatchMetrics[0]?.Metrics).toEqual([
      { Name: 'Fast', Unit: 'None', StorageResolution: 1 },
      { Name: 'Slow', Unit: 'None' },
    ]);
  });

  it('drops non-finite values and datums left with none', () => {
    const documents = toEmfDocuments(NAMESPACE, [
      datum({ name: 'A', values: [Number.NaN, 3, Number.NEGATIVE_INFINITY] }),
      datum({ name: 'B', values: [Number.NaN] }),
    ]);
    expect(documents).toHaveLength(1);
    expect(documents[0]).toMatchObject({ A: 3 });
    expect(documents[0]).not.toHaveProperty('B');
    expect(metricNames(documents[0] as EmfDocument)).toEqual(['A']);
  });

  it('rejects datums no document could carry', () => {
    const tooMany = Array.from({ length: EMF_LIMITS.dimensionsPerSet + 1 }, () => node('n'));
    for (const bad of [
      datum({ dimensions: tooMany }),
      datum({ name: 'Cluster' }),
      datum({ name: '_aws' }),
      datum({ dimensions: [CLUSTER, CLUSTER] }),
      datum({ timestamp: new Date(Number.NaN) }),
    ])
      expect(() => toEmfDocuments(NAMESPACE, [bad])).toThrow(MetricsPublishError);
  });
});

describe('EmfSink', () => {
  it('writes one JSON document per line and counts documents and datums', async () => {
    // Prepare
    const lines: string[] = [];
    const sink = new EmfSink({ namespace: NAMESPACE, write: (line) => lines.push(line) });

    // Act
    const result = await sink.publish([
      datum(),
      datum({ dimensions: [CLUSTER, node('a:1')] }),
      datum({ name: 'Empty', values: [Number.NaN] }),
    ]);

    // Assess
    expect(result).toEqual({ requests: 2, datums: 2 });
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(line).not.toContain('\n');
      expect(emfViolations(JSON.parse(line) as EmfDocument)).toEqual([]);
    }
  });

  it('tries every document, then rejects with MetricsPublishError when a write failed', async () => {
    // Prepare
    let calls = 0;
    const sink = new EmfSink({
      namespace: NAMESPACE,
      write: () => {
        calls += 1;
        if (calls === 1) throw new Error('EPIPE');
      },
    });

    // Act
    const publishing = sink.publish([datum(), datum({ dimensions: [CLUSTER, node('a:1')] })]);

    // Assess
    await expect(publishing).rejects.toThrow(/1 of 2 EMF documents could not be written/);
    expect(calls).toBe(2);
  });

  it('writes nothing once aborted', async () => {
    const lines: string[] = [];
    const sink = new EmfSink({ namespace: NAMESPACE, write: (line) => lines.push(line) });
    await expect(sink.publish([datum()], { signal: AbortSignal.abort() })).rejects.toThrow(
      MetricsPublishError,
    );
    expect(lines).toEqual([]);
  });
});

describe('createSink', () => {
  it('publishes nothing for "none"', async () => {
    await expect(createSink('none', NAMESPACE).publish([datum()])).resolves.toEqual({
      requests: 0,
      datums: 0,
    });
  });

  it('writes EMF for "emf"', async () => {
    const lines: string[] = [];
    const sink = createSink('emf', NAMESPACE, { write: (line) => lines.push(line) });
    await sink.publish([datum()]);
    expect(lines).toHaveLength(1);
  });
});
