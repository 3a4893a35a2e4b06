/**
 * The metric half of slotwatch's monitoring: every CloudWatch metric the probe publishes, built
 * from `lambda/metrics/names.ts` (names, units, dimensions) so that alarms and the dashboard read
 * exactly what the probe writes. No constructs here; ProbeAlarms and ProbeDashboard consume it.
 */
import { Duration, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { NodeRole } from '../../lambda/cluster/topology.js';
import {
  DEFAULT_NAMESPACE,
  DIMENSION,
  METRIC,
  PROBE_METRIC,
  type MetricDefinition,
  type MetricUnit,
} from '../../lambda/metrics/names.js';
import type { SweepReport } from '../../lambda/report.js';

/** A per-node latency probe (the keys of PROBE_METRIC): ping, read, pipeline, write, replication. */
export type LatencyProbe = keyof typeof PROBE_METRIC;
/** A cluster-wide check behind CheckSuccess: crossSlot, slots, clusterState, slotMap. */
export type ClusterCheck = keyof SweepReport['checks'];

export interface ProbeMetricsProps {
  /**
   * CloudWatch namespace the probe publishes to (its METRICS_NAMESPACE).
   * @default 'Slotwatch' (DEFAULT_NAMESPACE)
   */
  readonly namespace?: string;
  /** Value of the `Cluster` dimension: the probe's CLUSTER_NAME. */
  readonly clusterName: string;
  /**
   * Period of every metric this factory returns; alarms override it with their own.
   * @default Duration.minutes(1)
   */
  readonly period?: Duration;
}

// The unit strings in names.ts are CloudWatch's own StandardUnit values; mapping them through the
// enum (rather than casting) makes a unit added there fail to compile here until it is handled.
const UNIT: Readonly<Record<MetricUnit, cloudwatch.Unit>> = {
  None: cloudwatch.Unit.NONE,
  Count: cloudwatch.Unit.COUNT,
  Milliseconds: cloudwatch.Unit.MILLISECONDS,
};

/** Same rule as the probe's METRICS_NAMESPACE parser, so a name it accepts synthesizes too. */
const NAMESPACE_PATTERN = /^[0-9A-Za-z.\-_/#:]{1,255}$/;

export class ProbeMetrics {
  readonly namespace: string;
  readonly clusterName: string;
  readonly period: Duration;

  constructor(props: ProbeMetricsProps) {
    this.namespace = props.namespace ?? DEFAULT_NAMESPACE;
    this.clusterName = props.clusterName;
    this.period = props.period ?? Duration.minutes(1);
    validateNamespace(this.namespace);
    validateClusterName(this.clusterName);
  }

  /** 1 per passing sweep, else 0. Minimum: one failed sweep in a period shows as 0. */
  probeSuccess(): cloudwatch.Metric {
    return this.clusterMetric(METRIC.probeSuccess, cloudwatch.Stats.MINIMUM);
  }

  /** Nodes that passed every probe. Minimum: the worst sweep of the period. */
  healthyNodes(): cloudwatch.Metric {
    return this.clusterMetric(METRIC.healthyNodes, cloudwatch.Stats.MINIMUM);
  }

  /** Nodes the topology lists. Maximum: the fullest topology seen in the period. */
  totalNodes(): cloudwatch.Metric {
    return this.clusterMetric(METRIC.totalNodes, cloudwatch.Stats.MAXIMUM);
  }

  /** Maximum: the slowest sweep of the period, the one that nears the deadline. */
  sweepDuration(): cloudwatch.Metric {
    return this.clusterMetric(METRIC.sweepDuration, cloudwatch.Stats.MAXIMUM);
  }

  /** Published only when the cross-slot check passed; a failure shows in CheckSuccess instead. */
  crossSlotLatency(): cloudwatch.Metric {
    return this.clusterMetric(METRIC.crossSlotLatency, cloudwatch.Stats.MAXIMUM);
  }

  /** Minimum: a sweep that found uncovered slots must not be averaged away. */
  slotsCovered(): cloudwatch.Metric {
    return this.clusterMetric(METRIC.slotsCovered, cloudwatch.Stats.MINIMUM);
  }

  /** Sum: stale connections replaced over the whole period. */
  reconnects(): cloudwatch.Metric {
    return this.clusterMetric(METRIC.reconnects, cloudwatch.Stats.SUM);
  }

  /** 1/0 per cluster-wide check; Minimum so one failing sweep shows. */
  checkSuccess(check: ClusterCheck): cloudwatch.Metric {
    return this.metric(METRIC.checkSuccess, cloudwatch.Stats.MINIMUM, {
      [DIMENSION.check]: check,
    });
  }

  /**
   * A probe's latency aggregated over the nodes of one role. The `Role` datum carries one sample
   * per node, so Maximum is the slowest node and p99 its tail; Average would hide one bad node.
   */
  roleLatency(
    probe: LatencyProbe,
    role: NodeRole,
    statistic: string = cloudwatch.Stats.MAXIMUM,
  ): cloudwatch.Metric {
    return this.metric(PROBE_METRIC[probe], statistic, { [DIMENSION.role]: role }).with({
      label: `${PROBE_METRIC[probe].name} ${role} (${statistic})`,
    });
  }

  /**
   * NodeAvailable per node, one time series per `Node`, as a Metrics Insights query. Unlike a
   * metric per node it needs no node list at synth time and follows ElastiCache replacing a node
   * (a new `Node` value simply becomes a new series).
   */
  nodeAvailabilityByNode(): cloudwatch.MathExpression {
    return this.byNode(METRIC.nodeAvailable, 'MIN');
  }

  /** A probe's latency per node (slowest sample of the period), one series per `Node`. */
  nodeLatencyByNode(probe: LatencyProbe): cloudwatch.MathExpression {
    return this.byNode(PROBE_METRIC[probe], 'MAX');
  }

  private byNode(metric: MetricDefinition, aggregate: 'MIN' | 'MAX'): cloudwatch.MathExpression {
    // Every identifier is double-quoted: `Cluster` is a reserved word in Metrics Insights, and a
    // namespace may hold `/`, `.` or `#`. The cluster name is a single-quoted string literal.
    const query =
      `SELECT ${aggregate}(${identifier(metric.name)}) ` +
      `FROM SCHEMA(${identifier(this.namespace)}, ${identifier(DIMENSION.cluster)}, ${identifier(DIMENSION.node)}) ` +
      `WHERE ${identifier(DIMENSION.cluster)} = ${literal(this.clusterName)} ` +
      `GROUP BY ${identifier(DIMENSION.node)}`;
    // aws-cdk-lib expresses a Metrics Insights query as a MathExpression whose expression is the
    // SELECT and whose usingMetrics is empty (it skips its unknown-identifier check for SELECT).
    // No label: with GROUP BY, CloudWatch names each returned series by its Node value.
    return new cloudwatch.MathExpression({
      expression: query,
      usingMetrics: {},
      period: this.period,
    });
  }

  private clusterMetric(metric: MetricDefinition, statistic: string): cloudwatch.Metric {
    return this.metric(metric, statistic, {});
  }

  private metric(
    metric: MetricDefinition,
    statistic: string,
    extraDimensions: Readonly<Record<string, string>>,
  ): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: this.namespace,
      metricName: metric.name,
      dimensionsMap: { [DIMENSION.cluster]: this.clusterName, ...extraDimensions },
      // The probe publishes every datum with this unit, and an alarm filtering on it never
      // compares a value in some other unit against a threshold meant in this one.
      unit: UNIT[metric.unit],
      statistic,
      period: this.period,
    });
  }
}

