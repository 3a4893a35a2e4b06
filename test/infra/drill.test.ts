/**
 * The scheduled failover drill (`-c drill=true`): the whole app synthesized offline as
 * `npx cdk synth` would, with the drill function, its IAM, its schedule, the ElastiCache endpoint
 * and the alarm muting asserted, and cdk-nag run over everything; then DrillFunction and
 * DrillAlarms alone, for their validation and a cdk-nag pass of their own.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Duration, Stack, TimeZone } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/app.js';
import { AlarmTopic } from '../../infra/constructs/alarm-topic.js';
import { DrillAlarms } from '../../infra/constructs/drill-alarms.js';
import { DrillFunction, type DrillFunctionProps } from '../../infra/constructs/drill-function.js';
import { ProbeAlarms } from '../../infra/constructs/probe-alarms.js';
import { ProbeMetrics } from '../../infra/constructs/probe-metrics.js';
import { ContextError } from '../../infra/settings.js';
import { METRIC } from '../../lambda/metrics/names.js';
import { checkWithNag, nagFindings, synthesizeWithFindings } from '../support/nag.js';

const BYO = {
  clusterEndpoint: 'clustercfg.orders.abc123.use1.cache.amazonaws.com:6379',
  vpcId: 'vpc-0123456789abcdef0',
  subnetIds: 'subnet-0123456789abcdef0,subnet-0fedcba9876543210',
  availabilityZones: 'us-east-1a,us-east-1b',
  clusterSecurityGroupId: 'sg-0123456789abcdef0',
  authSecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:orders-auth-AbCdEf',
};

/** cdk.json's context (defaults and feature flags), as `npx cdk synth` would see it. */
const CDK_JSON = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
  context: Record<string, unknown>;
};

/** An existing handler, for the construct tests: they must not depend on the drill's code. */
const STAND_IN_ENTRY = fileURLToPath(new URL('../../lambda/handlers/probe.ts', import.meta.url));

/** Created by the default app: the cluster stack's name, made a replication group id. */
const CREATED_GROUP = 'slotwatch-cluster';

function synth(context: Record<string, unknown> = {}) {
  const { app } = buildApp(new App({ context: { ...CDK_JSON.context, ...context } }));
  const { assembly, findings } = synthesizeWithFindings(app);
  if (!assembly) throw new Error(`synth failed on cdk-nag findings:\n${findings.join('\n')}`);
  const probe = Template.fromJSON(
    assembly.getStackByName('Slotwatch-Probe').template as Record<string, unknown>,
  );
  return { assembly, findings, probe };
}

interface Resource {
  readonly Properties: Record<string, unknown>;
}

/** Resources of a type, by logical id. */
const resourcesOf = (template: Template, type: string) =>
  template.findResources(type) as Record<string, Resource>;

interface Statement {
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: unknown;
}

const actionsOf = (statement: Statement): string[] =>
  Array.isArray(statement.Action) ? statement.Action : [statement.Action];

/** Every statement of the policies attached to the role whose description starts so. */
function roleStatements(template: Template, descriptionStart: string): Statement[] {
  const roles = Object.entries(resourcesOf(template, 'AWS::IAM::Role')).filter(([, role]) =>
    String(role.Properties.Description).startsWith(descriptionStart),
  );
  expect(roles).toHaveLength(1);
  const [roleId] = roles[0] ?? [];
  return Object.values(resourcesOf(template, 'AWS::IAM::Policy'))
    .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(`"${roleId}"`))
    .flatMap(
      (policy) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement,
    );
}

/** The statement that grants `action` (there must be exactly one). */
function grantOf(statements: readonly Statement[], action: string): Statement {
  const matching = statements.filter((s) => actionsOf(s).includes(action));
  expect(matching, action).toHaveLength(1);
  const [statement] = matching;
  if (statement === undefined) throw new Error(`no statement grants ${action}`);
  return statement;
}

