/** The cluster slotwatch probes when the app creates one: a VPC and an ElastiCache replication group. */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { Construct } from 'constructs';
import { CacheCluster } from '../constructs/cache-cluster.js';
import { CacheNetwork } from '../constructs/cache-network.js';
import type { NewClusterSettings } from '../settings.js';

export interface ClusterStackProps extends StackProps {
  readonly cluster: NewClusterSettings;
  /**
   * RBAC users with IAM authentication by role, with their access strings, instead of an AUTH
   * token. @default undefined: an AUTH token in Secrets Manager
   */
  readonly iamUsers?: Readonly<Record<string, string>>;
}

export class ClusterStack extends Stack {
  readonly network: CacheNetwork;
  readonly cache: CacheCluster;

  constructor(scope: Construct, id: string, props: ClusterStackProps) {
    super(scope, id, props);
    // Interface endpoints belong to the probe stack: which ones it needs depends on its settings.
    this.network = new CacheNetwork(this, 'Network', { interfaceEndpoints: [] });
    this.cache = new CacheCluster(this, 'Cache', {
      vpc: this.network.vpc,
      subnets: this.network.subnets,
      engine: props.cluster.engine,
      ...(props.cluster.engineVersion && { engineVersion: props.cluster.engineVersion }),
      nodeType: props.cluster.nodeType,
      shards: props.cluster.shards,
      replicasPerShard: props.cluster.replicasPerShard,
      port: props.cluster.port,
      ...(props.iamUsers && { iamUsers: props.iamUsers }),
    });
    new CfnOutput(this, 'ConfigurationEndpoint', {
      description: 'host:port of the configuration endpoint (CLUSTER_ENDPOINT)',
      value: this.cache.configurationEndpoint,
    });
    new CfnOutput(this, 'Port', { value: String(this.cache.port) });
    if (this.cache.authSecret) {
      new CfnOutput(this, 'AuthSecretArn', {
        description: 'Secrets Manager secret holding the AUTH token (CLUSTER_AUTH_SECRET_ARN)',
        value: this.cache.authSecret.secretArn,
      });
    }
    for (const [role, userId] of Object.entries(this.cache.iamUserIds)) {
      new CfnOutput(this, `${role[0]?.toUpperCase() ?? ''}${role.slice(1)}UserId`, {
        description: `RBAC user of the ${role}, IAM authentication (CLUSTER_USERNAME)`,
        value: userId,
      });
    }
    new CfnOutput(this, 'ReplicationGroupId', { value: this.cache.replicationGroupId });
  }

  get subnets(): ec2.SubnetSelection {
    return this.network.subnets;
  }
}
