/**
 * What the probe and the drill functions share: a security group that reaches the cluster port
 * and the AWS APIs only, a role with the grants every slotwatch function needs, and the bundling
 * of a handler with the local esbuild (no Docker) and the SDK version the tests ran against.
 */
import { fileURLToPath } from 'node:url';
import { CfnElement, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { replicationGroupArn, userArn } from './cache-users.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface ClientSecurityGroupProps {
  readonly vpc: ec2.IVpc;
  /** The cluster's security group: this one gets an ingress rule to `port` on it. */
  readonly clusterSecurityGroup: ec2.ISecurityGroup;
  readonly port: number;
  /** The interface endpoints' security group; undefined means HTTPS leaves through a NAT path. */
  readonly endpointSecurityGroup?: ec2.ISecurityGroup;
  /** `probe` or `drill`, for the descriptions. */
  readonly who: string;
}

/** A security group with no outbound rule but the cluster port and HTTPS to the AWS APIs. */
export function clientSecurityGroup(
  scope: Construct,
  props: ClientSecurityGroupProps,
): ec2.SecurityGroup {
  const group = new ec2.SecurityGroup(scope, 'SecurityGroup', {
    vpc: props.vpc,
    description: `slotwatch ${props.who}: reaches the cluster port and the AWS API endpoints only`,
    allowAllOutbound: false,
  });
  group.connections.allowTo(
    props.clusterSecurityGroup,
    ec2.Port.tcp(props.port),
    `slotwatch ${props.who} to the cluster`,
  );
  if (props.endpointSecurityGroup) {
    group.connections.allowTo(
      props.endpointSecurityGroup,
      ec2.Port.tcp(443),
      `slotwatch ${props.who} to the AWS API endpoints`,
    );
  } else {
    group.addEgressRule(
      ec2.Peer.anyIpv4(),
      ec2.Port.tcp(443),
      `slotwatch ${props.who} to the AWS APIs through the NAT path`,
    );
  }
  return group;
}

/**
 * How a function authenticates to the cluster: the AUTH token in a secret, or IAM authentication
 * as one RBAC user (id = name) of a replication group.
 */
export type FunctionAuth =
  | { readonly mode: 'token'; readonly secret: secretsmanager.ISecret }
  | { readonly mode: 'iam'; readonly replicationGroupId: string; readonly userId: string };

/** The variables (lambda/config.ts) that tell the handler how to authenticate. */
export function authEnvironment(auth: FunctionAuth): Record<string, string> {
  return auth.mode === 'token'
    ? { CLUSTER_AUTH_SECRET_ARN: auth.secret.secretArn }
    : {
        CLUSTER_AUTH_MODE: 'iam',
        CLUSTER_USERNAME: auth.userId,
        ELASTICACHE_REPLICATION_GROUP_ID: auth.replicationGroupId,
      };
}

/**
 * What authenticating needs: reading the one secret, or `elasticache:Connect` on the one
 * replication group and the one user (IAM authentication checks both).
 */
function authStatement(scope: Construct, auth: FunctionAuth): iam.PolicyStatement {
  return auth.mode === 'token'
    ? new iam.PolicyStatement({
        actions: ['secretsmanager:GetSecretValue'],
        resources: [auth.secret.secretArn],
      })
    : new iam.PolicyStatement({
        actions: ['elasticache:Connect'],
        resources: [
          replicationGroupArn(scope, auth.replicationGroupId),
          userArn(scope, auth.userId),
        ],
      });
}

export interface FunctionRoleProps {
  readonly description: string;
  readonly auth: FunctionAuth;
  /** The only namespace PutMetricData may write to. */
  readonly namespace: string;
  readonly logGroup: logs.ILogGroup;
  /** Statements beyond the shared ones. */
  readonly statements?: readonly iam.PolicyStatement[];
  /**
   * Why the actions granted on `*` need it, beyond PutMetricData and the EC2 network-interface
   * actions every VPC function has (cdk-nag AwsSolutions-IAM5).
   */
  readonly wildcardReason?: string;
}

/**
 * A Lambda role that can authenticate to the cluster (read the AUTH secret, or connect as its IAM
 * user), put metrics into one namespace, write to its own log group and attach to the VPC, plus
 * the given statements.
 */
export function functionRole(scope: Construct, props: FunctionRoleProps): iam.Role {
  const role = new iam.Role(scope, 'Role', {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: props.description,
  });
  const statements = [
    authStatement(scope, props.auth),
    new iam.PolicyStatement({
      actions: ['cloudwatch:PutMetricData'],
      resources: ['*'],
      conditions: { StringEquals: { 'cloudwatch:namespace': props.namespace } },
    }),
    new iam.PolicyStatement({
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [props.logGroup.logGroupArn],
    }),
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
    ...(props.statements ?? []),
  ];
  for (const statement of statements) role.addToPolicy(statement);
  Validations.of(role).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: [
      'cloudwatch:PutMetricData has no resource-level permissions (it is limited to the slotwatch namespace by the cloudwatch:namespace condition), and the EC2 network-interface actions Lambda needs for VPC access, DescribeNetworkInterfaces among them, must be granted on *',
      ...(props.wildcardReason ? [props.wildcardReason] : []),
    ].join('; '),
  });
  Validations.of(role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::<${Stack.of(scope).getLogicalId(props.logGroup.node.defaultChild as CfnElement)}.Arn>]`,
    reason:
      'the log group ARN that CloudFormation returns ends in :*, which covers the log streams of this one log group',
  });
  return role;
}

/**
 * The functions' NODE_OPTIONS: stack traces point into the TypeScript sources through the
 * bundle's source map. `npm run bench` times the cold import with exactly this setting.
 */
export const LAMBDA_NODE_OPTIONS = '--enable-source-maps';

/**
 * The NodejsFunction settings both functions share: Node 24 on arm64, 256 MB, bundled and
 * minified with source maps by the local esbuild, the SDK inside the bundle (its version, and its
 * timeout behaviour, is the one the tests ran against), one run at a time.
 */
export const BUNDLED_FUNCTION = {
  handler: 'handler',
  projectRoot: ROOT,
  depsLockFilePath: `${ROOT}package-lock.json`,
  runtime: lambda.Runtime.NODEJS_24_X,
  architecture: lambda.Architecture.ARM_64,
  memorySize: 256,
  reservedConcurrentExecutions: 1,
  allowPublicSubnet: false,
  bundling: {
    minify: true,
    sourceMap: true,
    target: 'node24',
    externalModules: [],
    forceDockerBundling: false,
  },
} as const satisfies Partial<nodejs.NodejsFunctionProps>;
