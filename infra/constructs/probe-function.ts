/**
 * The scheduled probe: a NodejsFunction (bundled with the local esbuild, no Docker) in the
 * cluster's subnets, with its own security group, which is the only one allowed to reach the
 * cluster port, and a role that can do nothing but authenticate (read the AUTH secret, or connect
 * as its IAM user), put metrics into its own
 * namespace, write its own logs and attach to the VPC.
 */
import { Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { functionTimeoutSeconds, type ProbeSettings } from '../settings.js';
import {
  authEnvironment,
  BUNDLED_FUNCTION,
  clientSecurityGroup,
  functionRole,
  LAMBDA_NODE_OPTIONS,
  ROOT,
  type FunctionAuth,
} from './vpc-function.js';

export interface ProbeFunctionProps {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  /** The cluster's security group: the probe's gets the only ingress rule to `port`. */
  readonly clusterSecurityGroup: ec2.ISecurityGroup;
  readonly port: number;
  /** `host:port` of the configuration endpoint (may be a token). */
  readonly endpoint: string;
  /** The AUTH secret, or the IAM user the function connects as. */
  readonly auth: FunctionAuth;
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

    this.securityGroup = clientSecurityGroup(this, { ...props, who: 'probe' });

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.role = functionRole(this, {
      description: `slotwatch probe: ${props.auth.mode === 'token' ? 'read the AUTH secret' : 'connect as its IAM user'}, put its metrics, write its logs, attach to the VPC`,
      auth: props.auth,
      namespace: settings.namespace,
      logGroup: this.logGroup,
    });

    // A run must end before the next scheduled one starts (reserved concurrency 1 also stops
    // overlaps); the invocation fits its sweeps into whatever time is left.
    const timeout = Duration.seconds(functionTimeoutSeconds(settings.scheduleMinutes));
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      ...BUNDLED_FUNCTION,
      memorySize: settings.memoryMb,
      entry: `${ROOT}lambda/handlers/probe.ts`,
      timeout,
      role: this.role,
      logGroup: this.logGroup,
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      securityGroups: [this.securityGroup],
      environment: {
        CLUSTER_ENDPOINT: props.endpoint,
        CLUSTER_TLS: 'true',
        ...authEnvironment(props.auth),
        ...(props.clusterName && { CLUSTER_NAME: props.clusterName }),
        PROBE_TIMEOUT_MS: String(settings.timeoutMs),
        PROBE_DEADLINE_MS: String(settings.deadlineMs),
        PROBE_SWEEPS_PER_INVOCATION: String(settings.sweepsPerInvocation),
        PROBE_SWEEP_INTERVAL_MS: String(settings.sweepIntervalMs),
        METRICS_SINK: settings.metricsSink,
        METRICS_NAMESPACE: settings.namespace,
        METRICS_HIGH_RESOLUTION: String(settings.highResolution),
        METRICS_PER_NODE: settings.perNodeMetrics,
        NODE_OPTIONS: LAMBDA_NODE_OPTIONS,
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
}
