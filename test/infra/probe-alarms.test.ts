/**
 * ProbeMetrics, ProbeAlarms, ProbeDashboard and AlarmTopic synthesized in a small stack: every
 * alarm's settings, the Metrics Insights queries, metric names and units against
 * lambda/metrics/names.ts, the dashboard body, the topic's protection, prop validation, and a
 * cdk-nag pass (with proof that the check sees a finding when there is one).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Duration, Lazy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { afterEach, describe, expect, it } from 'vitest';
import { checkWithNag } from '../support/nag.js';
import { AlarmTopic, type AlarmTopicProps } from '../../infra/constructs/alarm-topic.js';
import { ProbeAlarms, type ProbeAlarmsProps } from '../../infra/constructs/probe-alarms.js';
import {
  ProbeDashboard,
  type ProbeDashboardProps,
} from '../../infra/constructs/probe-dashboard.js';
import {
  ProbeMetrics,
  type LatencyProbe,
  type ProbeMetricsProps,
} from '../../infra/constructs/probe-metrics.js';
import {
  DEFAULT_NAMESPACE,
  DIMENSION,
  METRIC,
  PROBE_METRIC,
  type MetricDefinition,
} from '../../lambda/metrics/names.js';

const ENV = { account: '123456789012', region: 'us-east-1' };
const CLUSTER = 'orders';

const AVAILABILITY_QUERY =
  `SELECT MIN("${METRIC.nodeAvailable.name}") FROM SCHEMA("${DEFAULT_NAMESPACE}", "Cluster", "Node") ` +
  `WHERE "Cluster" = '${CLUSTER}' GROUP BY "Node"`;
const PING_QUERY =
  `SELECT MAX("${METRIC.pingLatency.name}") FROM SCHEMA("${DEFAULT_NAMESPACE}", "Cluster", "Node") ` +
  `WHERE "Cluster" = '${CLUSTER}' GROUP BY "Node"`;

interface BuildOptions {
  readonly metrics?: Partial<ProbeMetricsProps>;
  readonly alarms?: Partial<Omit<ProbeAlarmsProps, 'metrics' | 'probeFunction' | 'topic'>>;
  readonly topic?: AlarmTopicProps;
  readonly dashboard?: Partial<Pick<ProbeDashboardProps, 'dashboardName'>> & {
    readonly withAlarms?: boolean;
  };
  readonly app?: App;
}

/** The four constructs as a stack would compose them, around an imported probe function. */
function build(options: BuildOptions = {}) {
  const app = options.app ?? new App();
  const stack = new Stack(app, 'Monitoring', { env: ENV });
  const metrics = new ProbeMetrics({ clusterName: CLUSTER, ...options.metrics });
  // An imported function has the same metric helpers and brings no IAM or Lambda resources.
  const probeFunction = lambda.Function.fromFunctionName(stack, 'Probe', 'slotwatch-probe');
  const alarmTopic = new AlarmTopic(stack, 'AlarmTopic', options.topic);
  const probeAlarms = new ProbeAlarms(stack, 'Alarms', {
    metrics,
    probeFunction,
    topic: alarmTopic.topic,
    ...options.alarms,
  });
  const withAlarms = options.dashboard?.withAlarms ?? true;
  new ProbeDashboard(stack, 'Dashboard', {
    metrics,
    probeFunction,
    dashboardName: options.dashboard?.dashboardName,
    ...(withAlarms && { alarms: probeAlarms }),
  });
  return { app, stack, metrics, probeAlarms, alarmTopic };
}

function synthesize(options: BuildOptions = {}) {
  const built = build(options);
  const template = Template.fromStack(built.stack);
  const topicRef = built.stack.resolve(built.alarmTopic.topic.topicArn) as unknown;
  return { ...built, template, topicRef };
}

/**
 * `Template.hasResourceProperties` as a thunk for `expect(...).not.toThrow()`: the test then
 * asserts through `expect` (vitest/expect-expect), and a mismatch still shows CDK's diff.
 */
const resourceWith = (template: Template, type: string, properties: object) => (): void =>
  template.hasResourceProperties(type, properties);

