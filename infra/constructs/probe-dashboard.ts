/**
 * One CloudWatch dashboard per probed cluster, read top-down the way an incident is: alarm
 * states, then "is the cluster whole", then which node, then how slow, then the probe itself.
 */
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import type { NodeRole } from '../../lambda/cluster/topology.js';
import { PROBES_BY_ROLE, PROBE_METRIC } from '../../lambda/metrics/names.js';
import type { ProbeAlarms } from './probe-alarms.js';
import type { ClusterCheck, LatencyProbe, ProbeMetrics } from './probe-metrics.js';

export interface ProbeDashboardProps {
  readonly metrics: ProbeMetrics;
  /** The probe function, whose invocations, errors and duration are graphed. */
  readonly probeFunction: lambda.IFunction;
  /**
   * The probe's alarms, shown in an alarm status widget at the top.
   * @default - no alarm status widget
   */
  readonly alarms?: ProbeAlarms;
  /**
   * @default - a name CloudFormation generates
   */
  readonly dashboardName?: string;
}

/** The dashboard grid is 24 units wide. */
const FULL = 24;
const HALF = 12;
const THIRD = 8;
const HEIGHT = 6;

// Written as complete records so that a role or check added to the runtime's types fails to
// compile here until the dashboard shows it.
const ROLE_SET: Readonly<Record<NodeRole, true>> = { primary: true, replica: true };
const CHECK_SET: Readonly<Record<ClusterCheck, true>> = {
  crossSlot: true,
  slots: true,
  clusterState: true,
  slotMap: true,
};
const ROLES = Object.keys(ROLE_SET) as NodeRole[];
const CHECKS = Object.keys(CHECK_SET) as ClusterCheck[];
const PROBES = Object.keys(PROBE_METRIC) as LatencyProbe[];
/**
 * An empty label makes aws-cdk-lib leave the graph's label out (otherwise it labels an expression
 * with its own text), so CloudWatch names each GROUP BY series by its Node value.
 */
const BY_NODE_LABEL = '';

export class ProbeDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: ProbeDashboardProps) {
    super(scope, id);
    const { metrics, probeFunction } = props;
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
    });

    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown:
          `# slotwatch: ${metrics.clusterName}\n` +
          `Namespace \`${metrics.namespace}\`, dimension \`Cluster = ${metrics.clusterName}\`. ` +
          `Per-node graphs are Metrics Insights queries, so replaced nodes appear on their own.`,
        width: FULL,
        height: 2,
      }),
    );

    if (props.alarms !== undefined) {
      const alarms = props.alarms.all;
      this.dashboard.addWidgets(
        new cloudwatch.AlarmStatusWidget({
          title: 'Alarms',
          alarms,
          sortBy: cloudwatch.AlarmStatusWidgetSortBy.STATE_UPDATED_TIMESTAMP,
          width: FULL,
          // One row of the widget holds about four alarms.
          height: Math.min(2 + Math.ceil(alarms.length / 4), 6),
        }),
      );
    }

    const ratio = { min: 0, max: 1, showUnits: false };
    const milliseconds = { min: 0, label: 'ms', showUnits: false };
    const count = { min: 0, showUnits: false };

    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Probe success (min per period)',
        left: [metrics.probeSuccess().with({ label: 'ProbeSuccess' })],
        leftYAxis: ratio,
        width: THIRD,
        height: HEIGHT,
      }),
      new cloudwatch.GraphWidget({
        title: 'Healthy vs total nodes',
        left: [
          metrics.healthyNodes().with({ label: 'HealthyNodes (min)' }),
          metrics.totalNodes().with({ label: 'TotalNodes (max)' }),
        ],
        leftYAxis: count,
        width: THIRD,
        height: HEIGHT,
      }),
      new cloudwatch.GraphWidget({
        title: 'Cluster checks (min per period)',
        left: CHECKS.map((check) => metrics.checkSuccess(check).with({ label: check })),
        leftYAxis: ratio,
        width: THIRD,
        height: HEIGHT,
      }),
    );

    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Node availability by node (min per period)',
        left: [metrics.nodeAvailabilityByNode().with({ label: BY_NODE_LABEL })],
        leftYAxis: ratio,
        width: HALF,
        height: HEIGHT,
      }),
      new cloudwatch.GraphWidget({
        title: 'Ping latency by node (max per period)',
        left: [metrics.nodeLatencyByNode('ping').with({ label: BY_NODE_LABEL })],
        leftYAxis: milliseconds,
        width: HALF,
        height: HEIGHT,
      }),
    );

    // One graph per probe with a line per role that runs it (no write line for replicas, no
    // replication line for primaries).
    const roleLatencyWidgets = PROBES.map(
      (probe) =>
        new cloudwatch.GraphWidget({
          title: `${PROBE_METRIC[probe].name} by role (slowest node)`,
          left: ROLES.filter((role) =>
            (PROBES_BY_ROLE[role] as readonly string[]).includes(probe),
          ).map((role) =>
            metrics.roleLatency(probe, role, cloudwatch.Stats.MAXIMUM).with({ label: role }),
          ),
          leftYAxis: milliseconds,
          width: THIRD,
          height: HEIGHT,
        }),
    );
    const clusterWidgets = [
      new cloudwatch.GraphWidget({
        title: 'Cross-slot latency (max)',
        left: [metrics.crossSlotLatency().with({ label: 'CrossSlotLatency' })],
        leftYAxis: milliseconds,
        width: THIRD,
        height: HEIGHT,
      }),
      new cloudwatch.GraphWidget({
        title: 'Sweep duration (max)',
        left: [metrics.sweepDuration().with({ label: 'SweepDuration' })],
        leftYAxis: milliseconds,
        width: THIRD,
        height: HEIGHT,
      }),
      new cloudwatch.GraphWidget({
        title: 'Slots covered (min)',
        left: [metrics.slotsCovered().with({ label: 'SlotsCovered' })],
        // Autoscaled on purpose: 16384 when whole, and a few lost slots would vanish on 0-16384.
        leftYAxis: { showUnits: false },
        width: THIRD,
        height: HEIGHT,
      }),
      new cloudwatch.GraphWidget({
        title: 'Reconnects (sum)',
        left: [metrics.reconnects().with({ label: 'Reconnects' })],
        leftYAxis: count,
        width: THIRD,
        height: HEIGHT,
      }),
    ];
    // addWidgets lays out left to right and wraps at 24 units.
    this.dashboard.addWidgets(...roleLatencyWidgets, ...clusterWidgets);

    const period = metrics.period;
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Probe function: invocations, errors, throttles',
        left: [
          probeFunction.metricInvocations({ period, label: 'Invocations' }),
          probeFunction.metricErrors({ period, label: 'Errors' }),
          probeFunction.metricThrottles({ period, label: 'Throttles' }),
        ],
        leftYAxis: count,
        width: HALF,
        height: HEIGHT,
      }),
      new cloudwatch.GraphWidget({
        title: 'Probe function: duration',
        left: [
          probeFunction.metricDuration({
            period,
            statistic: cloudwatch.Stats.AVERAGE,
            label: 'Average',
          }),
          probeFunction.metricDuration({
            period,
            statistic: cloudwatch.Stats.MAXIMUM,
            label: 'Maximum',
          }),
        ],
        leftYAxis: milliseconds,
        width: HALF,
        height: HEIGHT,
      }),
    );
  }
}
