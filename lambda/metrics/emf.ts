/**
 * The EMF sink: datums -> CloudWatch Embedded Metric Format documents, one JSON document per
 * line on stdout, which CloudWatch Logs turns into metrics (no API call, no extra latency).
 * Specification: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */
import { MetricsPublishError } from '../errors.js';
import type { Dimension, MetricDatum, MetricsSink, PublishResult } from './datum.js';
import type { MetricUnit } from './names.js';

/** Limits of the EMF specification. */
export const EMF_LIMITS = {
  /** "This array MUST NOT contain more than 100 MetricDefinition objects." */
  metricsPerDirective: 100,
  /** "A DimensionSet MUST NOT contain more than 30 dimension keys." */
  dimensionsPerSet: 30,
  /** "Numeric array metric targets MUST NOT have more than 100 members." */
  valuesPerMetric: 100,
  /**
   * A document is one CloudWatch Logs event. The event limit has been 256 KB for most of EMF's
   * life (now 1 MB); keeping under the old one, with room for Lambda's line prefix, is safe
   * everywhere.
   */
  documentBytes: 200_000,
} as const;

/** The member of the root node that carries the metadata; no metric or dimension may use it. */
const METADATA_MEMBER = '_aws';

export interface EmfMetricDefinition {
  readonly Name: string;
  readonly Unit: MetricUnit;
  /** Only for high-resolution metrics; the specification's default is 60 (standard). */
  readonly StorageResolution?: 1;
}

export interface EmfMetricDirective {
  readonly Namespace: string;
  readonly Dimensions: readonly (readonly string[])[];
  readonly Metrics: readonly EmfMetricDefinition[];
}

export interface EmfMetadata {
  /** Milliseconds since the epoch. */
  readonly Timestamp: number;
  readonly CloudWatchMetrics: readonly EmfMetricDirective[];
}

/** The root node: `_aws`, plus one target member per dimension (string) and metric (number(s)). */
export interface EmfDocument {
  readonly _aws: EmfMetadata;
  readonly [member: string]: string | number | readonly number[] | EmfMetadata;
}

export interface EmfSinkOptions {
  readonly namespace: string;
  /**
   * Receives one document per call, without a line ending.
   * @default a write of the line and "\n" to process.stdout
   */
  readonly write?: (line: string) => void;
}

export class EmfSink implements MetricsSink {
  readonly #namespace: string;
  readonly #write: (line: string) => void;

  constructor(options: EmfSinkOptions) {
    this.#namespace = options.namespace;
    this.#write = options.write ?? ((line) => void process.stdout.write(`${line}\n`));
  }