/** The drill function: the one whose environment names a trigger. */
function drillFunction(template: Template): Resource {
  const functions = Object.values(resourcesOf(template, 'AWS::Lambda::Function')).filter((fn) =>
    JSON.stringify(fn.Properties.Environment ?? {}).includes('DRILL_TRIGGER'),
  );
  expect(functions).toHaveLength(1);
  const [fn] = functions;
  if (fn === undefined) throw new Error('no drill function');
  return fn;
}

const alarmsUnder = (template: Template, logicalIdPrefix: string) =>
  Object.entries(resourcesOf(template, 'AWS::CloudWatch::Alarm'))
    .filter(([id]) => id.startsWith(logicalIdPrefix))
    .map(([, alarm]) => alarm.Properties);

const topicRef = (template: Template) => {
  const [topicId] = Object.keys(resourcesOf(template, 'AWS::SNS::Topic'));
  return { Ref: topicId };
};

/** A CloudFormation string as text, each `{ Ref: X }` written `${X}` (a literal stays literal). */
function rendered(value: unknown): string {
  if (typeof value === 'string') return value;
  const join = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (join) return join[1].map(rendered).join(join[0]);
  const ref = (value as { Ref?: string }).Ref;
  if (ref !== undefined) return `\${${ref}}`;
  throw new Error(`cannot render ${JSON.stringify(value)}`);
}

/** A replication group ARN as rendered, its region (a literal under the CLI) written <region>. */
const arnOf = (value: unknown): string =>
  rendered(value).replace(
    /^(arn:.+?:elasticache:)(?:\$\{AWS::Region\}|[a-z0-9-]+):/,
    '$1<region>:',
  );
const groupArn = (group: string): string =>
  `arn:\${AWS::Partition}:elasticache:<region>:\${AWS::AccountId}:replicationgroup:${group}`;