interface MetricStatQuery {
  readonly Id: string;
  readonly Expression?: string;
  readonly Period?: number;
  readonly ReturnData?: boolean;
  readonly MetricStat?: {
    readonly Metric: {
      readonly MetricName: string;
      readonly Namespace: string;
      readonly Dimensions: readonly { Name: string; Value: unknown }[];
    };
    readonly Period: number;
    readonly Stat: string;
    readonly Unit?: string;
  };
}

interface AlarmProperties {
  readonly AlarmDescription: string;
  readonly AlarmActions: readonly unknown[];
  readonly OKActions: readonly unknown[];
  readonly MetricName?: string;
  readonly Namespace?: string;
  readonly Unit?: string;
  readonly Metrics?: readonly MetricStatQuery[];
}

function alarmsOf(template: Template): AlarmProperties[] {
  const resources = template.findResources('AWS::CloudWatch::Alarm') as Record<
    string,
    { Properties: AlarmProperties }
  >;
  return Object.values(resources).map((r) => r.Properties);
}

/** (namespace, metric name, unit) of every plain metric an alarm reads. */
function watchedMetrics(template: Template): { namespace: string; name: string; unit?: string }[] {
  return alarmsOf(template).flatMap((alarm) => {
    if (alarm.MetricName !== undefined && alarm.Namespace !== undefined) {
      return [{ namespace: alarm.Namespace, name: alarm.MetricName, unit: alarm.Unit }];
    }
    return (alarm.Metrics ?? []).flatMap((query) =>
      query.MetricStat === undefined
        ? []
        : [
            {
              namespace: query.MetricStat.Metric.Namespace,
              name: query.MetricStat.Metric.MetricName,
              unit: query.MetricStat.Unit,
            },
          ],
    );
  });
}

interface DashboardWidget {
  readonly type: string;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly properties: {
    readonly title?: string;
    readonly alarms?: readonly string[];
    readonly metrics?: readonly (readonly unknown[])[];
  };
}

/**
 * The dashboard body with every CloudFormation token (region, alarm ARNs, function name) replaced
 * by a placeholder; they all sit inside JSON strings, so the result parses.
 */
function dashboardWidgets(template: Template): DashboardWidget[] {
  const dashboards = template.findResources('AWS::CloudWatch::Dashboard') as Record<
    string,
    { Properties: { DashboardBody: { 'Fn::Join': [string, unknown[]] } } }
  >;
  const [dashboard] = Object.values(dashboards);
  if (dashboard === undefined) throw new Error('no dashboard in the template');
  const parts = dashboard.Properties.DashboardBody['Fn::Join'][1];
  const body = parts.map((part) => (typeof part === 'string' ? part : 'TOKEN')).join('');
  return (JSON.parse(body) as { widgets: DashboardWidget[] }).widgets;
}

const expressionsOf = (widget: DashboardWidget): string[] =>
  (widget.properties.metrics ?? []).flatMap((line) =>
    line.flatMap((item) =>
      typeof item === 'object' && item !== null && 'expression' in item
        ? [String(item.expression)]
        : [],
    ),
  );

