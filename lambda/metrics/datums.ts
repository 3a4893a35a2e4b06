/**
 * Sweep report -> metric datums: the CONTRACT's table, per-role aggregates (dimensions Cluster and
 * Role, several samples per datum) and per-check success. Pure; every value is finite, every
 * timestamp is the sweep's start, and a failed probe yields no latency datum.
 */
import type { NodeRole } from '../cluster/topology.js';
import type { PerNodeMetrics } from '../config.js';
import type { NodeReport, ProbeName, SweepReport } from '../report.js';
import type { Dimension, MetricDatum } from './datum.js';
import { DIMENSION, METRIC, PROBE_METRIC, type MetricDefinition } from './names.js';

export interface DatumOptions {
  readonly highResolution: boolean;
  /** Per-node datums (dimension Node): all of them (default), NodeAvailable only, or none. */
  readonly perNode?: PerNodeMetrics;
}

/** ElastiCache node host names start with the node's name: `orders-0001-001.orders.abc123.use1.cache.amazonaws.com`. */
const ELASTICACHE_HOST =
  /^([a-z0-9-]+)\.[a-z0-9-]+\.[a-z0-9]+\.[a-z0-9-]+\.cache\.amazonaws\.com(\.cn)?$/i;

/** The `Node` dimension: the ElastiCache node name when the address shows it, else the address. */
export function nodeDimension(address: string): string {
  const host = address.slice(0, address.lastIndexOf(':'));
  return ELASTICACHE_HOST.exec(host)?.[1] ?? address;
}

const ROLES: readonly NodeRole[] = ['primary', 'replica'];
const PROBES = Object.keys(PROBE_METRIC) as ProbeName[];

export function buildDatums(report: SweepReport, options: DatumOptions): MetricDatum[] {
  const timestamp = new Date(report.startedAt);
  const cluster: Dimension = { name: DIMENSION.cluster, value: report.cluster };
  const datums: MetricDatum[] = [];
  const add = (
    metric: MetricDefinition,
    dimensions: readonly Dimension[],
    values: readonly (number | null | undefined)[],
  ): void => {
    const finite = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
    if (finite.length === 0) return;
    datums.push({
      name: metric.name,
      unit: metric.unit,
      dimensions,
      values: finite,
      timestamp,
      highResolution: options.highResolution,
    });
  };
  const healthy = report.nodes.filter((n) => n.ok).length;

  add(METRIC.probeSuccess, [cluster], [report.ok ? 1 : 0]);
  add(METRIC.healthyNodes, [cluster], [healthy]);
  add(METRIC.totalNodes, [cluster], [report.nodes.length]);
  add(METRIC.sweepDuration, [cluster], [report.durationMs]);
  add(METRIC.crossSlotLatency, [cluster], [report.checks.crossSlot.latencyMs]);
  add(METRIC.slotsCovered, [cluster], [report.checks.slots.covered]);
  add(METRIC.reconnects, [cluster], [report.reconnects]);
  for (const [check, result] of Object.entries(report.checks)) {
    add(
      METRIC.checkSuccess,
      [cluster, { name: DIMENSION.check, value: check }],
      [result.ok ? 1 : 0],
    );
  }

  const perNode = options.perNode ?? 'all';
  for (const node of perNode === 'none' ? [] : report.nodes) {
    const dimensions = [cluster, { name: DIMENSION.node, value: nodeDimension(node.address) }];
    add(METRIC.nodeAvailable, dimensions, [node.ok ? 1 : 0]);
    if (perNode === 'all')
      for (const probe of PROBES) add(PROBE_METRIC[probe], dimensions, [latencyOf(node, probe)]);
  }

  for (const role of ROLES) {
    const nodes = report.nodes.filter((n) => n.role === role);
    if (nodes.length === 0) continue;
    const dimensions = [cluster, { name: DIMENSION.role, value: role }];
    add(METRIC.healthyNodes, dimensions, [nodes.filter((n) => n.ok).length]);
    add(METRIC.totalNodes, dimensions, [nodes.length]);
    for (const probe of PROBES)
      add(
        PROBE_METRIC[probe],
        dimensions,
        nodes.map((n) => latencyOf(n, probe)),
      );
  }
  return datums;
}

function latencyOf(node: NodeReport, probe: ProbeName): number | null {
  const result = node.probes[probe];
  return result?.ok ? result.latencyMs : null;
}
