/** A metric value (or several) ready for any sink: CloudWatch PutMetricData, EMF, or a test. */
import type { DimensionName, MetricUnit } from './names.js';

export interface Dimension {
  readonly name: DimensionName;
  readonly value: string;
}

export interface MetricDatum {
  readonly name: string;
  readonly unit: MetricUnit;
  /** In a fixed order: Cluster first. */
  readonly dimensions: readonly Dimension[];
  /** One value, or several samples of the same metric (per-role aggregates); always finite. */
  readonly values: readonly number[];
  /** The sweep's start. */
  readonly timestamp: Date;
  /** Publish at 1-second storage resolution (METRICS_HIGH_RESOLUTION=true). */
  readonly highResolution: boolean;
}

/** Publishes datums somewhere; rejects with MetricsPublishError when any part failed. */
export interface MetricsSink {
  publish(
    datums: readonly MetricDatum[],
    options?: { signal?: AbortSignal },
  ): Promise<PublishResult>;
}

export interface PublishResult {
  /** PutMetricData requests (cloudwatch) or EMF documents (emf) written. */
  readonly requests: number;
  readonly datums: number;
}