describe('the app with -c drill=true (a new cluster)', () => {
  const { assembly, findings, probe } = synth({ drill: 'true' });

  it('synthesizes with no unacknowledged cdk-nag finding', () => {
    expect(findings).toEqual([]);
    expect(nagFindings(assembly.directory)).toEqual([]);
  });

  it('runs the drill on Node 24, arm64, in the VPC, alone, with a ten-minute timeout and no retries', () => {
    expect(drillFunction(probe).Properties).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      ReservedConcurrentExecutions: 1,
      Timeout: 600,
      VpcConfig: { SubnetIds: expect.anything() as unknown },
    });
    probe.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 60,
    });
    probe.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
  });

  it('gives the drill the probe environment plus its replication group, trigger and time limit', () => {
    const variables = (drillFunction(probe).Properties.Environment as { Variables: object })
      .Variables as Record<string, unknown>;
    expect(Object.keys(variables).sort()).toEqual(
      [
        'CLUSTER_AUTH_SECRET_ARN',
        'CLUSTER_ENDPOINT',
        'CLUSTER_NAME',
        'CLUSTER_TLS',
        'DRILL_TIME_LIMIT_MS',
        'DRILL_TRIGGER',
        'ELASTICACHE_REPLICATION_GROUP_ID',
        'METRICS_NAMESPACE',
        'METRICS_SINK',
        'NODE_OPTIONS',
        'PROBE_TIMEOUT_MS',
      ].sort(),
    );
    expect(variables).toMatchObject({
      CLUSTER_TLS: 'true',
      CLUSTER_NAME: CREATED_GROUP,
      ELASTICACHE_REPLICATION_GROUP_ID: CREATED_GROUP,
      DRILL_TRIGGER: 'elasticache',
      DRILL_TIME_LIMIT_MS: '300000',
      METRICS_SINK: 'cloudwatch',
      METRICS_NAMESPACE: 'Slotwatch',
      PROBE_TIMEOUT_MS: '1000',
    });
    // The time limit and the margin for pre-checks and clean-up fit in the timeout.
    expect(Number(variables.DRILL_TIME_LIMIT_MS) + 60_000).toBeLessThanOrEqual(600 * 1000);
    expect(JSON.stringify(variables)).not.toMatch(/AUTH_TOKEN|resolve:secretsmanager/);
  });

  it('lets the drill fail over and describe only its replication group, never *', () => {
    const statements = roleStatements(probe, 'slotwatch drill:');
    expect(statements.flatMap(actionsOf).sort()).toEqual(
      [
        'cloudwatch:PutMetricData',
        'ec2:AssignPrivateIpAddresses',
        'ec2:CreateNetworkInterface',
        'ec2:DeleteNetworkInterface',
        'ec2:DescribeNetworkInterfaces',
        'ec2:UnassignPrivateIpAddresses',
        'elasticache:DescribeEvents',
        'elasticache:DescribeReplicationGroups',
        'elasticache:TestFailover',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'secretsmanager:GetSecretValue',
      ].sort(),
    );
    for (const action of ['elasticache:TestFailover', 'elasticache:DescribeReplicationGroups']) {
      const grant = grantOf(statements, action);
      expect(grant.Resource).not.toBe('*');
      expect(arnOf(grant.Resource)).toBe(groupArn(CREATED_GROUP));
    }
    // DescribeEvents has no resource-level permissions.
    expect(grantOf(statements, 'elasticache:DescribeEvents').Resource).toBe('*');
    expect(grantOf(statements, 'cloudwatch:PutMetricData').Condition).toEqual({
      StringEquals: { 'cloudwatch:namespace': 'Slotwatch' },
    });
    expect(grantOf(statements, 'secretsmanager:GetSecretValue').Resource).not.toBe('*');
    expect(
      Object.values(resourcesOf(probe, 'AWS::IAM::Role')).every(
        (role) => role.Properties.ManagedPolicyArns === undefined,
      ),
    ).toBe(true);
  });

  it('schedules the drill with EventBridge Scheduler on Tuesdays at 10:00 UTC, without retries', () => {
    const [drillId] = Object.keys(resourcesOf(probe, 'AWS::Lambda::Function')).filter((id) =>
      id.startsWith('DrillFunction'),
    );
    probe.resourceCountIs('AWS::Scheduler::Schedule', 1);
    probe.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 10 ? * TUE *)',
      ScheduleExpressionTimezone: 'UTC',
      State: 'ENABLED',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: {
        Arn: { 'Fn::GetAtt': [drillId, 'Arn'] },
        RoleArn: Match.anyValue(),
        RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 },
      },
    });
    const invoke = roleStatements(probe, 'slotwatch drill schedule:');
    expect(invoke.flatMap(actionsOf)).toEqual(['lambda:InvokeFunction']);
    expect(JSON.stringify(invoke[0]?.Resource)).toContain(`"${drillId}"`);
    probe.hasResourceProperties('AWS::IAM::Role', {
      Description: Match.stringLikeRegexp('^slotwatch drill schedule:'),
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Principal: { Service: 'scheduler.amazonaws.com' },
            Condition: {
              StringEquals: {
                'aws:SourceAccount': { Ref: 'AWS::AccountId' },
                'aws:SourceArn': Match.anyValue(),
              },
            },
          }),
        ],
      },
    });
  });

  it('adds the ElastiCache API endpoint, and lets the drill reach only it, the others and the cluster', () => {
    const services = Object.values(resourcesOf(probe, 'AWS::EC2::VPCEndpoint')).map((e) =>
      JSON.stringify(e.Properties.ServiceName),
    );
    expect(services).toHaveLength(3);
    expect(services).toEqual(
      expect.arrayContaining([
        expect.stringContaining('.elasticache') as unknown as string,
        expect.stringContaining('.secretsmanager') as unknown as string,
        expect.stringContaining('.monitoring') as unknown as string,
      ]),
    );
    const [drillGroupId] = Object.entries(resourcesOf(probe, 'AWS::EC2::SecurityGroup')).find(
      ([, group]) => String(group.Properties.GroupDescription).startsWith('slotwatch drill'),
    ) ?? [''];
    const egress = Object.values(resourcesOf(probe, 'AWS::EC2::SecurityGroupEgress'))
      .map((rule) => rule.Properties)
      .filter((rule) => JSON.stringify(rule.GroupId).includes(`"${drillGroupId}"`));
    expect(egress.map((rule) => rule.FromPort).sort()).toEqual([443, 6380]);
    expect(egress.every((rule) => rule.DestinationSecurityGroupId !== undefined)).toBe(true);
    expect(JSON.stringify(probe.toJSON())).not.toContain('0.0.0.0/0');
  });

  it('pages for the probe through one composite alarm that DrillInProgress mutes', () => {
    const probeAlarms = alarmsUnder(probe, 'Alarms');
    expect(probeAlarms).toHaveLength(9);
    for (const alarm of probeAlarms) {
      expect(alarm.AlarmActions).toBeUndefined();
      expect(alarm.OKActions).toBeUndefined();
    }

    const [inProgressId] = Object.keys(resourcesOf(probe, 'AWS::CloudWatch::Alarm')).filter((id) =>
      id.startsWith('DrillAlarmsDrillInProgress'),
    );
    probe.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: [
        Match.objectLike({
          Expression: `SELECT MAX("${METRIC.drillInProgress.name}") FROM "Slotwatch" WHERE "Cluster" = '${CREATED_GROUP}'`,
          Period: 60,
        }),
      ],
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      // The 600 s drill timeout plus two minutes: a drill that died still mutes until then.
      EvaluationPeriods: 12,
      DatapointsToAlarm: 1,
      TreatMissingData: 'notBreaching',
      AlarmActions: Match.absent(),
      OKActions: Match.absent(),
    });

    const composites = Object.values(resourcesOf(probe, 'AWS::CloudWatch::CompositeAlarm'));
    expect(composites).toHaveLength(1);
    const composite = composites[0]?.Properties ?? {};
    expect(composite).toMatchObject({
      ActionsSuppressor: { 'Fn::GetAtt': [inProgressId, 'Arn'] },
      ActionsSuppressorWaitPeriod: 120,
      ActionsSuppressorExtensionPeriod: 300,
      AlarmActions: [topicRef(probe)],
      OKActions: [topicRef(probe)],
    });
    // ANY of the nine probe alarms, each referenced by ARN.
    const rule = JSON.stringify(composite.AlarmRule);
    const probeAlarmIds = Object.keys(resourcesOf(probe, 'AWS::CloudWatch::Alarm')).filter((id) =>
      id.startsWith('Alarms'),
    );
    for (const id of probeAlarmIds) expect(rule).toContain(`"${id}","Arn"`);
    expect(rule.match(/ALARM\(/g)).toHaveLength(9);
    expect(rule.match(/ OR /g)).toHaveLength(8);
  });

  it('pages, on ALARM only, when the drilled shard did not recover, lost writes, did not run or the drill failed', () => {
    const topic = topicRef(probe);
    probe.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: [
        Match.objectLike({
          Expression: `SELECT MIN("${METRIC.drillRecovered.name}") FROM "Slotwatch" WHERE "Cluster" = '${CREATED_GROUP}'`,
        }),
      ],
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1,
      // The verdict is stamped with the drill's start and published at its end: the alarm looks
      // back over the drill's whole timeout for it.
      EvaluationPeriods: 12,
      DatapointsToAlarm: 1,
      TreatMissingData: 'notBreaching',
      AlarmActions: [topic],
      OKActions: Match.absent(),
    });
    probe.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: [
        Match.objectLike({
          Expression: Match.stringLikeRegexp(`^SELECT MAX\\("${METRIC.drillLostWrites.name}"\\)`),
        }),
      ],
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
      EvaluationPeriods: 12,
      AlarmActions: [topic],
      OKActions: Match.absent(),
    });
    probe.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: [
        Match.objectLike({
          Expression: `SELECT MAX("${METRIC.drillAborted.name}") FROM "Slotwatch" WHERE "Cluster" = '${CREATED_GROUP}'`,
        }),
      ],
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      EvaluationPeriods: 12,
      TreatMissingData: 'notBreaching',
      AlarmActions: [topic],
      OKActions: Match.absent(),
    });
    probe.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      Namespace: 'AWS/Lambda',
      Dimensions: [
        { Name: 'FunctionName', Value: { Ref: Match.stringLikeRegexp('^DrillFunction') } },
      ],
      AlarmActions: [topic],
    });
  });
});

