/**
 * The scheduled probe: a NodejsFunction (bundled with the local esbuild, no Docker) in the
 * cluster's subnets, with its own security group, which is the only one allowed to reach the
 * cluster port, and a role that can do nothing but read the AUTH secret, put metrics into its own
 * namespace, write its own logs and attach to the VPC.
 */
import { fileURLToPath } from 'node:url';
import { CfnElement, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { functionTimeoutSeconds, type ProbeSettings } from '../settings.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface ProbeFunctionProps {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  /** The cluster's security group: the probe's gets the only ingress rule to `port`. */
  readonly clusterSecurityGroup: ec2.ISecurityGroup;
  readonly port: number;
  /** `host:port` of the configuration endpoint (may be a token). */
  readonly endpoint: string;
  readonly authSecret: secretsmanager.ISecret;
  readonly settings: ProbeSettings;
  /** The Cluster dimension. @default derived by the probe from the endpoint host */
  readonly clusterName?: string;
  /**
   * Security group of the interface endpoints the probe uses for AWS APIs; undefined means the
   * subnets reach the APIs through an existing NAT path, so HTTPS may leave the VPC.
   * @default undefined
   */
  readonly endpointSecurityGroup?: ec2.ISecurityGroup;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

export class ProbeFunction extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly securityGroup: ec2.SecurityGroup;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  readonly schedule: events.Rule;

  constructor(scope: Construct, id: string, props: ProbeFunctionProps) {
    super(scope, id);
    const { settings } = props;
    if (!Token.isUnresolved(props.port) && (props.port < 1 || props.port > 65535)) {
      throw new Error(`ProbeFunction: port must be 1-65535, got ${props.port}`);
    }

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'slotwatch probe: reaches the cluster port and the AWS API endpoints only',
      allowAllOutbound: false,
    });
    this.securityGroup.connections.allowTo(
      props.clusterSecurityGroup,
      ec2.Port.tcp(props.port),
      'slotwatch probe to the cluster',
    );
    if (props.endpointSecurityGroup) {
      this.securityGroup.connections.allowTo(
        props.endpointSecurityGroup,
        ec2.Port.tcp(443),
        'slotwatch probe to the AWS API endpoints',
      );
    } else {
      this.securityGroup.addEgressRule(
        ec2.Peer.anyIpv4(),
        ec2.Port.tcp(443),
        'slotwatch probe to the AWS APIs through the NAT path',
      );
    }

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.role = this.#role(props);

    // A run must end before the next scheduled one starts (reserved concurrency 1 also stops
    // overlaps); the invocation fits its sweeps into whatever time is left.
    const timeout = Duration.seconds(functionTimeoutSeconds(settings.scheduleMinutes));
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: `${ROOT}lambda/handlers/probe.ts`,
      handler: 'handler',
      projectRoot: ROOT,
      depsLockFilePath: `${ROOT}package-lock.json`,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout,
      reservedConcurrentExecutions: 1,
      role: this.role,
      logGroup: this.logGroup,
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      securityGroups: [this.securityGroup],
      allowPublicSubnet: false,
      environment: {
        CLUSTER_ENDPOINT: props.endpoint,
        CLUSTER_TLS: 'true',
        CLUSTER_AUTH_SECRET_ARN: props.authSecret.secretArn,
        ...(props.clusterName && { CLUSTER_NAME: props.clusterName }),
        PROBE_TIMEOUT_MS: String(settings.timeoutMs),
        PROBE_DEADLINE_MS: String(settings.deadlineMs),
        PROBE_SWEEPS_PER_INVOCATION: String(settings.sweepsPerInvocation),
        PROBE_SWEEP_INTERVAL_MS: String(settings.sweepIntervalMs),
        METRICS_SINK: settings.metricsSink,
        METRICS_NAMESPACE: settings.namespace,
        METRICS_HIGH_RESOLUTION: String(settings.highResolution),
        METRICS_PER_NODE: settings.perNodeMetrics,
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: {
        minify: true,
        sourceMap: true,
        target: 'node24',
        // The SDK is bundled, not taken from the runtime: its version (and its timeout
        // behaviour) is the one the tests ran against.
        externalModules: [],
        forceDockerBundling: false,
      },
    });

    this.schedule = new events.Rule(this, 'Schedule', {
      description: 'slotwatch: run the probe',
      schedule: events.Schedule.rate(Duration.minutes(settings.scheduleMinutes)),
      targets: [
        new targets.LambdaFunction(this.function, {
          // A late sweep is worth less than the next one on time.
          retryAttempts: 0,
          maxEventAge: Duration.minutes(1),
        }),
      ],
    });
  }

  #role(props: ProbeFunctionProps): iam.Role {
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description:
        'slotwatch probe: read the AUTH secret, put its metrics, write its logs, attach to the VPC',
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['secretsmanager:GetSecretValue'],
        resources: [props.authSecret.secretArn],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': props.settings.namespace } },
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: [
          'ec2:CreateNetworkInterface',
          'ec2:DescribeNetworkInterfaces',
          'ec2:DeleteNetworkInterface',
          'ec2:AssignPrivateIpAddresses',
          'ec2:UnassignPrivateIpAddresses',
        ],
        resources: ['*'],
      }),
    );
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'cloudwatch:PutMetricData has no resource-level permissions (it is limited to the probe namespace by the cloudwatch:namespace condition), and the EC2 network-interface actions Lambda needs for VPC access, DescribeNetworkInterfaces among them, must be granted on *',
    });
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(this.logGroup.node.defaultChild as CfnElement)}.Arn>]`,
      reason:
        'the log group ARN that CloudFormation returns ends in :*, which covers the log streams of this one log group',
    });
    return role;
  }
}
