/**
 * The scheduled failover drill: a NodejsFunction built like the probe's (local esbuild, bundled
 * SDK, in the cluster's subnets, with its own security group) that EventBridge Scheduler starts
 * on a cron schedule. Its role can do what the probe's can, plus fail over a shard of one
 * replication group and watch it happen: TestFailover and DescribeReplicationGroups on that group
 * only, and DescribeEvents, which cannot be scoped.
 */
import { CfnElement, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import { Construct } from 'constructs';
import {
  DEFAULT_DRILL_TIME_LIMIT_MS,
  DRILL_MARGIN_MS,
  drillFunctionTimeoutSeconds,
  type ProbeSettings,
} from '../settings.js';
import { replicationGroupArn } from './cache-users.js';
import {
  authEnvironment,
  BUNDLED_FUNCTION,
  clientSecurityGroup,
  functionRole,
  LAMBDA_NODE_OPTIONS,
  ROOT,
  type FunctionAuth,
} from './vpc-function.js';

/** The drill's Lambda entry point (CONTRACT section 6). */
export const DRILL_HANDLER_ENTRY = `${ROOT}lambda/handlers/drill.ts`;

export interface DrillFunctionProps {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  /** The cluster's security group: the drill's gets an ingress rule to `port` on it. */
  readonly clusterSecurityGroup: ec2.ISecurityGroup;
  readonly port: number;
  /** `host:port` of the configuration endpoint (may be a token). */
  readonly endpoint: string;
  /** The AUTH secret, or the IAM user the function connects as. */
  readonly auth: FunctionAuth;
  /** The Cluster dimension, the same as the probe's, so the drill alarms find the drill metrics. */
  readonly clusterName: string;
  /** The replication group whose shards the drill fails over: the only one the role may touch. */
  readonly replicationGroupId: string;
  /** When to drill, e.g. `ScheduleExpression.cron({ ..., timeZone })`. */
  readonly schedule: scheduler.ScheduleExpression;
  /** The probe's settings: the drill publishes and times out the way the probe does. */
  readonly settings: Pick<ProbeSettings, 'namespace' | 'metricsSink' | 'timeoutMs'>;
  /**
   * DRILL_TIME_LIMIT_MS: how long the drilled shard has to recover.
   * @default DEFAULT_DRILL_TIME_LIMIT_MS (5 minutes)
   */
  readonly timeLimitMs?: number;
  /**
   * The function's timeout; it must leave DRILL_MARGIN_MS beyond the time limit.
   * @default 10 minutes, or the time limit plus the margin when that is longer
   */
  readonly timeout?: Duration;
  /**
   * Security group of the interface endpoints (Secrets Manager, CloudWatch, ElastiCache);
   * undefined means the subnets reach the APIs through an existing NAT path.
   * @default undefined
   */
  readonly endpointSecurityGroup?: ec2.ISecurityGroup;
  /**
   * Each drill's report is logged; a few months of weekly reports show a trend.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * The handler file to bundle; tests point it elsewhere to synthesize without the real one.
   * @default DRILL_HANDLER_ENTRY (lambda/handlers/drill.ts)
   */
  readonly entry?: string;
}

/** ElastiCache's rule for replication group ids (the same as CacheCluster's). */
const REPLICATION_GROUP_ID = /^[a-z](?:[a-z0-9]|-(?=[a-z0-9])){0,39}$/;

export class DrillFunction extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly timeout: Duration;
  readonly securityGroup: ec2.SecurityGroup;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  /** `arn:<partition>:elasticache:<region>:<account>:replicationgroup:<id>`. */
  readonly replicationGroupArn: string;
  readonly schedule: scheduler.Schedule;
  /** Assumed by EventBridge Scheduler to invoke the function, and for nothing else. */
  readonly scheduleRole: iam.Role;

  constructor(scope: Construct, id: string, props: DrillFunctionProps) {
    super(scope, id);
    const timeLimitMs = props.timeLimitMs ?? DEFAULT_DRILL_TIME_LIMIT_MS;
    this.timeout = props.timeout ?? Duration.seconds(drillFunctionTimeoutSeconds(timeLimitMs));
    validate(props, timeLimitMs, this.timeout);

    this.replicationGroupArn = replicationGroupArn(this, props.replicationGroupId);

    this.securityGroup = clientSecurityGroup(this, { ...props, who: 'drill' });

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.role = functionRole(this, {
      description: `slotwatch drill: ${props.auth.mode === 'token' ? 'read the AUTH secret' : 'connect as its IAM user'}, fail over one replication group, put its metrics, write its logs, attach to the VPC`,
      auth: props.auth,
      namespace: props.settings.namespace,
      logGroup: this.logGroup,
      statements: [
        new iam.PolicyStatement({
          actions: ['elasticache:TestFailover', 'elasticache:DescribeReplicationGroups'],
          resources: [this.replicationGroupArn],
        }),
        new iam.PolicyStatement({
          // Read-only, and it only lists events; the drill filters them to its replication group.
          actions: ['elasticache:DescribeEvents'],
          resources: ['*'],
        }),
      ],
      wildcardReason:
        'elasticache:DescribeEvents has no resource type (read-only; the drill filters the events to its replication group). TestFailover and DescribeReplicationGroups are scoped to the one replication group',
    });

    const { settings } = props;
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      // Reserved concurrency 1: two drills at once would fail over two shards and measure each
      // other's outage.
      ...BUNDLED_FUNCTION,
      entry: props.entry ?? DRILL_HANDLER_ENTRY,
      timeout: this.timeout,
      // Scheduler invokes asynchronously, and Lambda would retry a failed drill twice by
      // default: each retry is one more real failover. A drill that cannot start within a
      // minute of its slot (throttled behind a manual run) is skipped, not run late.
      retryAttempts: 0,
      maxEventAge: Duration.minutes(1),
      role: this.role,
      logGroup: this.logGroup,
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      securityGroups: [this.securityGroup],
      environment: {
        CLUSTER_ENDPOINT: props.endpoint,
        CLUSTER_TLS: 'true',
        ...authEnvironment(props.auth),
        CLUSTER_NAME: props.clusterName,
        PROBE_TIMEOUT_MS: String(settings.timeoutMs),
        METRICS_SINK: settings.metricsSink,
        METRICS_NAMESPACE: settings.namespace,
        ELASTICACHE_REPLICATION_GROUP_ID: props.replicationGroupId,
        DRILL_TRIGGER: 'elasticache',
        DRILL_TIME_LIMIT_MS: String(timeLimitMs),
        NODE_OPTIONS: LAMBDA_NODE_OPTIONS,
      },
    });

    this.scheduleRole = this.#scheduleRole();
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: 'slotwatch: failover drill (ElastiCache TestFailover of one shard)',
      schedule: props.schedule,
      // At the stated time, not somewhere in a window: someone is meant to be watching.
      timeWindow: scheduler.TimeWindow.off(),
      target: new targets.LambdaInvoke(this.function, {
        role: this.scheduleRole,
        // A retry is a second failover; a missed drill simply waits for next week.
        retryAttempts: 0,
        maxEventAge: Duration.minutes(1),
      }),
    });
  }

  #scheduleRole(): iam.Role {
    const stack = Stack.of(this);
    // The confused-deputy guard EventBridge Scheduler documents: only schedules of this
    // account's default group may assume the role.
    const role = new iam.Role(this, 'ScheduleRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: {
            'aws:SourceAccount': stack.account,
            'aws:SourceArn': stack.formatArn({
              service: 'scheduler',
              resource: 'schedule-group',
              resourceName: 'default',
            }),
          },
        },
      }),
      description: 'slotwatch drill schedule: invoke the drill function, nothing else',
    });
    // LambdaInvoke grants with Function.grantInvoke, which always adds the `:*` form.
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(this.function.node.defaultChild as CfnElement)}.Arn>:*]`,
      reason:
        "lambda:InvokeFunction on this one function's versions and aliases (the :* that Function.grantInvoke adds alongside the function ARN); the role can invoke nothing else",
    });
    return role;
  }
}

/** Defaults applied first, then checked; unresolved tokens are skipped as they cannot be. */
function validate(props: DrillFunctionProps, timeLimitMs: number, timeout: Duration): void {
  if (!Token.isUnresolved(props.port) && (props.port < 1 || props.port > 65535)) {
    throw new Error(`DrillFunction: port must be 1-65535, got ${props.port}`);
  }
  if (
    !Token.isUnresolved(props.replicationGroupId) &&
    !REPLICATION_GROUP_ID.test(props.replicationGroupId)
  ) {
    throw new Error(
      `DrillFunction: replicationGroupId must be 1 to 40 lower-case letters, digits and single hyphens, starting with a letter, got ${JSON.stringify(props.replicationGroupId)}`,
    );
  }
  if (Token.isUnresolved(timeLimitMs) || timeout.isUnresolved()) return;
  if (!(Number.isInteger(timeLimitMs) && timeLimitMs >= 1000)) {
    throw new Error(
      `DrillFunction: timeLimitMs must be a whole number of milliseconds, at least 1000, got ${timeLimitMs}`,
    );
  }
  if (timeLimitMs + DRILL_MARGIN_MS > timeout.toMilliseconds()) {
    throw new Error(
      `DrillFunction: timeLimitMs (${timeLimitMs}) plus ${DRILL_MARGIN_MS} ms for the pre-checks and clean-up must fit in the function timeout (${timeout.toHumanString()})`,
    );
  }
}
