/**
 * Paging while failover drills are scheduled. A drill breaks the cluster on purpose, so the probe's
 * alarms must not page for it: they stop notifying on their own (ProbeAlarms `notify: false`) and
 * one composite alarm, ANY of them, pages instead, with the DrillInProgress alarm as its actions
 * suppressor. What the drill finds does page: a shard that did not recover, acknowledged writes
 * that were lost, a drill function that failed.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { DIMENSION, METRIC, type MetricDefinition } from '../../lambda/metrics/names.js';
import type { ProbeMetrics } from './probe-metrics.js';

export interface DrillAlarmsProps {
  /** Namespace and Cluster dimension (validated there) shared with the probe and the drill. */
  readonly metrics: ProbeMetrics;
  /** The probe's alarms, which must not notify on their own; the composite pages for them. */
  readonly probeAlarms: readonly cloudwatch.IAlarm[];
  readonly drillFunction: lambda.IFunction;
  readonly topic: sns.ITopic;
  /**
   * The drill function's timeout. The drill alarms look back this far and two minutes more: a
   * drill that died without publishing its end still mutes the probe until it would have timed
   * out, and outcome datums stamped with the drill's start but published at its end still land
   * inside the window.
   */
  readonly drillTimeout: Duration;
  /**
   * How long the composite alarm, once in ALARM, waits for DrillInProgress to go into ALARM
   * before paging. Covers a probe alarm that fires before the DrillInProgress alarm has seen
   * the drill's first datum; it delays every real page by as much.
   * @default Duration.minutes(2)
   */
  readonly suppressorWaitPeriod?: Duration;
  /**
   * How long the probe's alarms stay muted after DrillInProgress leaves ALARM: the old primary
   * is replaced and resyncs as a replica after the drill has declared recovery.
   * @default Duration.minutes(5)
   */
  readonly suppressorExtensionPeriod?: Duration;
  /**
   * DrillLostWrites above this pages.
   * @default 0
   */
  readonly lostWritesThreshold?: number;
}

/** Defaults of DrillAlarmsProps, exported so stacks and docs can quote them. */
export const DRILL_ALARM_DEFAULTS = {
  suppressorWaitPeriod: Duration.minutes(2),
  suppressorExtensionPeriod: Duration.minutes(5),
  lostWritesThreshold: 0,
} as const;

const PERIOD = Duration.minutes(1);
/** Beyond the drill's timeout: a late datum's ingestion and the alarm's next evaluation. */
const WINDOW_SLACK_PERIODS = 2;

