/**
 * The probe, its schedule, alarms and dashboard, pointed at a cluster created here or elsewhere,
 * and optionally the scheduled failover drill with the alarms that keep it from paging.
 */
import { CfnOutput, Stack, TimeZone, type StackProps } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { AlarmTopic } from '../constructs/alarm-topic.js';
import { CacheNetwork, type InterfaceEndpointService } from '../constructs/cache-network.js';
import { DrillAlarms } from '../constructs/drill-alarms.js';
import { DrillFunction } from '../constructs/drill-function.js';
import { ProbeAlarms } from '../constructs/probe-alarms.js';
import { ProbeDashboard } from '../constructs/probe-dashboard.js';
import { ProbeFunction } from '../constructs/probe-function.js';
import type { FunctionAuth } from '../constructs/vpc-function.js';
import { ProbeMetrics } from '../constructs/probe-metrics.js';
import type { DrillSettings, ProbeSettings } from '../settings.js';

/** The cluster to probe, wherever it came from. */
export interface ProbeTarget {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly clusterSecurityGroup: ec2.ISecurityGroup;
  readonly endpoint: string;
  readonly port: number;
  readonly auth: TargetAuth;
  /** The Cluster dimension the probe publishes and the alarms watch. */
  readonly clusterName: string;
}

/** How the functions authenticate: the AUTH token's secret, or one IAM user each. */
export type TargetAuth =
  | { readonly mode: 'token'; readonly secret: secretsmanager.ISecret }
  | {
      readonly mode: 'iam';
      readonly replicationGroupId: string;
      readonly probeUserId: string;
      /** Needed with a drill: it connects as a user of its own, with the drill's access string. */
      readonly drillUserId?: string;
    };

/** The scheduled failover drill of the target's replication group. */
export interface ProbeStackDrill extends DrillSettings {
  /** The replication group TestFailover acts on (ELASTICACHE_REPLICATION_GROUP_ID). */
  readonly replicationGroupId: string;
}

export interface ProbeStackProps extends StackProps {
  /** Builds the target inside this stack (imports need a scope), or returns one from another stack. */
  readonly target: (scope: Construct) => ProbeTarget;
  readonly settings: ProbeSettings;
  readonly networkPath: 'endpoints' | 'nat';
  readonly alarmEmail?: string;
  /** @default - no drill */
  readonly drill?: ProbeStackDrill;
}

export class ProbeStack extends Stack {
  readonly probe: ProbeFunction;
  readonly alarms: ProbeAlarms;
  readonly drill?: DrillFunction;
  readonly drillAlarms?: DrillAlarms;

  constructor(scope: Construct, id: string, props: ProbeStackProps) {
    super(scope, id, props);
    const target = props.target(this);
    // IAM auth tokens are signed in the function, with no API call: only a secret needs one.
    const services: InterfaceEndpointService[] =
      target.auth.mode === 'token' ? ['secretsmanager'] : [];
    if (props.settings.metricsSink === 'cloudwatch') services.push('monitoring');
    // TestFailover, DescribeReplicationGroups and DescribeEvents are ElastiCache API calls.
    if (props.drill) services.push('elasticache');
    const endpoints =
      props.networkPath === 'endpoints'
        ? CacheNetwork.addInterfaceEndpoints(
            this,
            'Endpoints',
            target.vpc,
            target.subnets,
            services,
          )
        : undefined;

    this.probe = new ProbeFunction(this, 'Probe', {
      vpc: target.vpc,
      subnets: target.subnets,
      clusterSecurityGroup: target.clusterSecurityGroup,
      port: target.port,
      endpoint: target.endpoint,
      auth: functionAuth(target.auth, 'probe'),
      settings: props.settings,
      clusterName: target.clusterName,
      ...(endpoints && { endpointSecurityGroup: endpoints.securityGroup }),
    });

    const metrics = new ProbeMetrics({
      namespace: props.settings.namespace,
      clusterName: target.clusterName,
    });
    const topic = new AlarmTopic(this, 'AlarmTopic', {
      ...(props.alarmEmail && { email: props.alarmEmail }),
    });
    this.alarms = new ProbeAlarms(this, 'Alarms', {
      metrics,
      probeFunction: this.probe.function,
      topic: topic.topic,
      // With a drill, the composite alarm in DrillAlarms pages for them, muted while it runs.
      notify: props.drill === undefined,
    });
    new ProbeDashboard(this, 'Dashboard', {
      metrics,
      probeFunction: this.probe.function,
      alarms: this.alarms,
    });

    new CfnOutput(this, 'ProbeFunctionName', { value: this.probe.function.functionName });
    new CfnOutput(this, 'AlarmTopicArn', { value: topic.topic.topicArn });

    if (props.drill) {
      const { drill } = props;
      this.drill = new DrillFunction(this, 'Drill', {
        vpc: target.vpc,
        subnets: target.subnets,
        clusterSecurityGroup: target.clusterSecurityGroup,
        port: target.port,
        endpoint: target.endpoint,
        auth: functionAuth(target.auth, 'drill'),
        clusterName: target.clusterName,
        replicationGroupId: drill.replicationGroupId,
        schedule: scheduler.ScheduleExpression.cron({
          ...drill.schedule,
          timeZone: TimeZone.of(drill.timeZone),
        }),
        settings: props.settings,
        timeLimitMs: drill.timeLimitMs,
        ...(endpoints && { endpointSecurityGroup: endpoints.securityGroup }),
      });
      this.drillAlarms = new DrillAlarms(this, 'DrillAlarms', {
        metrics,
        probeAlarms: this.alarms.all,
        drillFunction: this.drill.function,
        topic: topic.topic,
        drillTimeout: this.drill.timeout,
      });
      new CfnOutput(this, 'DrillFunctionName', { value: this.drill.function.functionName });
    }
  }
}

/** The probe's or the drill's own way in. */
function functionAuth(auth: TargetAuth, who: 'probe' | 'drill'): FunctionAuth {
  if (auth.mode === 'token') return auth;
  const userId = who === 'probe' ? auth.probeUserId : auth.drillUserId;
  if (userId === undefined) {
    throw new Error(`ProbeStack: with IAM authentication the ${who} needs a user id of its own`);
  }
  return { mode: 'iam', replicationGroupId: auth.replicationGroupId, userId };
}