describe('ProbeMetrics', () => {
  it('builds the per-node Metrics Insights queries with quoted identifiers and the cluster as a literal', () => {
    // Prepare
    const metrics = new ProbeMetrics({ clusterName: CLUSTER });
    const custom = new ProbeMetrics({ clusterName: 'payments-2', namespace: 'Team/Slotwatch' });

    // Act
    const availability = metrics.nodeAvailabilityByNode();
    const replication = custom.nodeLatencyByNode('replication');

    // Assess: `Cluster` is a reserved word in Metrics Insights, so identifiers are double-quoted.
    expect(availability.expression).toBe(AVAILABILITY_QUERY);
    expect(availability.usingMetrics).toEqual({});
    expect(availability.period.toSeconds()).toBe(60);
    expect(metrics.nodeLatencyByNode('ping').expression).toBe(PING_QUERY);
    expect(replication.expression).toBe(
      `SELECT MAX("ReplicationLag") FROM SCHEMA("Team/Slotwatch", "Cluster", "Node") ` +
        `WHERE "Cluster" = 'payments-2' GROUP BY "Node"`,
    );
  });

  it('takes every metric name, unit and dimension from lambda/metrics/names.ts', () => {
    // Prepare
    const metrics = new ProbeMetrics({ clusterName: CLUSTER, period: Duration.minutes(5) });
    const cluster = { [DIMENSION.cluster]: CLUSTER };
    type Case = [cloudwatch.Metric, MetricDefinition, Record<string, string>];
    const cases: Case[] = [
      [metrics.probeSuccess(), METRIC.probeSuccess, cluster],
      [metrics.healthyNodes(), METRIC.healthyNodes, cluster],
      [metrics.totalNodes(), METRIC.totalNodes, cluster],
      [metrics.sweepDuration(), METRIC.sweepDuration, cluster],
      [metrics.crossSlotLatency(), METRIC.crossSlotLatency, cluster],
      [metrics.slotsCovered(), METRIC.slotsCovered, cluster],
      [metrics.reconnects(), METRIC.reconnects, cluster],
      [
        metrics.checkSuccess('slotMap'),
        METRIC.checkSuccess,
        { ...cluster, [DIMENSION.check]: 'slotMap' },
      ],
      ...(Object.keys(PROBE_METRIC) as LatencyProbe[]).map((probe): Case => [
        metrics.roleLatency(probe, 'replica'),
        PROBE_METRIC[probe],
        { ...cluster, [DIMENSION.role]: 'replica' },
      ]),
    ];

    // Assess
    for (const [metric, definition, dimensions] of cases) {
      expect(metric.namespace).toBe(DEFAULT_NAMESPACE);
      expect(metric.metricName).toBe(definition.name);
      expect(metric.unit).toBe(definition.unit);
      expect(metric.dimensions).toEqual(dimensions);
      expect(metric.period.toSeconds()).toBe(300);
    }
    expect(metrics.roleLatency('ping', 'primary', 'p99').statistic).toBe('p99');
  });

  it.each([
    [{ clusterName: "o'brien" }, /clusterName "o'brien" contains a quote or backslash/],
    [{ clusterName: 'say "hi"' }, /contains a quote or backslash/],
    [{ clusterName: 'back\\slash' }, /contains a quote or backslash/],
    [{ clusterName: '' }, /clusterName must be 1 to 255 printable characters/],
    [{ clusterName: 'x'.repeat(256) }, /clusterName must be 1 to 255 printable characters/],
    [{ clusterName: 'tab\there' }, /clusterName must be 1 to 255 printable characters/],
    [{ clusterName: CLUSTER, namespace: 'AWS/ElastiCache' }, /not start with AWS\//],
    [{ clusterName: CLUSTER, namespace: 'with space' }, /namespace must be 1 to 255 of/],
    [{ clusterName: CLUSTER, namespace: 'quo"te' }, /namespace must be 1 to 255 of/],
  ])('rejects %j', (props, message) => {
    expect(() => new ProbeMetrics(props)).toThrow(message);
  });

  it('leaves unresolved tokens unchecked', () => {
    const token = Lazy.string({ produce: () => "o'brien" });
    expect(() => new ProbeMetrics({ clusterName: token, namespace: token })).not.toThrow();
  });
});

describe('ProbeAlarms with default settings', () => {
  const { template, topicRef, probeAlarms } = synthesize();
  const actions = { AlarmActions: [topicRef], OKActions: [topicRef] };
  const mOfN = { EvaluationPeriods: 3, DatapointsToAlarm: 2 };
  const clusterDimension = { Name: DIMENSION.cluster, Value: CLUSTER };

  it('pages when ProbeSuccess < 1 in 2 of 3 minutes, and when the probe stops publishing', () => {
    expect(
      resourceWith(template, 'AWS::CloudWatch::Alarm', {
        Namespace: DEFAULT_NAMESPACE,
        MetricName: METRIC.probeSuccess.name,
        Dimensions: [clusterDimension],
        Statistic: 'Minimum',
        Unit: METRIC.probeSuccess.unit,
        Period: 60,
        ComparisonOperator: 'LessThanThreshold',
        Threshold: 1,
        ...mOfN,
        TreatMissingData: 'breaching',
        ...actions,
      }),
    ).not.toThrow();
  });

  it('alarms per node through a multi-time-series Metrics Insights query that ignores vanished nodes', () => {
    expect(
      resourceWith(template, 'AWS::CloudWatch::Alarm', {
        Metrics: [
          {
            Id: Match.anyValue(),
            Expression: AVAILABILITY_QUERY,
            Period: 60,
            ReturnData: true,
          },
        ],
        ComparisonOperator: 'LessThanThreshold',
        Threshold: 1,
        ...mOfN,
        TreatMissingData: 'notBreaching',
        ...actions,
      }),
    ).not.toThrow();
    // A Metrics Insights alarm carries its query only: no metric, statistic or unit of its own.
    const [insights] = alarmsOf(template).filter((a) =>
      a.Metrics?.some((q) => q.Expression?.startsWith('SELECT')),
    );
    expect(insights).not.toHaveProperty('MetricName');
    expect(insights).not.toHaveProperty('Statistic');
  });

  it.each(['primary', 'replica'] as const)(
    'alarms when the slowest %s pings slower than 50 ms',
    (role) => {
      expect(
        resourceWith(template, 'AWS::CloudWatch::Alarm', {
          Metrics: [
            Match.objectLike({
              MetricStat: {
                Metric: {
                  Namespace: DEFAULT_NAMESPACE,
                  MetricName: METRIC.pingLatency.name,
                  Dimensions: [clusterDimension, { Name: DIMENSION.role, Value: role }],
                },
                Period: 60,
                Stat: 'Maximum',
                Unit: METRIC.pingLatency.unit,
              },
              ReturnData: true,
            }),
          ],
          ComparisonOperator: 'GreaterThanThreshold',
          Threshold: 50,
          ...mOfN,
          TreatMissingData: 'notBreaching',
          ...actions,
        }),
      ).not.toThrow();
    },
  );

  it('alarms on cross-slot latency above 200 ms and replication lag above 1000 ms', () => {
    expect(
      resourceWith(template, 'AWS::CloudWatch::Alarm', {
        Namespace: DEFAULT_NAMESPACE,
        MetricName: METRIC.crossSlotLatency.name,
        Dimensions: [clusterDimension],
        Statistic: 'Maximum',
        Unit: METRIC.crossSlotLatency.unit,
        Period: 60,
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 200,
        ...mOfN,
        TreatMissingData: 'notBreaching',
        ...actions,
      }),
    ).not.toThrow();
    expect(
      resourceWith(template, 'AWS::CloudWatch::Alarm', {
        Metrics: [
          Match.objectLike({
            MetricStat: {
              Metric: {
                Namespace: DEFAULT_NAMESPACE,
                MetricName: METRIC.replicationLag.name,
                Dimensions: [clusterDimension, { Name: DIMENSION.role, Value: 'replica' }],
              },
              Period: 60,
              Stat: 'Maximum',
              Unit: METRIC.replicationLag.unit,
            },
          }),
        ],
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 1000,
        ...mOfN,
        TreatMissingData: 'notBreaching',
        ...actions,
      }),
    ).not.toThrow();
  });

  it('alarms when HealthyNodes falls below TotalNodes, by metric math on per-sweep averages', () => {
    const stat = (name: string) => ({
      Metric: { Namespace: DEFAULT_NAMESPACE, MetricName: name, Dimensions: [clusterDimension] },
      Period: 60,
      Stat: 'Average',
      Unit: 'Count',
    });
    expect(
      resourceWith(template, 'AWS::CloudWatch::Alarm', {
        Metrics: Match.arrayWith([
          Match.objectLike({ Expression: 'total - healthy', ReturnData: true }),
          { Id: 'total', MetricStat: stat(METRIC.totalNodes.name), ReturnData: false },
          { Id: 'healthy', MetricStat: stat(METRIC.healthyNodes.name), ReturnData: false },
        ]),
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 0,
        ...mOfN,
        TreatMissingData: 'notBreaching',
        ...actions,
      }),
    ).not.toThrow();
  });

  it.each(['Errors', 'Throttles'])('alarms on any %s of the probe function', (metricName) => {
    expect(
      resourceWith(template, 'AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/Lambda',
        MetricName: metricName,
        Dimensions: [{ Name: 'FunctionName', Value: Match.anyValue() }],
        Statistic: 'Sum',
        Period: 60,
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 0,
        EvaluationPeriods: 1,
        DatapointsToAlarm: 1,
        TreatMissingData: 'notBreaching',
        ...actions,
      }),
    ).not.toThrow();
  });

  it('has nine alarms, each notifying the topic on ALARM and OK with a what-to-look-at description', () => {
    const alarms = alarmsOf(template);
    expect(alarms).toHaveLength(9);
    expect(probeAlarms.all).toHaveLength(9);
    for (const alarm of alarms) {
      expect(alarm.AlarmActions).toEqual([topicRef]);
      expect(alarm.OKActions).toEqual([topicRef]);
      expect(alarm.AlarmDescription).toMatch(/^slotwatch: .+ First look at /);
      expect(alarm.AlarmDescription.length).toBeLessThanOrEqual(1024);
    }
  });

  it('watches exactly the metric names and units the probe emits (lambda/metrics/names.ts)', () => {
    // Prepare
    const emitted = new Map(Object.values(METRIC).map((m) => [m.name, m.unit] as const));
    const ours = watchedMetrics(template).filter((m) => m.namespace === DEFAULT_NAMESPACE);

    // Assess
    for (const metric of ours) {
      expect(emitted.has(metric.name), `${metric.name} is not in names.ts`).toBe(true);
      expect(metric.unit).toBe(emitted.get(metric.name));
    }
    expect(new Set(ours.map((m) => m.name))).toEqual(
      new Set([
        METRIC.probeSuccess.name,
        METRIC.pingLatency.name,
        METRIC.crossSlotLatency.name,
        METRIC.replicationLag.name,
        METRIC.totalNodes.name,
        METRIC.healthyNodes.name,
      ]),
    );
    const queried = alarmsOf(template)
      .flatMap((a) => a.Metrics ?? [])
      .flatMap((q) => /^SELECT \w+\("(\w+)"\)/.exec(q.Expression ?? '')?.[1] ?? []);
    expect(queried).toEqual([METRIC.nodeAvailable.name]);
  });
});