  publish(
    datums: readonly MetricDatum[],
    options: { signal?: AbortSignal } = {},
  ): Promise<PublishResult> {
    // Sync work in an async shape: a throw becomes a rejection, as the interface promises.
    return Promise.resolve().then(() => this.#publishNow(datums, options.signal));
  }

  #publishNow(datums: readonly MetricDatum[], signal: AbortSignal | undefined): PublishResult {
    if (signal?.aborted) {
      throw new MetricsPublishError('EMF publish aborted before writing', { cause: signal.reason });
    }
    const documents = toEmfDocuments(this.#namespace, datums);
    const errors: unknown[] = [];
    for (const document of documents) {
      try {
        this.#write(JSON.stringify(document));
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0) {
      throw new MetricsPublishError(
        `${errors.length} of ${documents.length} EMF documents could not be written`,
        { cause: errors[0] },
      );
    }
    return { requests: documents.length, datums: datums.filter(hasFiniteValue).length };
  }
}

/** One metric of a document: a name and at most valuesPerMetric values. */
interface EmfEntry {
  readonly name: string;
  readonly unit: MetricUnit;
  readonly highResolution: boolean;
  readonly values: readonly number[];
}

/** Datums that share dimension values and timestamp, and so can share a document. */
interface EmfGroup {
  readonly dimensions: readonly Dimension[];
  readonly timestamp: number;
  readonly entries: EmfEntry[];
}

/**
 * Groups datums by dimension values and timestamp, then packs each group into as few documents
 * as the limits allow: at most 100 metrics per document, each metric name once per document
 * (it is a member of the root node), at most 100 values per metric (more split across
 * documents), and at most documentBytes per document. Non-finite values are dropped.
 *
 * @throws MetricsPublishError for a datum no split can fix (see checkDatum).
 */
export function toEmfDocuments(namespace: string, datums: readonly MetricDatum[]): EmfDocument[] {
  return groupDatums(datums).flatMap((group) =>
    packEntries(group.entries).flatMap((entries) => render(namespace, group, entries)),
  );
}

function groupDatums(datums: readonly MetricDatum[]): EmfGroup[] {
  const groups = new Map<string, EmfGroup>();
  for (const datum of datums) {
    checkDatum(datum);
    const values = datum.values.filter(Number.isFinite);
    if (values.length === 0) continue;
    const timestamp = datum.timestamp.getTime();
    const key = JSON.stringify([timestamp, datum.dimensions.map((d) => [d.name, d.value])]);
    const group = groups.get(key) ?? { dimensions: datum.dimensions, timestamp, entries: [] };
    groups.set(key, group);
    for (const part of chunk(values, EMF_LIMITS.valuesPerMetric)) {
      group.entries.push({
        name: datum.name,
        unit: datum.unit,
        highResolution: datum.highResolution,
        values: part,
      });
    }
  }
  return [...groups.values()];
}

/** First fit: each entry joins the first document with room and without its name. */
function packEntries(entries: readonly EmfEntry[]): EmfEntry[][] {
  const documents: EmfEntry[][] = [];
  for (const entry of entries) {
    const fits = (doc: EmfEntry[]): boolean =>
      doc.length < EMF_LIMITS.metricsPerDirective && !doc.some((e) => e.name === entry.name);
    const target = documents.find(fits);
    if (target) target.push(entry);
    else documents.push([entry]);
  }
  return documents;
}

/** The document for `entries`, halved until every part is within documentBytes. */
function render(namespace: string, group: EmfGroup, entries: EmfEntry[]): EmfDocument[] {
  const document = toDocument(namespace, group, entries);
  const half = Math.ceil(entries.length / 2);
  if (
    entries.length < 2 ||
    Buffer.byteLength(JSON.stringify(document)) <= EMF_LIMITS.documentBytes
  ) {
    return [document];
  }
  return [
    ...render(namespace, group, entries.slice(0, half)),
    ...render(namespace, group, entries.slice(half)),
  ];
}

function toDocument(namespace: string, group: EmfGroup, entries: readonly EmfEntry[]): EmfDocument {
  const metadata: EmfMetadata = {
    Timestamp: group.timestamp,
    CloudWatchMetrics: [
      {
        Namespace: namespace,
        Dimensions: [group.dimensions.map((d) => d.name)],
        Metrics: entries.map(({ name, unit, highResolution }) => ({
          Name: name,
          Unit: unit,
          ...(highResolution ? { StorageResolution: 1 as const } : {}),
        })),
      },
    ],
  };
  const members: Record<string, string | number | readonly number[]> = {};
  for (const { name, value } of group.dimensions) members[name] = value;
  for (const { name, values } of entries) members[name] = scalarOrArray(values);
  return { _aws: metadata, ...members };
}

/**
 * Rejects what would make an invalid document whatever the split: too many dimensions, a name
 * used twice on the root node (dimension and metric share it), or a timestamp that is not a date.
 */
function checkDatum(datum: MetricDatum): void {
  const names = datum.dimensions.map((d) => d.name);
  const taken = new Set<string>([METADATA_MEMBER, ...names]);
  const problem =
    names.length > EMF_LIMITS.dimensionsPerSet
      ? `has ${names.length} dimensions (EMF allows ${EMF_LIMITS.dimensionsPerSet})`
      : taken.size !== names.length + 1 || taken.has(datum.name)
        ? 'shares a name with another member of the document'
        : Number.isNaN(datum.timestamp.getTime())
          ? 'has an invalid timestamp'
          : undefined;
  if (problem !== undefined) throw new MetricsPublishError(`metric ${datum.name} ${problem}`);
}

/** One value as a number, several as an array: both are valid metric targets. */
function scalarOrArray(values: readonly number[]): number | readonly number[] {
  const [first] = values;
  return values.length === 1 && first !== undefined ? first : values;
}

function hasFiniteValue(datum: MetricDatum): boolean {
  return datum.values.some(Number.isFinite);
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += size) {
    chunks.push(items.slice(start, start + size));
  }
  return chunks;
}
