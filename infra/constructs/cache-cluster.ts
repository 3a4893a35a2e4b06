import { RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { CacheUsers, replicationGroupArn } from './cache-users.js';

export type CacheEngine = 'valkey' | 'redis';

export const DEFAULT_ENGINE_VERSIONS: Readonly<Record<CacheEngine, string>> = {
  valkey: '8.0',
  redis: '7.1',
};

/** The well-known port: scanners try it first, so the cluster refuses it. */
const DEFAULT_REDIS_PORT = 6379;

/** The only non-alphanumeric characters ElastiCache accepts in an AUTH token. */
export const AUTH_TOKEN_SPECIALS = '!&#$^<>-';

/** Every other printable ASCII punctuation character, for Secrets Manager to leave out. */
export const AUTH_TOKEN_EXCLUDED_CHARACTERS = Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) =>
  String.fromCharCode(0x21 + i),
)
  .filter((c) => !/[A-Za-z0-9]/.test(c) && !AUTH_TOKEN_SPECIALS.includes(c))
  .join('');

export interface CacheClusterProps {
  /** The VPC to place the replication group in. */
  readonly vpc: ec2.IVpc;
  /** The subnets of the cache subnet group, in at least 2 availability zones. */
  readonly subnets: ec2.SubnetSelection;
  /** @default 'valkey' */
  readonly engine?: CacheEngine;
  /**
   * Engine version, 7 or later (transit encryption mode and the cluster-on parameter group the
   * construct derives from the major version need it).
   * @default '8.0' for valkey, '7.1' for redis
   */
  readonly engineVersion?: string;
  /** @default 'cache.t4g.small' */
  readonly nodeType?: string;
  /**
   * Node groups (shards), 1..500.
   * @default 3
   */
  readonly shards?: number;
  /**
   * Replicas in each shard, 1..5: Multi-AZ and automatic failover need at least one.
   * @default 1
   */
  readonly replicasPerShard?: number;
  /**
   * The port the nodes listen on; anything but 6379.
   * @default 6380
   */
  readonly port?: number;
  /**
   * The replication group's physical id: lower-case letters, digits and single hyphens,
   * starting with a letter, at most 40 characters. Changing it replaces the cluster.
   * @default the stack name made valid (one cluster per stack)
   */
  readonly replicationGroupId?: string;
  /**
   * How long the slow log is kept.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly slowLogRetention?: logs.RetentionDays;
  /**
   * What happens to the cluster, its key, secret and log group when the stack is deleted. This
   * is a probe target holding only canary keys, so by default `cdk destroy` leaves nothing
   * billable behind (the KMS key goes through its pending-deletion window).
   * @default RemovalPolicy.DESTROY
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * IAM authentication instead of an AUTH token: RBAC users by role (`probe`, `drill`) with
   * their access strings, created as `<replication group id>-<role>` with IAM authentication in
   * a user group `<replication group id>-users`, whose `default` user is disabled. No AUTH
   * token or secret is created then.
   * @default undefined: an AUTH token generated in Secrets Manager
   */
  readonly iamUsers?: Readonly<Record<string, string>>;
}

/**
 * An ElastiCache replication group in cluster mode, secure by default: TLS required, AUTH token
 * generated in Secrets Manager, encrypted at rest with a rotating KMS key, Multi-AZ with
 * automatic failover, a non-default port and a security group that admits nobody until
 * `connections.allowDefaultPortFrom(probe)` is called.
 */
export class CacheCluster extends Construct implements ec2.IConnectable {
  readonly replicationGroup: elasticache.CfnReplicationGroup;
  /** No ingress rule at all; see {@link connections}. */
  readonly securityGroup: ec2.SecurityGroup;
  /** Manages ingress to the cluster; its default port is {@link port}. */
  readonly connections: ec2.Connections;
  /** JSON `{"token": "..."}`: the AUTH token the cluster was created with (token mode). */
  readonly authSecret?: secretsmanager.Secret;
  /** The RBAC users and their group (IAM mode). */
  readonly users?: CacheUsers;
  /** IAM mode: user id by role, as given in `iamUsers`. */
  readonly iamUserIds: Readonly<Record<string, string>>;
  /** `arn:<partition>:elasticache:<region>:<account>:replicationgroup:<id>`. */
  readonly replicationGroupArn: string;
  /** Encrypts the cluster's data at rest. */
  readonly encryptionKey: kms.Key;
  readonly slowLogGroup: logs.LogGroup;
  readonly port: number;
  readonly replicationGroupId: string;
  /** `host:port` of the configuration endpoint, the seed for cluster-aware clients. */
  readonly configurationEndpoint: string;