describe('ProbeAlarms with custom settings', () => {
  it('applies the period, M of N and thresholds to every alarm', () => {
    // Act
    const { template } = synthesize({
      alarms: {
        period: Duration.minutes(5),
        evaluationPeriods: 6,
        failedSweepsToAlarm: 4,
        pingLatencyThresholdMs: 20,
        crossSlotLatencyThresholdMs: 120,
        replicationLagThresholdMs: 400,
      },
    });

    // Assess
    expect(
      resourceWith(template, 'AWS::CloudWatch::Alarm', {
        MetricName: METRIC.probeSuccess.name,
        Period: 300,
        EvaluationPeriods: 6,
        DatapointsToAlarm: 4,
      }),
    ).not.toThrow();
    expect(
      resourceWith(template, 'AWS::CloudWatch::Alarm', {
        Metrics: [Match.objectLike({ Expression: AVAILABILITY_QUERY, Period: 300 })],
        EvaluationPeriods: 6,
        DatapointsToAlarm: 4,
      }),
    ).not.toThrow();
    expect(
      resourceWith(template, 'AWS::CloudWatch::Alarm', {
        MetricName: METRIC.crossSlotLatency.name,
        Threshold: 120,
      }),
    ).not.toThrow();
    const thresholds = alarmsOf(template)
      .flatMap((a) => (a.Metrics ?? []).map((q) => [q.MetricStat?.Metric.MetricName, a] as const))
      .filter(([name]) => name === METRIC.pingLatency.name || name === METRIC.replicationLag.name)
      .map(([name, alarm]) => [name, (alarm as { Threshold?: number }).Threshold]);
    expect(thresholds).toEqual(
      expect.arrayContaining([
        [METRIC.pingLatency.name, 20],
        [METRIC.replicationLag.name, 400],
      ]),
    );
  });

  it('keeps the Metrics Insights and Lambda alarms at one minute under a high-resolution period', () => {
    // Act
    const { template } = synthesize({ alarms: { period: Duration.seconds(30) } });

    // Assess: Metrics Insights and Lambda have no sub-minute data.
    expect(
      resourceWith(template, 'AWS::CloudWatch::Alarm', {
        MetricName: METRIC.probeSuccess.name,
        Period: 30,
      }),
    ).not.toThrow();
    expect(
      resourceWith(template, 'AWS::CloudWatch::Alarm', {
        Metrics: [Match.objectLike({ Expression: AVAILABILITY_QUERY, Period: 60 })],
      }),
    ).not.toThrow();
    expect(
      resourceWith(template, 'AWS::CloudWatch::Alarm', { MetricName: 'Errors', Period: 60 }),
    ).not.toThrow();
  });

  it('leaves unresolved tokens unchecked', () => {
    const threshold = Lazy.number({ produce: () => 75 });
    const { template } = synthesize({ alarms: { pingLatencyThresholdMs: threshold } });
    const pingThresholds = alarmsOf(template)
      .filter((a) => a.Metrics?.[0]?.MetricStat?.Metric.MetricName === METRIC.pingLatency.name)
      .map((a) => (a as { Threshold?: number }).Threshold);
    expect(pingThresholds).toEqual([75, 75]);
  });

  it.each<[string, Partial<ProbeAlarmsProps>, RegExp]>([
    [
      'more failed sweeps than evaluated periods',
      { failedSweepsToAlarm: 4 },
      /failedSweepsToAlarm \(4\) must not exceed evaluationPeriods \(3\)/,
    ],
    [
      'zero evaluation periods',
      { evaluationPeriods: 0 },
      /evaluationPeriods must be a whole number of at least 1, got 0/,
    ],
    [
      'a fractional M',
      { failedSweepsToAlarm: 1.5 },
      /failedSweepsToAlarm must be a whole number of at least 1, got 1.5/,
    ],
    [
      'a negative ping threshold',
      { pingLatencyThresholdMs: -1 },
      /pingLatencyThresholdMs must be a positive number of milliseconds, got -1/,
    ],
    [
      'a zero cross-slot threshold',
      { crossSlotLatencyThresholdMs: 0 },
      /crossSlotLatencyThresholdMs must be a positive number of milliseconds, got 0/,
    ],
    [
      'a NaN replication threshold',
      { replicationLagThresholdMs: Number.NaN },
      /replicationLagThresholdMs must be a positive number of milliseconds, got NaN/,
    ],
    [
      'a 45-second period',
      { period: Duration.seconds(45) },
      /period must be 10 seconds, 30 seconds or a whole number of minutes.*45 seconds/,
    ],
    [
      'more than three hours of evaluation',
      { evaluationPeriods: 181 },
      /must not exceed three hours.*Metrics Insights/,
    ],
    [
      'more than a day of evaluation',
      { period: Duration.hours(2), evaluationPeriods: 13 },
      /must not exceed one day/,
    ],
  ])('rejects %s', (_case, alarms, message) => {
    expect(() => build({ alarms })).toThrow(message);
  });
});

