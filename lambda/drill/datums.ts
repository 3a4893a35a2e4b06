/**
 * Drill report -> metric datums (names from lambda/metrics/names.ts). Pure. A drill that was
 * aborted before its trigger measured nothing, so it yields DrillAborted 1 and no outcome datums:
 * DrillRecovered 0 is kept for a shard that was failed over and did not come back.
 */
import type { Dimension, MetricDatum } from '../metrics/datum.js';
import { DIMENSION, METRIC, type MetricDefinition } from '../metrics/names.js';
import type { DrillReport } from './types.js';

const datum = (
  metric: MetricDefinition,
  dimensions: readonly Dimension[],
  value: number,
  timestamp: Date,
  highResolution: boolean,
): MetricDatum => ({
  name: metric.name,
  unit: metric.unit,
  dimensions,
  values: [value],
  timestamp,
  highResolution,
});

export function drillInProgressDatum(
  cluster: string,
  inProgress: boolean,
  timestamp: Date,
  highResolution: boolean,
): MetricDatum {
  const dimensions = [{ name: DIMENSION.cluster, value: cluster }];
  return datum(METRIC.drillInProgress, dimensions, inProgress ? 1 : 0, timestamp, highResolution);
}

/** Outcome datums per Cluster, and the measured ones again per Cluster and Shard. */
export function drillDatums(report: DrillReport, highResolution: boolean): MetricDatum[] {
  const timestamp = new Date(report.startedAt);
  const cluster: Dimension = { name: DIMENSION.cluster, value: report.cluster };
  if (report.aborted !== undefined && !report.timeline.some((e) => e.event === 'trigger')) {
    return [datum(METRIC.drillAborted, [cluster], 1, timestamp, highResolution)];
  }
  const shard: Dimension = { name: DIMENSION.shard, value: report.shard };
  const measured: [MetricDefinition, number][] = [
    [METRIC.drillWriteOutage, report.writeOutageMs],
    [METRIC.drillReadOutage, report.readOutageMs],
    [METRIC.drillLostWrites, report.lostWrites],
  ];
  return [
    datum(METRIC.drillAborted, [cluster], 0, timestamp, highResolution),
    datum(METRIC.drillRecovered, [cluster], report.recovered ? 1 : 0, timestamp, highResolution),
    ...measured.flatMap(([metric, value]) => [
      datum(metric, [cluster], value, timestamp, highResolution),
      datum(metric, [cluster, shard], value, timestamp, highResolution),
    ]),
  ];
}