  constructor(scope: Construct, id: string, props: CacheClusterProps) {
    super(scope, id);
    const engine = props.engine ?? 'valkey';
    const engineVersion = props.engineVersion ?? DEFAULT_ENGINE_VERSIONS[engine];
    const shards = props.shards ?? 3;
    const replicasPerShard = props.replicasPerShard ?? 1;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.DESTROY;
    this.port = props.port ?? 6380;
    validateCount('shards', shards, 1, 500, 'the number of node groups');
    validateCount(
      'replicasPerShard',
      replicasPerShard,
      1,
      5,
      'Multi-AZ and automatic failover need a replica in every shard',
    );
    validatePort(this.port);
    this.replicationGroupId = props.replicationGroupId ?? defaultReplicationGroupId(this);
    validateReplicationGroupId(this.replicationGroupId);
    const parameterGroupName = clusterOnParameterGroup(engine, engineVersion);

    const subnetIds = props.vpc.selectSubnets(props.subnets).subnetIds;
    if (subnetIds.length < 2) {
      throw new Error(
        `CacheCluster subnets must select at least 2 subnets (Multi-AZ), got ${subnetIds.length}`,
      );
    }
    const subnetGroup = new elasticache.CfnSubnetGroup(this, 'SubnetGroup', {
      description: `Subnets of the ${this.replicationGroupId} replication group`,
      subnetIds,
    });
    subnetGroup.applyRemovalPolicy(removalPolicy);

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: `${engine} cluster ${this.replicationGroupId}: ingress only from its clients`,
      // Cache nodes never open connections of their own.
      allowAllOutbound: false,
    });
    this.connections = new ec2.Connections({
      securityGroups: [this.securityGroup],
      defaultPort: ec2.Port.tcp(this.port),
    });

    this.encryptionKey = new kms.Key(this, 'EncryptionKey', {
      description: `At-rest encryption of the ${this.replicationGroupId} replication group`,
      enableKeyRotation: true,
      removalPolicy,
    });

    this.iamUserIds = Object.fromEntries(
      Object.keys(props.iamUsers ?? {}).map((role) => [role, `${this.replicationGroupId}-${role}`]),
    );
    if (props.iamUsers) {
      this.users = new CacheUsers(this, 'Users', {
        userGroupId: `${this.replicationGroupId}-users`,
        users: Object.entries(props.iamUsers).map(([role, accessString]) => ({
          userId: this.iamUserIds[role] ?? role,
          accessString,
        })),
        removalPolicy,
      });
    } else {
      this.authSecret = authTokenSecret(this, this.replicationGroupId, removalPolicy);
    }
    this.replicationGroupArn = replicationGroupArn(this, this.replicationGroupId);

    this.slowLogGroup = new logs.LogGroup(this, 'SlowLog', {
      retention: props.slowLogRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy,
    });

    this.replicationGroup = new elasticache.CfnReplicationGroup(this, 'ReplicationGroup', {
      replicationGroupId: this.replicationGroupId,
      replicationGroupDescription: `slotwatch probe target: ${engine} ${engineVersion} in cluster mode`,
      engine,
      engineVersion,
      cacheNodeType: props.nodeType ?? 'cache.t4g.small',
      clusterMode: 'enabled',
      cacheParameterGroupName: parameterGroupName,
      numNodeGroups: shards,
      replicasPerNodeGroup: replicasPerShard,
      automaticFailoverEnabled: true,
      multiAzEnabled: true,
      port: this.port,
      cacheSubnetGroupName: subnetGroup.ref,
      securityGroupIds: [this.securityGroup.securityGroupId],
      transitEncryptionEnabled: true,
      transitEncryptionMode: 'required',
      atRestEncryptionEnabled: true,
      kmsKeyId: this.encryptionKey.keyArn,
      // A dynamic reference: CloudFormation resolves it at deploy time, so the token never
      // appears in the template or the cloud assembly.
      ...(this.authSecret && {
        authToken: this.authSecret.secretValueFromJson('token').unsafeUnwrap(),
      }),
      ...(this.users && { userGroupIds: [this.users.userGroupId] }),
      autoMinorVersionUpgrade: true,
      logDeliveryConfigurations: [
        {
          logType: 'slow-log',
          logFormat: 'json',
          destinationType: 'cloudwatch-logs',
          destinationDetails: {
            cloudWatchLogsDetails: { logGroup: this.slowLogGroup.logGroupName },
          },
        },
      ],
    });
    this.replicationGroup.applyRemovalPolicy(removalPolicy);
    if (this.users) {
      this.replicationGroup.addResourceDependency(this.users.userGroup);
      Validations.of(this.replicationGroup).acknowledge({
        id: 'AwsSolutions-AEC6',
        reason:
          'Clients authenticate as RBAC users with IAM authentication (a user group whose default user is off), which replaces the AUTH token: ElastiCache takes a user group or an AUTH token, and IAM tokens are short-lived and need no stored secret.',
      });
    }

    this.configurationEndpoint = `${this.replicationGroup.attrConfigurationEndPointAddress}:${this.replicationGroup.attrConfigurationEndPointPort}`;
  }
}