describe('the app without the drill', () => {
  const { probe } = synth();

  it('keeps the probe alarms paging directly and adds nothing of the drill', () => {
    const topic = topicRef(probe);
    const probeAlarms = alarmsUnder(probe, 'Alarms');
    expect(probeAlarms).toHaveLength(9);
    for (const alarm of probeAlarms) {
      expect(alarm.AlarmActions).toEqual([topic]);
      expect(alarm.OKActions).toEqual([topic]);
    }
    for (const type of [
      'AWS::CloudWatch::CompositeAlarm',
      'AWS::Scheduler::Schedule',
      'AWS::Lambda::EventInvokeConfig',
    ]) {
      probe.resourceCountIs(type, 0);
    }
    expect(alarmsUnder(probe, 'DrillAlarms')).toEqual([]);
    expect(JSON.stringify(probe.toJSON())).not.toContain('.elasticache');
  });
});

describe('the drill on an existing cluster', () => {
  it('refuses -c drill=true without replicationGroupId, naming the key', () => {
    const build = () =>
      buildApp(new App({ context: { ...CDK_JSON.context, ...BYO, drill: 'true' } }));
    expect(build).toThrow(ContextError);
    expect(build).toThrow(/replicationGroupId/);
  });

  it('drills the named replication group on the schedule and time zone from context, over the NAT path', () => {
    const { findings, probe } = synth({
      ...BYO,
      drill: 'true',
      replicationGroupId: 'orders',
      networkPath: 'nat',
      drillSchedule: 'cron(30 9 1 * ? *)',
      drillTimeZone: 'Europe/Berlin',
      drillTimeLimitMs: '720000',
    });
    expect(findings).toEqual([]);
    probe.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(30 9 1 * ? *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
    });
    expect(drillFunction(probe).Properties).toMatchObject({
      // 720 s of time limit and 60 s of margin need more than the default ten minutes.
      Timeout: 780,
      Environment: {
        Variables: expect.objectContaining({
          ELASTICACHE_REPLICATION_GROUP_ID: 'orders',
          CLUSTER_NAME: 'orders',
          DRILL_TIME_LIMIT_MS: '720000',
        }) as unknown,
      },
    });
    const statements = roleStatements(probe, 'slotwatch drill:');
    expect(arnOf(grantOf(statements, 'elasticache:TestFailover').Resource)).toBe(
      groupArn('orders'),
    );
    expect(Object.keys(resourcesOf(probe, 'AWS::EC2::VPCEndpoint'))).toEqual([]);
    probe.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: BYO.clusterSecurityGroupId,
      FromPort: 6379,
      SourceSecurityGroupId: {
        'Fn::GetAtt': [Match.stringLikeRegexp('^DrillSecurityGroup'), 'GroupId'],
      },
    });
    probe.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('^slotwatch drill'),
      SecurityGroupEgress: Match.arrayWith([
        Match.objectLike({ CidrIp: '0.0.0.0/0', FromPort: 443, ToPort: 443 }),
      ]),
    });
  });
});