describe('ProbeDashboard', () => {
  it('shows alarm states, the per-node Metrics Insights queries and every metric family', () => {
    // Prepare
    const { template } = synthesize({ dashboard: { dashboardName: 'slotwatch-orders' } });

    // Act
    const widgets = dashboardWidgets(template);
    const titled = (title: string) => widgets.find((w) => w.properties.title === title);

    // Assess
    expect(
      resourceWith(template, 'AWS::CloudWatch::Dashboard', {
        DashboardName: 'slotwatch-orders',
      }),
    ).not.toThrow();
    expect(widgets.find((w) => w.type === 'alarm')?.properties.alarms).toHaveLength(9);
    const availability = titled('Node availability by node (min per period)');
    const ping = titled('Ping latency by node (max per period)');
    expect(availability && expressionsOf(availability)).toEqual([AVAILABILITY_QUERY]);
    expect(ping && expressionsOf(ping)).toEqual([PING_QUERY]);
    const titles = widgets.map((w) => w.properties.title);
    expect(titles).toEqual(
      expect.arrayContaining([
        'Probe success (min per period)',
        'Healthy vs total nodes',
        'Cluster checks (min per period)',
        'Cross-slot latency (max)',
        'Sweep duration (max)',
        'Slots covered (min)',
        'Reconnects (sum)',
        'Probe function: invocations, errors, throttles',
        'Probe function: duration',
        ...Object.values(PROBE_METRIC).map((m) => `${m.name} by role (slowest node)`),
      ]),
    );
    for (const widget of widgets) {
      expect(widget.x + widget.width).toBeLessThanOrEqual(24);
      expect(widget.height).toBeGreaterThanOrEqual(2);
    }
  });

  it('lets the GROUP BY series be named by node rather than by the query text', () => {
    const { template } = synthesize();
    const perNode = dashboardWidgets(template)
      .flatMap((w) => w.properties.metrics ?? [])
      .flat()
      .filter((item): item is { expression: string; label?: string } =>
        Boolean(item && typeof item === 'object' && 'expression' in item),
      );
    expect(perNode).toHaveLength(2);
    for (const query of perNode) expect(query.label).toBeUndefined();
  });

  it('has no alarm status widget when no alarms are given', () => {
    const { template } = synthesize({ dashboard: { withAlarms: false } });
    expect(dashboardWidgets(template).some((w) => w.type === 'alarm')).toBe(false);
  });
});