function validateNamespace(namespace: string): void {
  if (Token.isUnresolved(namespace)) return;
  if (!NAMESPACE_PATTERN.test(namespace) || namespace.startsWith('AWS/')) {
    throw new Error(
      `ProbeMetrics: namespace must be 1 to 255 of the characters 0-9 A-Z a-z . - _ / # : and not start with AWS/ (as METRICS_NAMESPACE), got ${JSON.stringify(namespace)}`,
    );
  }
}

function validateClusterName(clusterName: string): void {
  if (Token.isUnresolved(clusterName)) return;
  if (clusterName.length < 1 || clusterName.length > 255 || /\p{Cc}/u.test(clusterName)) {
    throw new Error(
      `ProbeMetrics: clusterName must be 1 to 255 printable characters (it is the Cluster dimension), got ${JSON.stringify(clusterName)}`,
    );
  }
  // Rejected rather than escaped: Metrics Insights documents backslash escapes for identifiers
  // but not for string literals, and a query that silently matches nothing is a silent alarm.
  if (/['"\\]/.test(clusterName)) {
    throw new Error(
      `ProbeMetrics: clusterName ${JSON.stringify(clusterName)} contains a quote or backslash, which the per-node Metrics Insights queries cannot carry; choose a CLUSTER_NAME without ' " or \\`,
    );
  }
}

/**
 * A double-quoted Metrics Insights identifier. Metric and dimension names are constants and the
 * namespace was validated, so none holds a quote that would need escaping.
 */
function identifier(name: string): string {
  return `"${name}"`;
}

/** A single-quoted Metrics Insights string literal (its content was validated above). */
function literal(value: string): string {
  return `'${value}'`;
}
