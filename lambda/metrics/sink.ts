/** METRICS_SINK -> the sink that publishes a sweep's datums. */
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { MetricsSink as SinkKind } from '../config.js';
import { CloudWatchSink } from './cloudwatch.js';
import type { MetricsSink, PublishResult } from './datum.js';
import { EmfSink } from './emf.js';

export type { SinkKind };

export interface CreateSinkOptions {
  /** For `cloudwatch`. @default a client with bounded timeouts (createCloudWatchClient) */
  readonly cloudWatchClient?: CloudWatchClient;
  /** For `emf`: receives one document per call. @default a line on process.stdout */
  readonly write?: (line: string) => void;
}

/** Publishes nothing; for local runs, where no metrics are wanted. */
const NO_SINK: MetricsSink = {
  publish: (): Promise<PublishResult> => Promise.resolve({ requests: 0, datums: 0 }),
};

export function createSink(
  kind: SinkKind,
  namespace: string,
  options: CreateSinkOptions = {},
): MetricsSink {
  switch (kind) {
    case 'cloudwatch':
      return new CloudWatchSink({ namespace, client: options.cloudWatchClient });
    case 'emf':
      return new EmfSink({ namespace, write: options.write });
    case 'none':
      return NO_SINK;
  }
}