describe('AlarmTopic', () => {
  it('encrypts the topic with a rotating key CloudWatch alarms may use, and refuses non-TLS publishers', () => {
    // Act
    const { template, alarmTopic, stack } = synthesize();

    // Assess
    const keyArn = stack.resolve(alarmTopic.key.keyArn) as unknown;
    expect(resourceWith(template, 'AWS::SNS::Topic', { KmsMasterKeyId: keyArn })).not.toThrow();
    expect(
      resourceWith(template, 'AWS::KMS::Key', {
        EnableKeyRotation: true,
        KeyPolicy: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Allow',
              Principal: { Service: 'cloudwatch.amazonaws.com' },
              Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
              Condition: Match.objectLike({
                StringEquals: { 'aws:SourceAccount': ENV.account },
              }),
            }),
          ]),
        },
      }),
    ).not.toThrow();
    expect(
      resourceWith(template, 'AWS::SNS::TopicPolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 'sns:Publish',
              Principal: '*',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
            Match.objectLike({
              Effect: 'Allow',
              Action: 'sns:Publish',
              Principal: { Service: 'cloudwatch.amazonaws.com' },
            }),
          ]),
        },
      }),
    ).not.toThrow();
    expect(template.findResources('AWS::SNS::Subscription')).toEqual({});
  });

  it('subscribes an e-mail address when given one', () => {
    const { template } = synthesize({ topic: { email: 'oncall@example.com' } });
    expect(
      Object.keys(
        template.findResources('AWS::SNS::Subscription', {
          Properties: { Protocol: 'email', Endpoint: 'oncall@example.com' },
        }),
      ),
    ).toHaveLength(1);
  });

  it.each(['oncall', 'on call@example.com', 'oncall@example', '@example.com', 'a@b@example.com'])(
    'rejects the e-mail address %j',
    (email) => {
      expect(() => build({ topic: { email } })).toThrow(
        /AlarmTopic: email must look like name@example.com/,
      );
    },
  );

  it('accepts an unresolved e-mail token', () => {
    const email = Lazy.string({ produce: () => 'oncall@example.com' });
    expect(() => build({ topic: { email } })).not.toThrow();
  });
});