export class DrillAlarms extends Construct {
  /** DrillInProgress >= 1 within the drill's timeout: the actions suppressor. Never notifies. */
  readonly drillInProgress: cloudwatch.Alarm;
  /** ANY of the probe's alarms; pages unless a drill is running or just ended. */
  readonly probeHealth: cloudwatch.CompositeAlarm;
  /** DrillRecovered < 1: the drilled shard did not recover within the time limit. */
  readonly drillRecovered: cloudwatch.Alarm;
  readonly lostWrites: cloudwatch.Alarm;
  /** DrillAborted >= 1: a pre-check stopped the drill; the rehearsal did not happen. */
  readonly aborted: cloudwatch.Alarm;
  /** The drill function failed or timed out: the drill may have ended mid-failover, unreported. */
  readonly functionErrors: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: DrillAlarmsProps) {
    super(scope, id);
    const { metrics, topic } = props;
    const cluster = metrics.clusterName;
    const wait = props.suppressorWaitPeriod ?? DRILL_ALARM_DEFAULTS.suppressorWaitPeriod;
    const extension =
      props.suppressorExtensionPeriod ?? DRILL_ALARM_DEFAULTS.suppressorExtensionPeriod;
    const lostWritesThreshold =
      props.lostWritesThreshold ?? DRILL_ALARM_DEFAULTS.lostWritesThreshold;
    if (props.probeAlarms.length === 0) {
      throw new Error('DrillAlarms: probeAlarms must hold at least one alarm to watch');
    }
    if (props.drillTimeout.isUnresolved()) {
      throw new Error('DrillAlarms: drillTimeout must be known at synth time');
    }
    const windowPeriods =
      Math.ceil(props.drillTimeout.toSeconds() / PERIOD.toSeconds()) + WINDOW_SLACK_PERIODS;
    const windowText = `${windowPeriods} minutes`;

    this.drillInProgress = new cloudwatch.Alarm(this, 'DrillInProgress', {
      metric: clusterQuery(metrics, 'MAX', METRIC.drillInProgress),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      threshold: 1,
      // The drill publishes 1 once, at its start (and 0 at its end, which a timeout skips): one
      // datum of 1 anywhere in the window keeps the alarm in ALARM, so the mute covers any
      // drill, however it ends, for its timeout and two minutes from its start.
      evaluationPeriods: windowPeriods,
      datapointsToAlarm: 1,
      // No drill, no data: the normal, unmuted state.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription:
        `slotwatch: a failover drill of cluster ${cluster} started within the last ` +
        `${windowText} (${METRIC.drillInProgress.name} >= 1). Never notifies: it mutes the ` +
        `probe's composite alarm while the drill breaks the cluster on purpose.`,
    });

    const page = new actions.SnsAction(topic);
    this.probeHealth = new cloudwatch.CompositeAlarm(this, 'ProbeHealth', {
      alarmRule: cloudwatch.AlarmRule.anyOf(...props.probeAlarms),
      actionsSuppressor: this.drillInProgress,
      actionsSuppressorWaitPeriod: wait,
      actionsSuppressorExtensionPeriod: extension,
      alarmDescription:
        `slotwatch: one or more probe alarms of cluster ${cluster} are in ALARM; their ` +
        `descriptions say what failed and where to look. Muted while a failover drill runs ` +
        `(${METRIC.drillInProgress.name}) and for ${extension.toHumanString()} after it, so a ` +
        `page in that time means the cluster did not settle after the drill.`,
    });
    this.probeHealth.addAlarmAction(page);
    this.probeHealth.addOkAction(page);

    // The drill publishes its verdict once, at its end, stamped with the drill's start: the
    // alarms look back over the whole window for it, and go back to OK by themselves once it has
    // slid out, so they notify on ALARM only; an OK would read as "fixed".
    this.drillRecovered = new cloudwatch.Alarm(this, 'DrillRecovered', {
      metric: clusterQuery(metrics, 'MIN', METRIC.drillRecovered),
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      threshold: 1,
      evaluationPeriods: windowPeriods,
      datapointsToAlarm: 1,
      // Missing between drills is normal; a drill that died before its verdict is the
      // function errors alarm's case.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription:
        `slotwatch: the failover drill of cluster ${cluster} ended without the drilled shard ` +
        `recovering within the time limit (${METRIC.drillRecovered.name} < 1): a real failover ` +
        `would have meant an outage. First look at the drill report in the drill function's ` +
        `logs (timeline, new primary) and the replication group's ElastiCache events.`,
    });
    this.drillRecovered.addAlarmAction(page);

    this.lostWrites = new cloudwatch.Alarm(this, 'DrillLostWrites', {
      metric: clusterQuery(metrics, 'MAX', METRIC.drillLostWrites),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      threshold: lostWritesThreshold,
      evaluationPeriods: windowPeriods,
      datapointsToAlarm: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription:
        `slotwatch: writes to cluster ${cluster} that were acknowledged during the failover ` +
        `drill were missing afterwards (${METRIC.drillLostWrites.name} > ${lostWritesThreshold}). ` +
        `Replication is asynchronous, so a failover can drop the newest writes; the drill ` +
        `report in the drill function's logs counts them and shows when they were written.`,
    });
    this.lostWrites.addAlarmAction(page);

    // Not an outage, but a rehearsal that is always skipped (no replica in sync, the TestFailover
    // allowance used up by someone else, a lock left behind) would otherwise go unnoticed for
    // weeks while the dashboard looks calm.
    this.aborted = new cloudwatch.Alarm(this, 'DrillAborted', {
      metric: clusterQuery(metrics, 'MAX', METRIC.drillAborted),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      threshold: 1,
      evaluationPeriods: windowPeriods,
      datapointsToAlarm: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription:
        `slotwatch: the scheduled failover drill of cluster ${cluster} did not run: a ` +
        `pre-check refused before anything was touched (${METRIC.drillAborted.name} >= 1). ` +
        `The drill report in the drill function's logs says why (field "aborted"): no replica ` +
        `in sync, another drill holding the lock, the replication group busy, or the ` +
        `TestFailover allowance of 15 node groups per 24 hours used up.`,
    });
    this.aborted.addAlarmAction(page);

    this.functionErrors = new cloudwatch.Alarm(this, 'DrillFunctionErrors', {
      metric: props.drillFunction.metricErrors({
        period: PERIOD,
        statistic: cloudwatch.Stats.SUM,
      }),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      threshold: 0,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      // Lambda publishes Errors only for invocations, and the drill runs once a week.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription:
        `slotwatch: the failover drill function of cluster ${cluster} failed or timed out, ` +
        `so the drill may have stopped in the middle of a failover without a verdict. First ` +
        `look at its logs, then at the replication group's state and ElastiCache events.`,
    });
    this.functionErrors.addAlarmAction(page);
  }
}

/**
 * One series per Cluster as a Metrics Insights query. Without SCHEMA it matches every dimension
 * set that has this Cluster, so the alarm sees the drill's datums whether or not the handler
 * adds a Shard dimension; MIN and MAX are not skewed by the same datum in two sets.
 */
function clusterQuery(
  metrics: ProbeMetrics,
  aggregate: 'MIN' | 'MAX',
  metric: MetricDefinition,
): cloudwatch.MathExpression {
  // Namespace and cluster name were validated by ProbeMetrics: neither holds a quote.
  return new cloudwatch.MathExpression({
    expression:
      `SELECT ${aggregate}("${metric.name}") FROM "${metrics.namespace}" ` +
      `WHERE "${DIMENSION.cluster}" = '${metrics.clusterName}'`,
    usingMetrics: {},
    label: `${metric.name} (${aggregate})`,
    period: PERIOD,
  });
}
