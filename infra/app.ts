/**
 * The CDK app: the only place that reads context. It creates the cluster stack (unless the
 * context names an existing cluster) and the probe stack, and runs cdk-nag's AWS Solutions checks
 * over everything: synth fails on any finding that is not acknowledged with a reason.
 */
import { App, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { Construct } from 'constructs';
import { defaultClusterName, parseEndpoint } from '../lambda/config.js';
import { ClusterStack } from './stacks/cluster-stack.js';
import { DRILL_ACCESS_STRING, PROBE_ACCESS_STRING } from './access-string.js';
import type { CacheCluster } from './constructs/cache-cluster.js';
import {
  ProbeStack,
  type ProbeStackDrill,
  type ProbeTarget,
  type TargetAuth,
} from './stacks/probe-stack.js';
import {
  ContextError,
  parseSettings,
  type DeploymentSettings,
  type DrillSettings,
  type ExistingClusterSettings,
} from './settings.js';

export function buildApp(app: App = new App()): { app: App; settings: DeploymentSettings } {
  const settings = parseSettings((key) => app.node.tryGetContext(key));
  const env = { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };
  const probeProps = {
    env,
    settings: settings.probe,
    networkPath: settings.networkPath,
    ...(settings.alarmEmail && { alarmEmail: settings.alarmEmail }),
  };

  if (settings.cluster.mode === 'create') {
    const clusterStack = new ClusterStack(app, `${settings.stackPrefix}-Cluster`, {
      env,
      cluster: settings.cluster,
      ...(settings.auth === 'iam' && {
        // One user per function, each allowed exactly what its code sends.
        iamUsers: {
          probe: PROBE_ACCESS_STRING,
          ...(settings.drill && { drill: DRILL_ACCESS_STRING }),
        },
      }),
    });
    const { cache } = clusterStack;
    new ProbeStack(app, `${settings.stackPrefix}-Probe`, {
      ...probeProps,
      ...drillProps(settings.drillSettings, cache.replicationGroupId),
      target: () => ({
        vpc: clusterStack.network.vpc,
        subnets: clusterStack.network.subnets,
        clusterSecurityGroup: cache.securityGroup,
        endpoint: cache.configurationEndpoint,
        port: cache.port,
        auth: createdClusterAuth(cache),
        clusterName: settings.clusterName ?? cache.replicationGroupId,
      }),
    });
  } else {
    const existing = settings.cluster;
    new ProbeStack(app, `${settings.stackPrefix}-Probe`, {
      ...probeProps,
      ...drillProps(settings.drillSettings, existing.replicationGroupId),
      target: (scope) => existingTarget(scope, existing, settings.clusterName),
    });
  }

  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, settings };
}

/** The probe stack's drill, when enabled, on the replication group the cluster settings name. */
function drillProps(
  drill: DrillSettings | undefined,
  replicationGroupId: string | undefined,
): { drill?: ProbeStackDrill } {
  if (drill === undefined) return {};
  // parseSettings already refuses a drill on an existing cluster without replicationGroupId.
  if (replicationGroupId === undefined) {
    throw new ContextError('replicationGroupId', 'context drill=true needs replicationGroupId');
  }
  return { drill: { ...drill, replicationGroupId } };
}

/** Imports an existing cluster's network, security group and secret, without any lookup. */
function existingTarget(
  scope: Construct,
  cluster: ExistingClusterSettings,
  clusterName: string | undefined,
): ProbeTarget {
  const endpoint = parseEndpoint({ value: cluster.endpoint, origin: 'clusterEndpoint' });
  const vpc = ec2.Vpc.fromVpcAttributes(scope, 'ClusterVpc', {
    vpcId: cluster.vpcId,
    availabilityZones:
      cluster.availabilityZones.length > 0
        ? [...cluster.availabilityZones]
        : cluster.subnetIds.map((_, i) => `az-${i}`),
    privateSubnetIds: [...cluster.subnetIds],
  });
  return {
    vpc,
    subnets: {
      subnets: cluster.subnetIds.map((id, i) =>
        ec2.Subnet.fromSubnetId(scope, `ClusterSubnet${i}`, id),
      ),
    },
    clusterSecurityGroup: ec2.SecurityGroup.fromSecurityGroupId(
      scope,
      'ClusterSecurityGroup',
      cluster.securityGroupId,
      { mutable: true },
    ),
    endpoint: cluster.endpoint,
    port: cluster.port,
    auth: existingClusterAuth(scope, cluster),
    clusterName: clusterName ?? defaultClusterName(endpoint),
  };
}

/** The secret the cluster stack generated, or the users it created. */
function createdClusterAuth(cache: CacheCluster): TargetAuth {
  if (cache.authSecret) return { mode: 'token', secret: cache.authSecret };
  const { probe, drill } = cache.iamUserIds;
  if (probe === undefined) throw new Error('the cluster stack created no probe user');
  return {
    mode: 'iam',
    replicationGroupId: cache.replicationGroupId,
    probeUserId: probe,
    ...(drill !== undefined && { drillUserId: drill }),
  };
}

/** parseSettings already required the secret (token) or the group and users (iam). */
function existingClusterAuth(scope: Construct, cluster: ExistingClusterSettings): TargetAuth {
  if (cluster.probeUserId !== undefined) {
    return {
      mode: 'iam',
      replicationGroupId: cluster.replicationGroupId ?? '',
      probeUserId: cluster.probeUserId,
      ...(cluster.drillUserId !== undefined && { drillUserId: cluster.drillUserId }),
    };
  }
  return {
    mode: 'token',
    secret: secretsmanager.Secret.fromSecretCompleteArn(
      scope,
      'AuthSecret',
      cluster.authSecretArn ?? '',
    ),
  };
}

// Run as the CDK app (cdk.json: "app"), not when imported by the tests.
if (process.argv[1]?.endsWith('infra/app.ts')) {
  buildApp().app.synth();
}
