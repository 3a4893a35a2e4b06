/** The probe, its schedule, alarms and dashboard, pointed at a cluster created here or elsewhere. */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { AlarmTopic } from '../constructs/alarm-topic.js';
import { CacheNetwork } from '../constructs/cache-network.js';
import { ProbeAlarms } from '../constructs/probe-alarms.js';
import { ProbeDashboard } from '../constructs/probe-dashboard.js';
import { ProbeFunction } from '../constructs/probe-function.js';
import { ProbeMetrics } from '../constructs/probe-metrics.js';
import type { ProbeSettings } from '../settings.js';

/** The cluster to probe, wherever it came from. */
export interface ProbeTarget {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly clusterSecurityGroup: ec2.ISecurityGroup;
  readonly endpoint: string;
  readonly port: number;
  readonly authSecret: secretsmanager.ISecret;
  /** The Cluster dimension the probe publishes and the alarms watch. */
  readonly clusterName: string;
}

export interface ProbeStackProps extends StackProps {
  /** Builds the target inside this stack (imports need a scope), or returns one from another stack. */
  readonly target: (scope: Construct) => ProbeTarget;
  readonly settings: ProbeSettings;
  readonly networkPath: 'endpoints' | 'nat';
  readonly alarmEmail?: string;
}

export class ProbeStack extends Stack {
  readonly probe: ProbeFunction;
  readonly alarms: ProbeAlarms;

  constructor(scope: Construct, id: string, props: ProbeStackProps) {
    super(scope, id, props);
    const target = props.target(this);
    const services =
      props.settings.metricsSink === 'cloudwatch'
        ? (['secretsmanager', 'monitoring'] as const)
        : (['secretsmanager'] as const);
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
      authSecret: target.authSecret,
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
    });
    new ProbeDashboard(this, 'Dashboard', {
      metrics,
      probeFunction: this.probe.function,
      alarms: this.alarms,
    });

    new CfnOutput(this, 'ProbeFunctionName', { value: this.probe.function.functionName });
    new CfnOutput(this, 'AlarmTopicArn', { value: topic.topic.topicArn });
  }
}