describe('cdk-nag (AwsSolutions)', () => {
  const outdirs: string[] = [];
  afterEach(() => {
    for (const dir of outdirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  /** An app writing into a fresh directory, so each run's validation report is its own. */
  const newApp = (): App => {
    const outdir = mkdtempSync(join(tmpdir(), 'slotwatch-nag-'));
    outdirs.push(outdir);
    return new App({ outdir });
  };

  it('finds nothing unacknowledged in the monitoring constructs', () => {
    const { app } = build({ app: newApp(), topic: { email: 'oncall@example.com' } });
    expect(checkWithNag(app)).toEqual([]);
  });

  it('does report findings, so the empty list above means something', () => {
    // Prepare: an unencrypted topic without an SSL-only policy, and a key without rotation.
    const app = newApp();
    const stack = new Stack(app, 'NonCompliant', { env: ENV });
    new sns.Topic(stack, 'PlainTopic');
    new kms.Key(stack, 'StaticKey');

    // Act
    const findings = checkWithNag(app);

    // Assess: cdk-nag 3.0.2's AwsSolutions pack has SNS3 (SSL) but no longer an SNS2 rule.
    expect(findings).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^AwsSolutions-SNS3 at NonCompliant\/PlainTopic\/Resource/),
        expect.stringMatching(/^AwsSolutions-KMS5 at NonCompliant\/StaticKey\/Resource/),
      ]),
    );
  });
});
