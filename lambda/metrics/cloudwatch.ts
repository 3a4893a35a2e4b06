/**
 * The CloudWatch sink: datums -> PutMetricData requests that stay within the API's limits, sent
 * with bounded timeouts and the SDK's own retries. The mapping and batching are pure
 * (toPutMetricDataBatches); only CloudWatchSink does I/O.
 */
import {
  CloudWatchClient,
  PutMetricDataCommand,
  type MetricDatum as CloudWatchDatum,
  type PutMetricDataInput,
} from '@aws-sdk/client-cloudwatch';
import { MetricsPublishError } from '../errors.js';
import type { MetricDatum, MetricsSink, PublishResult } from './datum.js';

/**
 * PutMetricData limits, from the API reference (PutMetricData, MetricDatum):
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html
 */
export const PUT_METRIC_DATA_LIMITS = {
  /** "Each request is also limited to no more than 1000 different metrics." */
  entriesPerRequest: 1000,
  /** "Each PutMetricData request is limited to 1 MB in size for HTTP POST requests." */
  requestBytes: 1_000_000,
  /** "...publish up to 150 values per metric with one PutMetricData request" (Values/Counts). */
  distinctValuesPerEntry: 150,
  /** "You can use up to 30 dimensions per metric." */
  dimensionsPerEntry: 30,
  /** "Values must be in the range of -2^360 to 2^360"; NaN and infinities are rejected. */
  maxMagnitude: 2 ** 360,
} as const;

/**
 * What a batch's estimated JSON body may weigh: 10% under the 1 MB limit. The estimate is
 * already an upper bound (see jsonBytes); the margin covers a serializer that adds fields.
 */
export const REQUEST_BYTE_BUDGET = Math.floor(PUT_METRIC_DATA_LIMITS.requestBytes * 0.9);

/** Timeouts and retries of the default client: a dead endpoint costs at most ~3 x 3 s. */
export const CLOUDWATCH_CLIENT_DEFAULTS = {
  connectionTimeoutMs: 1000,
  requestTimeoutMs: 3000,
  maxAttempts: 3,
} as const;

/** Requests in flight at once: enough to hide latency, few enough not to trip throttling. */
const CONCURRENCY = 4;

/**
 * A client with bounded timeouts. Region, credentials and endpoint come from the standard SDK
 * configuration (AWS_REGION, AWS_ENDPOINT_URL_CLOUDWATCH, ...), never from slotwatch's own.
 */
export function createCloudWatchClient(): CloudWatchClient {
  return new CloudWatchClient({
    maxAttempts: CLOUDWATCH_CLIENT_DEFAULTS.maxAttempts,
    retryMode: 'standard',
    requestHandler: {
      connectionTimeout: CLOUDWATCH_CLIENT_DEFAULTS.connectionTimeoutMs,
      requestTimeout: CLOUDWATCH_CLIENT_DEFAULTS.requestTimeoutMs,
      // Without this the handler only logs a warning when requestTimeout passes, and a server
      // that accepts the connection but never answers holds the call for the 15-minute default.
      throwOnRequestTimeout: true,
    },
  });
}

export interface CloudWatchSinkOptions {
  readonly namespace: string;
  /** @default createCloudWatchClient(), created once per sink */
  readonly client?: CloudWatchClient;
}

export class CloudWatchSink implements MetricsSink {
  readonly #namespace: string;
  readonly #client: CloudWatchClient;

  constructor(options: CloudWatchSinkOptions) {
    this.#namespace = options.namespace;
    this.#client = options.client ?? createCloudWatchClient();
  }