/** The AUTH token: generated by Secrets Manager with only the characters ElastiCache accepts. */
function authTokenSecret(
  scope: Construct,
  replicationGroupId: string,
  removalPolicy: RemovalPolicy,
): secretsmanager.Secret {
  const secret = new secretsmanager.Secret(scope, 'AuthToken', {
    description: `AUTH token of the ${replicationGroupId} replication group`,
    generateSecretString: {
      secretStringTemplate: JSON.stringify({}),
      generateStringKey: 'token',
      passwordLength: 64,
      excludeCharacters: AUTH_TOKEN_EXCLUDED_CHARACTERS,
      excludeNumbers: false,
      includeSpace: false,
      requireEachIncludedType: true,
    },
    removalPolicy,
  });
  Validations.of(secret).acknowledge({
    id: 'AwsSolutions-SMG4',
    reason:
      'ElastiCache AUTH tokens are rotated with ModifyReplicationGroup AuthTokenUpdateStrategy ' +
      'ROTATE then SET, which needs a custom rotation function; the reference (docs/) documents the ' +
      'manual rotation, during which the probe re-reads the secret.',
  });
  return secret;
}

function validateCount(prop: string, value: number, min: number, max: number, why: string): void {
  if (Token.isUnresolved(value)) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(
      `CacheCluster ${prop} must be an integer in ${min}..${max} (${why}), got ${value}`,
    );
  }
}

function validatePort(port: number): void {
  if (Token.isUnresolved(port)) return;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`CacheCluster port must be an integer in 1..65535, got ${port}`);
  }
  if (port === DEFAULT_REDIS_PORT) {
    throw new Error(
      `CacheCluster port must not be ${DEFAULT_REDIS_PORT}: the default Redis port is the first ` +
        'one scanners try (cdk-nag AwsSolutions-AEC5); use another, e.g. 6380',
    );
  }
}

const REPLICATION_GROUP_ID = /^[a-z](?:[a-z0-9]|-(?=[a-z0-9]))*$/;

function validateReplicationGroupId(id: string): void {
  if (Token.isUnresolved(id)) return;
  if (id.length > 40 || !REPLICATION_GROUP_ID.test(id)) {
    throw new Error(
      'CacheCluster replicationGroupId must be 1..40 lower-case letters, digits and single ' +
        `hyphens, start with a letter and not end with a hyphen, got '${id}'`,
    );
  }
}

/**
 * The stack name made into a valid replication group id. CloudFormation stack names already
 * start with a letter and hold only letters, digits and hyphens.
 */
function defaultReplicationGroupId(scope: Construct): string {
  const stackName = Stack.of(scope).stackName;
  if (Token.isUnresolved(stackName)) {
    throw new Error(
      'CacheCluster replicationGroupId is required when the stack name is not known at synth time',
    );
  }
  return stackName
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, 40)
    .replace(/-+$/, '');
}

/** The engine's default parameter group with cluster mode on, e.g. `default.valkey8.cluster.on`. */
function clusterOnParameterGroup(engine: CacheEngine, engineVersion: string): string {
  const major = Token.isUnresolved(engineVersion)
    ? undefined
    : Number(/^(\d+)(?:\.|$)/.exec(engineVersion)?.[1]);
  if (major === undefined || Number.isNaN(major) || major < 7) {
    throw new Error(
      `CacheCluster engineVersion must be a literal ${engine} version of 7 or later (the ` +
        `cluster-on parameter group and transit encryption mode depend on it), got '${engineVersion}'`,
    );
  }
  return `default.${engine}${major}.cluster.on`;
}
