/**
 * The alarm half of slotwatch's monitoring: what pages the on-call, built only from ProbeMetrics
 * (so from `lambda/metrics/names.ts`) and the probe function's own metrics. Every alarm notifies
 * the topic on ALARM and on OK (unless a composite alarm does it for them, see `notify`), and its
 * description says what it means and where to look first.
 */
import { Duration, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { NodeRole } from '../../lambda/cluster/topology.js';
import { METRIC } from '../../lambda/metrics/names.js';
import type { ProbeMetrics } from './probe-metrics.js';

export interface ProbeAlarmsProps {
  readonly metrics: ProbeMetrics;
  /** The scheduled probe; its own Errors and Throttles are alarmed on. */
  readonly probeFunction: lambda.IFunction;
  /** Where alarms notify (ALARM and OK). */
  readonly topic: sns.ITopic;
  /**
   * Whether each alarm notifies `topic` itself. False when something else pages for them, such
   * as the drill's composite alarm, which stays quiet while a failover drill runs.
   * @default true
   */
  readonly notify?: boolean;
  /**
   * ProbeSuccess < 1 in this many of `evaluationPeriods` periods raises the alarm; the same
   * "M of N" applies to node availability, unhealthy nodes and the latency alarms.
   * @default 2
   */
  readonly failedSweepsToAlarm?: number;
  /**
   * Periods each alarm looks back over.
   * @default 3
   */
  readonly evaluationPeriods?: number;
  /**
   * Alarm period: 10 or 30 seconds (needs METRICS_HIGH_RESOLUTION on the probe) or a multiple of
   * a minute. The Metrics Insights and Lambda alarms use at least one minute, the finest their
   * data has.
   * @default Duration.minutes(1)
   */
  readonly period?: Duration;
  /**
   * PingLatency threshold, applied to the slowest node of each role (Maximum).
   * @default 50 ms
   */
  readonly pingLatencyThresholdMs?: number;
  /**
   * CrossSlotLatency threshold (Maximum over the period's sweeps).
   * @default 200 ms
   */
  readonly crossSlotLatencyThresholdMs?: number;
  /**
   * ReplicationLag threshold, applied to the slowest replica (Maximum).
   * @default 1000 ms
   */
  readonly replicationLagThresholdMs?: number;
}

/** Defaults of ProbeAlarmsProps, exported so stacks and docs can quote them. */
export const PROBE_ALARM_DEFAULTS = {
  failedSweepsToAlarm: 2,
  evaluationPeriods: 3,
  period: Duration.minutes(1),
  pingLatencyThresholdMs: 50,
  crossSlotLatencyThresholdMs: 200,
  replicationLagThresholdMs: 1000,
} as const;

export interface ProbeAlarmSet {
  /** ProbeSuccess < 1: the sweep failed, or the probe stopped publishing. */
  readonly probeSuccess: cloudwatch.Alarm;
  /** Multi-time-series Metrics Insights alarm: one contributor per node with NodeAvailable < 1. */
  readonly nodeAvailability: cloudwatch.Alarm;
  /** PingLatency (slowest node of the role) above the threshold, per role. */
  readonly pingLatency: Readonly<Record<NodeRole, cloudwatch.Alarm>>;
  readonly crossSlotLatency: cloudwatch.Alarm;
  /** ReplicationLag of the slowest replica above the threshold. */
  readonly replicationLag: cloudwatch.Alarm;
  /** TotalNodes - HealthyNodes > 0. */
  readonly unhealthyNodes: cloudwatch.Alarm;
  readonly functionErrors: cloudwatch.Alarm;
  readonly functionThrottles: cloudwatch.Alarm;
}

/** Metrics Insights evaluates alarms on the most recent three hours of data only. */
const METRICS_INSIGHTS_ALARM_WINDOW_SECONDS = 3 * 60 * 60;
/** CloudWatch: evaluationPeriods x period must not exceed one day. */
const ALARM_WINDOW_SECONDS = 24 * 60 * 60;

export class ProbeAlarms extends Construct {
  readonly alarms: ProbeAlarmSet;

  constructor(scope: Construct, id: string, props: ProbeAlarmsProps) {
    super(scope, id);
    const settings = resolveSettings(props);
    const { metrics, topic } = props;
    const cluster = metrics.clusterName;
    const { period, evaluationPeriods, failedSweepsToAlarm: datapointsToAlarm } = settings;
    // Metrics Insights aggregates high-resolution data to one minute and Lambda publishes per
    // minute, so those alarms never use a sub-minute period.
    const minutePeriod =
      !period.isUnresolved() && period.toSeconds() < 60 ? Duration.minutes(1) : period;
    const mOfN = `${datapointsToAlarm} of ${evaluationPeriods} periods of ${describe(period)}`;

    const notifies = props.notify ?? true;
    const notify = (alarm: cloudwatch.Alarm): cloudwatch.Alarm => {
      if (!notifies) return alarm;
      const action = new actions.SnsAction(topic);
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
      return alarm;
    };

    const probeSuccess = notify(
      new cloudwatch.Alarm(this, 'ProbeSuccess', {
        metric: metrics.probeSuccess().with({ period }),
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        threshold: 1,
        evaluationPeriods,
        datapointsToAlarm,
        // A probe that stopped running (schedule disabled, function broken, no permission to
        // publish) sends nothing at all: that must page exactly like a failing cluster.
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
        alarmDescription:
          `slotwatch: cluster ${cluster} failed its health sweep (${METRIC.probeSuccess.name} < 1) in ${mOfN}, ` +
          `or the probe stopped publishing. First look at the dashboard's ${METRIC.checkSuccess.name} and ` +
          `node availability to see which check or node failed; if there is no data at all, look ` +
          `at the probe function's logs, errors and schedule.`,
      }),
    );

    const nodeAvailability = notify(
      new cloudwatch.Alarm(this, 'NodeAvailability', {
        metric: metrics.nodeAvailabilityByNode().with({ period: minutePeriod }),
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        threshold: 1,
        evaluationPeriods,
        datapointsToAlarm,
        // Each Node is a contributor of this multi-time-series alarm. When ElastiCache replaces
        // a node, the old Node value stops reporting for good: breaching would keep it in ALARM
        // forever and "missing" would leave it unresolved, so missing counts as healthy. A node
        // that is down but still in the topology keeps reporting 0, and a probe that stopped
        // altogether is the ProbeSuccess alarm's job.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription:
          `slotwatch: one or more nodes of cluster ${cluster} failed a probe ` +
          `(${METRIC.nodeAvailable.name} < 1) in ${datapointsToAlarm} of ${evaluationPeriods} periods of ` +
          `${describe(minutePeriod)}; the alarm's contributors name the nodes. First look at the ` +
          `per-node latency graphs and the node's ElastiCache events (failover, replacement, ` +
          `maintenance). Needs per-node metrics (METRICS_PER_NODE all or availability).`,
      }),
    );

    const latencyAlarm = (
      id: string,
      metric: cloudwatch.IMetric,
      thresholdMs: number,
      description: string,
    ): cloudwatch.Alarm =>
      notify(
        new cloudwatch.Alarm(this, id, {
          metric,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          threshold: thresholdMs,
          evaluationPeriods,
          datapointsToAlarm,
          // Latency is published only where the probe passed, and a role can be absent (a
          // cluster without replicas). A failed probe is the availability alarms' business;
          // no sample must not read as "slow".
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
          alarmDescription: description,
        }),
      );

    const pingOf = (role: NodeRole): cloudwatch.Alarm =>
      latencyAlarm(
        `PingLatency${role === 'primary' ? 'Primary' : 'Replica'}`,
        metrics.roleLatency('ping', role, cloudwatch.Stats.MAXIMUM).with({ period }),
        settings.pingLatencyThresholdMs,
        `slotwatch: the slowest ${role} of cluster ${cluster} answered PING in more than ` +
          `${settings.pingLatencyThresholdMs} ms (${METRIC.pingLatency.name}, Maximum) in ${mOfN}. ` +
          `First look at the per-node ping latency graph to find the node, then its ` +
          `EngineCPUUtilization, network and slow log.`,
      );
    const pingLatency: Record<NodeRole, cloudwatch.Alarm> = {
      primary: pingOf('primary'),
      replica: pingOf('replica'),
    };

    const crossSlotLatency = latencyAlarm(
      'CrossSlotLatency',
      metrics.crossSlotLatency().with({ period, statistic: cloudwatch.Stats.MAXIMUM }),
      settings.crossSlotLatencyThresholdMs,
      `slotwatch: the cross-slot write and read over every shard of cluster ${cluster} took more ` +
        `than ${settings.crossSlotLatencyThresholdMs} ms (${METRIC.crossSlotLatency.name}, ` +
        `Maximum) in ${mOfN}. First look at which shard's primary is slow in the per-role and ` +
        `per-node latency graphs; a slot migration in progress also slows it.`,
    );

    const replicationLag = latencyAlarm(
      'ReplicationLag',
      metrics.roleLatency('replication', 'replica', cloudwatch.Stats.MAXIMUM).with({ period }),
      settings.replicationLagThresholdMs,
      `slotwatch: the slowest replica of cluster ${cluster} took more than ` +
        `${settings.replicationLagThresholdMs} ms to serve its primary's write ` +
        `(${METRIC.replicationLag.name}, Maximum) in ${mOfN}. Reads from replicas are stale. ` +
        `First look at the replica's ReplicationLag and network in ElastiCache, and at write ` +
        `load on its primary.`,
    );

    const unhealthyNodes = notify(
      new cloudwatch.Alarm(this, 'UnhealthyNodes', {
        // Average of each: both are published once per sweep, so the difference of the averages
        // is the average of (total - healthy) per sweep, > 0 exactly when some sweep had an
        // unhealthy node. Max(total) - Min(healthy) would also fire when the topology grew.
        metric: new cloudwatch.MathExpression({
          expression: 'total - healthy',
          usingMetrics: {
            total: metrics.totalNodes().with({ statistic: cloudwatch.Stats.AVERAGE }),
            healthy: metrics.healthyNodes().with({ statistic: cloudwatch.Stats.AVERAGE }),
          },
          label: 'Unhealthy nodes (TotalNodes - HealthyNodes)',
          period,
        }),
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        threshold: 0,
        evaluationPeriods,
        datapointsToAlarm,
        // No data means no sweep, which ProbeSuccess already pages on; paging twice adds nothing.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription:
          `slotwatch: fewer nodes of cluster ${cluster} passed every probe than its topology ` +
          `lists (${METRIC.healthyNodes.name} < ${METRIC.totalNodes.name}) in ${mOfN}. Works ` +
          `without per-node metrics. First look at node availability by node, then the ` +
          `cluster's ElastiCache events.`,
      }),
    );

    const functionName = props.probeFunction.functionName;
    const functionAlarm = (
      id: string,
      metric: cloudwatch.IMetric,
      description: string,
    ): cloudwatch.Alarm =>
      notify(
        new cloudwatch.Alarm(this, id, {
          metric,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          threshold: 0,
          // One is enough: the handler reports an unhealthy cluster as metrics, never by
          // throwing, so any error or throttle means the watcher itself is broken.
          evaluationPeriods: 1,
          datapointsToAlarm: 1,
          // Lambda publishes these only for invocations; no invocations is ProbeSuccess's case.
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
          alarmDescription: description,
        }),
      );
    const functionErrors = functionAlarm(
      'FunctionErrors',
      props.probeFunction.metricErrors({
        period: minutePeriod,
        statistic: cloudwatch.Stats.SUM,
      }),
      `slotwatch: the probe function ${Token.isUnresolved(functionName) ? '' : `${functionName} `}` +
        `failed an invocation (Errors > 0 in ${describe(minutePeriod)}): configuration error, ` +
        `timeout or bug, and sweeps are being missed. First look at its CloudWatch Logs for ` +
        `"configuration error" or the stack trace.`,
    );
    const functionThrottles = functionAlarm(
      'FunctionThrottles',
      props.probeFunction.metricThrottles({
        period: minutePeriod,
        statistic: cloudwatch.Stats.SUM,
      }),
      `slotwatch: the probe function was throttled (Throttles > 0 in ` +
        `${describe(minutePeriod)}), so sweeps are being skipped. First look at the account's ` +
        `Lambda concurrency (ConcurrentExecutions) and any reserved concurrency on the function.`,
    );

    this.alarms = {
      probeSuccess,
      nodeAvailability,
      pingLatency,
      crossSlotLatency,
      replicationLag,
      unhealthyNodes,
      functionErrors,
      functionThrottles,
    };
  }

  /** Every alarm, for an alarm status widget or a composite alarm. */
  get all(): cloudwatch.Alarm[] {
    const { pingLatency, ...rest } = this.alarms;
    return [...Object.values(rest), pingLatency.primary, pingLatency.replica];
  }
}

interface Settings {
  readonly failedSweepsToAlarm: number;
  readonly evaluationPeriods: number;
  readonly period: Duration;
  readonly pingLatencyThresholdMs: number;
  readonly crossSlotLatencyThresholdMs: number;
  readonly replicationLagThresholdMs: number;
}

/** Defaults first, then validation; unresolved tokens are skipped as they cannot be checked. */
function resolveSettings(props: ProbeAlarmsProps): Settings {
  const settings: Settings = {
    failedSweepsToAlarm: props.failedSweepsToAlarm ?? PROBE_ALARM_DEFAULTS.failedSweepsToAlarm,
    evaluationPeriods: props.evaluationPeriods ?? PROBE_ALARM_DEFAULTS.evaluationPeriods,
    period: props.period ?? PROBE_ALARM_DEFAULTS.period,
    pingLatencyThresholdMs:
      props.pingLatencyThresholdMs ?? PROBE_ALARM_DEFAULTS.pingLatencyThresholdMs,
    crossSlotLatencyThresholdMs:
      props.crossSlotLatencyThresholdMs ?? PROBE_ALARM_DEFAULTS.crossSlotLatencyThresholdMs,
    replicationLagThresholdMs:
      props.replicationLagThresholdMs ?? PROBE_ALARM_DEFAULTS.replicationLagThresholdMs,
  };
  const known = (n: number): boolean => !Token.isUnresolved(n);

  for (const name of ['evaluationPeriods', 'failedSweepsToAlarm'] as const) {
    const value = settings[name];
    if (known(value) && !(Number.isInteger(value) && value >= 1)) {
      throw new Error(`ProbeAlarms: ${name} must be a whole number of at least 1, got ${value}`);
    }
  }
  const { failedSweepsToAlarm, evaluationPeriods } = settings;
  if (known(failedSweepsToAlarm) && known(evaluationPeriods)) {
    if (failedSweepsToAlarm > evaluationPeriods) {
      throw new Error(
        `ProbeAlarms: failedSweepsToAlarm (${failedSweepsToAlarm}) must not exceed evaluationPeriods (${evaluationPeriods}): an alarm cannot see more failing periods than it evaluates`,
      );
    }
  }

  for (const name of [
    'pingLatencyThresholdMs',
    'crossSlotLatencyThresholdMs',
    'replicationLagThresholdMs',
  ] as const) {
    const value = settings[name];
    if (known(value) && !(Number.isFinite(value) && value > 0)) {
      throw new Error(
        `ProbeAlarms: ${name} must be a positive number of milliseconds, got ${value}`,
      );
    }
  }

  if (!settings.period.isUnresolved()) {
    const seconds = settings.period.toSeconds();
    if (!(seconds === 10 || seconds === 30 || (seconds > 0 && seconds % 60 === 0))) {
      throw new Error(
        `ProbeAlarms: period must be 10 seconds, 30 seconds or a whole number of minutes (CloudWatch alarm periods), got ${settings.period.toHumanString()}`,
      );
    }
    if (known(evaluationPeriods)) {
      const window = seconds * evaluationPeriods;
      if (window > ALARM_WINDOW_SECONDS) {
        throw new Error(
          `ProbeAlarms: evaluationPeriods x period must not exceed one day (CloudWatch), got ${evaluationPeriods} x ${settings.period.toHumanString()}`,
        );
      }
      const insightsWindow = Math.max(seconds, 60) * evaluationPeriods;
      if (insightsWindow > METRICS_INSIGHTS_ALARM_WINDOW_SECONDS) {
        throw new Error(
          `ProbeAlarms: evaluationPeriods x period must not exceed three hours, the data a Metrics Insights alarm (node availability) can evaluate, got ${evaluationPeriods} x ${settings.period.toHumanString()}`,
        );
      }
    }
  }
  return settings;
}

function describe(period: Duration): string {
  return period.isUnresolved() ? 'the period' : period.toHumanString();
}