describe('DrillFunction and DrillAlarms on their own', () => {
  const outdirs: string[] = [];
  afterEach(() => {
    for (const dir of outdirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const newApp = (): App => {
    const outdir = mkdtempSync(join(tmpdir(), 'slotwatch-drill-nag-'));
    outdirs.push(outdir);
    return new App({ outdir });
  };

  /** A drill against an imported cluster, with the stand-in handler. */
  function build(app: App, overrides: Partial<DrillFunctionProps> = {}) {
    const stack = new Stack(app, 'Drill', {
      env: { account: '123456789012', region: 'eu-west-1' },
    });
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
      vpcId: BYO.vpcId,
      availabilityZones: ['eu-west-1a', 'eu-west-1b'],
      privateSubnetIds: BYO.subnetIds.split(','),
    });
    const drill = new DrillFunction(stack, 'Drill', {
      vpc,
      subnets: { subnets: vpc.privateSubnets },
      clusterSecurityGroup: ec2.SecurityGroup.fromSecurityGroupId(
        stack,
        'ClusterGroup',
        BYO.clusterSecurityGroupId,
      ),
      port: 6379,
      endpoint: 'clustercfg.orders.abc123.euw1.cache.amazonaws.com:6379',
      auth: {
        mode: 'token',
        secret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'Auth', BYO.authSecretArn),
      },
      clusterName: 'orders',
      replicationGroupId: 'orders',
      schedule: scheduler.ScheduleExpression.cron({
        minute: '0',
        hour: '10',
        weekDay: 'TUE',
        timeZone: TimeZone.EUROPE_BERLIN,
      }),
      settings: { namespace: 'Slotwatch', metricsSink: 'cloudwatch', timeoutMs: 1000 },
      entry: STAND_IN_ENTRY,
      ...overrides,
    });
    return { stack, drill };
  }

  it('grants TestFailover on the literal replication group ARN of its environment', () => {
    const { stack, drill } = build(new App());
    expect(rendered(stack.resolve(drill.replicationGroupArn))).toBe(
      'arn:${AWS::Partition}:elasticache:eu-west-1:123456789012:replicationgroup:orders',
    );
    expect(drill.timeout.toSeconds()).toBe(600);
  });

  it.each<[string, Partial<DrillFunctionProps>, RegExp]>([
    [
      'a time limit that leaves no margin in the timeout',
      { timeLimitMs: 590_000, timeout: Duration.minutes(10) },
      /timeLimitMs \(590000\) plus 60000 ms .* must fit in the function timeout \(10 minutes\)/,
    ],
    [
      'a replication group id with capitals',
      { replicationGroupId: 'Orders' },
      /replicationGroupId/,
    ],
    ['a port out of range', { port: 70_000 }, /port must be 1-65535/],
  ])('refuses %s', (_case, overrides, message) => {
    expect(() => build(new App(), overrides)).toThrow(message);
  });

  it('has no cdk-nag finding with its alarms, and sees one when a drill role gets a managed policy', () => {
    // Prepare
    const app = newApp();
    const { stack, drill } = build(app);
    const topic = new AlarmTopic(stack, 'Topic');
    const metrics = new ProbeMetrics({ clusterName: 'orders' });
    // Any function serves: the probe alarms are only the composite alarm's inputs here.
    const probeAlarms = new ProbeAlarms(stack, 'ProbeAlarms', {
      metrics,
      probeFunction: drill.function,
      topic: topic.topic,
      notify: false,
    });
    new DrillAlarms(stack, 'DrillAlarms', {
      metrics,
      probeAlarms: probeAlarms.all,
      drillFunction: drill.function,
      topic: topic.topic,
      drillTimeout: drill.timeout,
    });
    const noisy = newApp();
    build(noisy).drill.role.addManagedPolicy(
      iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonElastiCacheFullAccess'),
    );

    // Act
    const findings = checkWithNag(app);
    const noisyFindings = checkWithNag(noisy);

    // Assess
    expect(findings).toEqual([]);
    expect(noisyFindings).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^AwsSolutions-IAM4\[.*\] at Drill\/Drill\/Role\//),
      ]),
    );
  });

  it('refuses a DrillAlarms with no probe alarm to watch', () => {
    const { stack, drill } = build(new App());
    const topic = new AlarmTopic(stack, 'Topic');
    expect(
      () =>
        new DrillAlarms(stack, 'DrillAlarms', {
          metrics: new ProbeMetrics({ clusterName: 'orders' }),
          probeAlarms: [],
          drillFunction: drill.function,
          topic: topic.topic,
          drillTimeout: drill.timeout,
        }),
    ).toThrow(/at least one alarm/);
  });
});