  /** Sends every batch, then rejects with MetricsPublishError if any of them failed. */
  async publish(
    datums: readonly MetricDatum[],
    options: { signal?: AbortSignal } = {},
  ): Promise<PublishResult> {
    const batches = toPutMetricDataBatches(this.#namespace, datums);
    const failures = await settleEach(batches, CONCURRENCY, (batch) =>
      this.#client.send(new PutMetricDataCommand(batch), { abortSignal: options.signal }),
    );
    if (failures.length > 0) {
      const cause = redactedError(failures[0]);
      throw new MetricsPublishError(
        `${failures.length} of ${batches.length} PutMetricData requests to namespace ` +
          `${this.#namespace} failed; first: ${cause.name}: ${cause.message}`,
        { cause },
      );
    }
    return { requests: batches.length, datums: datums.filter(hasPublishableValue).length };
  }
}

/**
 * Maps datums to PutMetricData inputs: one MetricData entry per datum (several when it has more
 * than 150 distinct values), batched in order so that no request exceeds 1,000 entries or the
 * byte budget. Non-finite and out-of-range values are dropped; a datum left with none is skipped.
 *
 * @throws MetricsPublishError for a datum no split can fix (too many dimensions, invalid date).
 */
export function toPutMetricDataBatches(
  namespace: string,
  datums: readonly MetricDatum[],
): PutMetricDataInput[] {
  const envelope = jsonBytes({ Namespace: namespace, MetricData: [] });
  const batches: PutMetricDataInput[] = [];
  let entries: CloudWatchDatum[] = [];
  let bytes = envelope;
  for (const entry of datums.flatMap(toMetricDataEntries)) {
    const size = entryBytes(entry) + 1; // the separating comma
    const full = entries.length === PUT_METRIC_DATA_LIMITS.entriesPerRequest;
    if (entries.length > 0 && (full || bytes + size > REQUEST_BYTE_BUDGET)) {
      batches.push({ Namespace: namespace, MetricData: entries });
      entries = [];
      bytes = envelope;
    }
    entries.push(entry);
    bytes += size;
  }
  if (entries.length > 0) batches.push({ Namespace: namespace, MetricData: entries });
  return batches;
}

function toMetricDataEntries(datum: MetricDatum): CloudWatchDatum[] {
  checkDatum(datum);
  const values = datum.values.filter(isPublishable);
  const base: CloudWatchDatum = {
    MetricName: datum.name,
    Unit: datum.unit,
    Dimensions: datum.dimensions.map(({ name, value }) => ({ Name: name, Value: value })),
    Timestamp: datum.timestamp,
    ...(datum.highResolution ? { StorageResolution: 1 } : {}),
  };
  const [only] = values;
  if (values.length === 1 && only !== undefined) return [{ ...base, Value: only }];
  return chunk([...tally(values)], PUT_METRIC_DATA_LIMITS.distinctValuesPerEntry).map((pairs) => ({
    ...base,
    Values: pairs.map(([value]) => value),
    Counts: pairs.map(([, count]) => count),
  }));
}

function checkDatum(datum: MetricDatum): void {
  const { dimensionsPerEntry } = PUT_METRIC_DATA_LIMITS;
  if (datum.dimensions.length > dimensionsPerEntry) {
    throw new MetricsPublishError(
      `metric ${datum.name} has ${datum.dimensions.length} dimensions; CloudWatch accepts at most ${dimensionsPerEntry}`,
    );
  }
  if (Number.isNaN(datum.timestamp.getTime())) {
    throw new MetricsPublishError(`metric ${datum.name} has an invalid timestamp`);
  }
}

function isPublishable(value: number): boolean {
  return Number.isFinite(value) && Math.abs(value) <= PUT_METRIC_DATA_LIMITS.maxMagnitude;
}

function hasPublishableValue(datum: MetricDatum): boolean {
  return datum.values.some(isPublishable);
}

/** Distinct values with how often each occurred, in first-seen order. */
function tally(values: readonly number[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += size) {
    chunks.push(items.slice(start, start + size));
  }
  return chunks;
}

/** The entry as the SDK's AWS JSON 1.0 serializer writes it: Timestamp as epoch seconds. */
function entryBytes(entry: CloudWatchDatum): number {
  const timestamp = entry.Timestamp;
  const seconds = timestamp instanceof Date ? timestamp.getTime() / 1000 : undefined;
  return jsonBytes({ ...entry, Timestamp: seconds });
}

/**
 * An upper bound of the bytes `value` takes as JSON: every non-ASCII UTF-16 unit counts as a
 * six-byte \uXXXX escape, more than its UTF-8 encoding (at most three bytes) would take.
 */
function jsonBytes(value: unknown): number {
  const text = JSON.stringify(value);
  let bytes = 0;
  for (let i = 0; i < text.length; i++) bytes += text.charCodeAt(i) < 0x80 ? 1 : 6;
  return bytes;
}

/**
 * Runs `task` over every item, `concurrency` at a time, and returns the errors in item order.
 * It never stops early: the caller wants every batch attempted even when one fails.
 */
async function settleEach<T>(
  items: readonly T[],
  concurrency: number,
  task: (item: T) => Promise<unknown>,
): Promise<unknown[]> {
  const errors = new Map<number, unknown>();
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let index = next++; index < items.length; index = next++) {
      try {
        await task(items[index] as T);
      } catch (error) {
        errors.set(index, error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return [...errors.entries()].sort(([a], [b]) => a - b).map(([, error]) => error);
}

const MAX_MESSAGE_LENGTH = 200;
const ACCESS_KEY_ID = /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g;

/**
 * The error reduced to its name, the first line of its message (shortened, access key ids
 * masked) and the SDK's $metadata (status, request id, attempts). AWS error messages can quote
 * the signed request after the first line (a SignatureDoesNotMatch can list the canonical
 * request, session-token header included), and this error ends up in logs.
 */
function redactedError(error: unknown): Error {
  const name = error instanceof Error ? error.name : 'Error';
  const raw = error instanceof Error ? error.message : String(error);
  const firstLine = (raw.split('\n')[0] ?? '').replace(ACCESS_KEY_ID, '[redacted]');
  const message =
    firstLine.length > MAX_MESSAGE_LENGTH
      ? `${firstLine.slice(0, MAX_MESSAGE_LENGTH)}…`
      : firstLine;
  const metadata = (error as { $metadata?: unknown } | null)?.$metadata;
  return Object.assign(new Error(message), { name, $metadata: metadata });
}
