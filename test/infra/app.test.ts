/**
 * The whole CDK app, synthesized offline for several context configurations, with the
 * security-relevant properties of the probe stack asserted and cdk-nag run over everything.
 */
import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/app.js';
import { DRILL_ACCESS_STRING, PROBE_ACCESS_STRING } from '../../infra/access-string.js';
import { loadConfig } from '../../lambda/config.js';
import { nagFindings, synthesizeWithFindings } from '../support/nag.js';

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

function synth(context: Record<string, unknown> = {}) {
  const { app } = buildApp(new App({ context: { ...CDK_JSON.context, ...context } }));
  const { assembly, findings } = synthesizeWithFindings(app);
  if (!assembly) throw new Error(`synth failed on cdk-nag findings:\n${findings.join('\n')}`);
  const template = (name: string) =>
    Template.fromJSON(assembly.getStackByName(name).template as Record<string, unknown>);
  return { app, assembly, template, findings };
}

/** Every value of a given resource type's property, across the template. */
const resourcesOf = (template: Template, type: string) =>
  Object.values(template.findResources(type)) as { Properties: Record<string, unknown> }[];

describe('the default app (a new cluster and its probe)', () => {
  const { assembly, template } = synth();
  const probe = template('Slotwatch-Probe');

  it('has the two stacks and no unacknowledged cdk-nag finding', () => {
    expect(assembly.stacks.map((s) => s.stackName).sort()).toEqual([
      'Slotwatch-Cluster',
      'Slotwatch-Probe',
    ]);
    expect(nagFindings(assembly.directory)).toEqual([]);
  });

  it('runs the probe on Node 24, arm64, in the VPC, with reserved concurrency 1 and a timeout below the schedule', () => {
    probe.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      ReservedConcurrentExecutions: 1,
      Timeout: 58,
      MemorySize: 256,
      VpcConfig: Match.objectLike({
        SubnetIds: Match.anyValue(),
        SecurityGroupIds: Match.anyValue(),
      }),
    });
    probe.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
    });
    probe.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('passes the secret ARN, never a token, in the environment the CONTRACT names', () => {
    const [fn] = resourcesOf(probe, 'AWS::Lambda::Function').filter((r) =>
      JSON.stringify(r.Properties).includes('CLUSTER_ENDPOINT'),
    );
    const variables = (fn?.Properties.Environment as { Variables: Record<string, unknown> })
      .Variables;
    expect(Object.keys(variables).sort()).toEqual(
      [
        'CLUSTER_AUTH_SECRET_ARN',
        'CLUSTER_ENDPOINT',
        'CLUSTER_NAME',
        'CLUSTER_TLS',
        'METRICS_HIGH_RESOLUTION',
        'METRICS_NAMESPACE',
        'METRICS_PER_NODE',
        'METRICS_SINK',
        'NODE_OPTIONS',
        'PROBE_DEADLINE_MS',
        'PROBE_SWEEPS_PER_INVOCATION',
        'PROBE_SWEEP_INTERVAL_MS',
        'PROBE_TIMEOUT_MS',
      ].sort(),
    );
    expect(variables).toMatchObject({
      CLUSTER_TLS: 'true',
      METRICS_SINK: 'cloudwatch',
      METRICS_NAMESPACE: 'Slotwatch',
      PROBE_TIMEOUT_MS: '1000',
    });
    expect(JSON.stringify(variables)).not.toMatch(/AUTH_TOKEN|resolve:secretsmanager/);
  });

  it('grants only GetSecretValue on the secret, PutMetricData in its namespace, its own logs and VPC access', () => {
    const policies = resourcesOf(probe, 'AWS::IAM::Policy');
    const statements = policies.flatMap(
      (p) =>
        (
          p.Properties.PolicyDocument as {
            Statement: { Action: string | string[]; Resource: unknown; Condition?: unknown }[];
          }
        ).Statement,
    );
    const actions = statements
      .flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]))
      .sort();
    expect(actions).toEqual(
      [
        'cloudwatch:PutMetricData',
        'ec2:AssignPrivateIpAddresses',
        'ec2:CreateNetworkInterface',
        'ec2:DeleteNetworkInterface',
        'ec2:DescribeNetworkInterfaces',
        'ec2:UnassignPrivateIpAddresses',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'secretsmanager:GetSecretValue',
      ].sort(),
    );
    const put = statements.find((s) => s.Action === 'cloudwatch:PutMetricData');
    expect(put?.Condition).toEqual({ StringEquals: { 'cloudwatch:namespace': 'Slotwatch' } });
    const get = statements.find((s) => s.Action === 'secretsmanager:GetSecretValue');
    expect(JSON.stringify(get?.Resource)).toMatch(/ImportValue|AuthSecret|Cache/);
    expect(get?.Resource).not.toBe('*');
    expect(
      resourcesOf(probe, 'AWS::IAM::Role').every(
        (r) => r.Properties.ManagedPolicyArns === undefined,
      ),
    ).toBe(true);
  });

  it('lets only the probe reach the cluster port, and the probe reach only the cluster and the endpoints', () => {
    const ingress = resourcesOf(probe, 'AWS::EC2::SecurityGroupIngress');
    const toCluster = ingress.filter((r) => r.Properties.FromPort === 6380);
    expect(toCluster).toHaveLength(1);
    expect(toCluster[0]?.Properties).toMatchObject({
      IpProtocol: 'tcp',
      ToPort: 6380,
      SourceSecurityGroupId: expect.anything() as unknown,
    });
    expect(JSON.stringify(probe.toJSON())).not.toContain('0.0.0.0/0');
    const groups = resourcesOf(probe, 'AWS::EC2::SecurityGroup');
    const probeGroup = groups.find((g) =>
      String(g.Properties.GroupDescription).startsWith('slotwatch probe'),
    );
    const egress = (probeGroup?.Properties.SecurityGroupEgress ?? []) as {
      FromPort: number;
      DestinationSecurityGroupId?: unknown;
    }[];
    const egressRules = [
      ...egress,
      ...resourcesOf(probe, 'AWS::EC2::SecurityGroupEgress').map(
        (r) => r.Properties as { FromPort: number },
      ),
    ];
    expect(egressRules.map((r) => r.FromPort).sort()).toEqual([443, 6380]);
    const cluster = template('Slotwatch-Cluster');
    expect(JSON.stringify(cluster.toJSON())).not.toContain('0.0.0.0/0');
  });

  it('reaches Secrets Manager and CloudWatch through interface endpoints with private DNS', () => {
    const endpoints = resourcesOf(probe, 'AWS::EC2::VPCEndpoint');
    expect(endpoints.map((e) => JSON.stringify(e.Properties.ServiceName)).sort()).toEqual([
      expect.stringContaining('monitoring') as unknown as string,
      expect.stringContaining('secretsmanager') as unknown as string,
    ]);
    for (const endpoint of endpoints)
      expect(endpoint.Properties).toMatchObject({
        VpcEndpointType: 'Interface',
        PrivateDnsEnabled: true,
      });
  });

  it('outputs the configuration endpoint, port and secret ARN of the cluster', () => {
    const outputs = Object.keys(template('Slotwatch-Cluster').findOutputs('*'));
    expect(outputs).toEqual(
      expect.arrayContaining(['ConfigurationEndpoint', 'Port', 'AuthSecretArn']),
    );
  });
});

describe('other configurations', () => {
  it('probes an existing cluster without creating one', () => {
    const { assembly, template } = synth(BYO);
    expect(assembly.stacks.map((s) => s.stackName)).toEqual(['Slotwatch-Probe']);
    const probe = template('Slotwatch-Probe');
    probe.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          CLUSTER_ENDPOINT: BYO.clusterEndpoint,
          CLUSTER_AUTH_SECRET_ARN: BYO.authSecretArn,
          CLUSTER_NAME: 'orders',
        }),
      },
      VpcConfig: Match.objectLike({
        SubnetIds: ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'],
      }),
    });
    probe.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: BYO.clusterSecurityGroupId,
      FromPort: 6379,
      ToPort: 6379,
    });
    probe.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'secretsmanager:GetSecretValue',
            Resource: BYO.authSecretArn,
          }),
        ]),
      },
    });
    expect(nagFindings(assembly.directory)).toEqual([]);
  });

  it('uses the NAT path without endpoints, and EMF without the monitoring endpoint', () => {
    const nat = synth({ ...BYO, networkPath: 'nat' }).template('Slotwatch-Probe');
    expect(resourcesOf(nat, 'AWS::EC2::VPCEndpoint')).toEqual([]);
    const emf = synth({ ...BYO, metricsSink: 'emf' }).template('Slotwatch-Probe');
    const services = resourcesOf(emf, 'AWS::EC2::VPCEndpoint').map((e) =>
      JSON.stringify(e.Properties.ServiceName),
    );
    expect(services).toHaveLength(1);
    expect(services[0]).toContain('secretsmanager');
  });

  it('builds a larger Redis OSS cluster with sub-minute probing', () => {
    const { assembly, template } = synth({
      engine: 'redis',
      shards: '12',
      replicasPerShard: '2',
      sweepsPerInvocation: '6',
      sweepIntervalMs: '10000',
      highResolution: 'true',
    });
    template('Slotwatch-Cluster').hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      Engine: 'redis',
      NumNodeGroups: 12,
      ReplicasPerNodeGroup: 2,
    });
    template('Slotwatch-Probe').hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          PROBE_SWEEPS_PER_INVOCATION: '6',
          METRICS_HIGH_RESOLUTION: 'true',
        }),
      },
    });
    expect(nagFindings(assembly.directory)).toEqual([]);
  });

  it('gives the probe of the largest cluster more memory, and so the CPU its sweeps need', () => {
    const { template } = synth({ shards: '250' });
    template('Slotwatch-Probe').hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      MemorySize: 1024,
      Environment: { Variables: Match.objectLike({ PROBE_DEADLINE_MS: '10000' }) },
    });
  });

  it('accepts -c drill=true and still synthesizes cleanly', () => {
    const { assembly } = synth({ drill: 'true' });
    expect(assembly.stacks.map((s) => s.stackName).sort()).toEqual([
      'Slotwatch-Cluster',
      'Slotwatch-Probe',
    ]);
    expect(nagFindings(assembly.directory)).toEqual([]);
  });

  it('subscribes an e-mail address to the alarm topic when given', () => {
    const probe = synth({ alarmEmail: 'oncall@example.com' }).template('Slotwatch-Probe');
    probe.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
    });
  });
});

/** The function whose environment has CLUSTER_USERNAME `user`, and its variables. */
function functionOf(template: Template, user: string) {
  const fn = resourcesOf(template, 'AWS::Lambda::Function').find(
    (r) =>
      (r.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables
        ?.CLUSTER_USERNAME === user,
  );
  if (!fn) throw new Error(`no function connects as ${user}`);
  return (fn.Properties.Environment as { Variables: Record<string, string> }).Variables;
}

/** Every statement of every policy attached to the role whose logical id starts with `role`. */
function statementsOf(template: Template, role: string) {
  return Object.entries(template.findResources('AWS::IAM::Policy'))
    .filter(([, p]) =>
      JSON.stringify((p as { Properties: { Roles: unknown } }).Properties.Roles).includes(role),
    )
    .flatMap(
      ([, p]) =>
        (
          p as {
            Properties: { PolicyDocument: { Statement: { Action: unknown; Resource: unknown }[] } };
          }
        ).Properties.PolicyDocument.Statement,
    );
}

/** An ARN built with Fn::Join, as text: `arn:<Partition>:elasticache:<Region>:…`. */
function arnText(resource: unknown): string {
  const join = (resource as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (join === undefined) return String(resource);
  return join[1]
    .map((part) =>
      typeof part === 'string'
        ? part
        : `<${String((part as { Ref: string }).Ref).replace('AWS::', '')}>`,
    )
    .join(join[0]);
}

describe('-c auth=iam', () => {
  const { assembly, template } = synth({ auth: 'iam', drill: 'true' });
  const cluster = template('Slotwatch-Cluster');
  const probe = template('Slotwatch-Probe');
  const users = resourcesOf(cluster, 'AWS::ElastiCache::User').map((u) => u.Properties);

  it('synthesizes with no unacknowledged cdk-nag finding', () => {
    expect(nagFindings(assembly.directory)).toEqual([]);
  });

  it('creates one IAM user per function (id = name) with its access string, and a disabled default, all of the redis engine a Valkey cluster accepts', () => {
    expect(users).toEqual(
      expect.arrayContaining([
        {
          Engine: 'redis',
          UserId: 'slotwatch-cluster-probe',
          UserName: 'slotwatch-cluster-probe',
          AuthenticationMode: { Type: 'iam' },
          AccessString: PROBE_ACCESS_STRING,
        },
        {
          Engine: 'redis',
          UserId: 'slotwatch-cluster-drill',
          UserName: 'slotwatch-cluster-drill',
          AuthenticationMode: { Type: 'iam' },
          AccessString: DRILL_ACCESS_STRING,
        },
        {
          Engine: 'redis',
          UserId: 'slotwatch-cluster-users-default',
          UserName: 'default',
          AuthenticationMode: { Type: 'no-password-required' },
          AccessString: 'off -@all',
        },
      ]),
    );
    expect(users).toHaveLength(3);
    cluster.hasResourceProperties('AWS::ElastiCache::UserGroup', {
      Engine: 'redis',
      UserGroupId: 'slotwatch-cluster-users',
      UserIds: [
        'slotwatch-cluster-users-default',
        'slotwatch-cluster-probe',
        'slotwatch-cluster-drill',
      ],
    });
  });

  it('gives the replication group the user group instead of an AUTH token, and creates no secret', () => {
    const [group] = resourcesOf(cluster, 'AWS::ElastiCache::ReplicationGroup');
    expect(group?.Properties.UserGroupIds).toEqual(['slotwatch-cluster-users']);
    expect(group?.Properties).not.toHaveProperty('AuthToken');
    expect(group?.Properties.TransitEncryptionEnabled).toBe(true);
    for (const stack of [cluster, probe]) {
      expect(resourcesOf(stack, 'AWS::SecretsManager::Secret')).toEqual([]);
      expect(JSON.stringify(stack.toJSON())).not.toMatch(/secretsmanager/i);
    }
    expect(Object.keys(cluster.toJSON().Outputs as object)).toEqual(
      expect.arrayContaining(['ProbeUserId', 'DrillUserId']),
    );
    expect(Object.keys(cluster.toJSON().Outputs as object)).not.toContain('AuthSecretArn');
  });

  it('lets each function connect as its own user of this replication group, and nothing more', () => {
    for (const [role, user] of [
      ['ProbeRole', 'slotwatch-cluster-probe'],
      ['DrillRole', 'slotwatch-cluster-drill'],
    ] as const) {
      const connect = statementsOf(probe, role).filter((s) =>
        JSON.stringify(s.Action).includes('elasticache:Connect'),
      );
      expect(connect).toHaveLength(1);
      expect(connect[0]?.Action).toBe('elasticache:Connect');
      expect((connect[0]?.Resource as unknown[]).map(arnText)).toEqual([
        'arn:<Partition>:elasticache:<Region>:<AccountId>:replicationgroup:slotwatch-cluster',
        `arn:<Partition>:elasticache:<Region>:<AccountId>:user:${user}`,
      ]);
    }
  });

  it('sets iam variables the functions accept, and no token or secret', () => {
    for (const user of ['slotwatch-cluster-probe', 'slotwatch-cluster-drill']) {
      const variables = functionOf(probe, user);
      expect(variables).toMatchObject({
        CLUSTER_AUTH_MODE: 'iam',
        ELASTICACHE_REPLICATION_GROUP_ID: 'slotwatch-cluster',
      });
      expect(Object.keys(variables)).not.toContain('CLUSTER_AUTH_SECRET_ARN');
      // What the handler reads at cold start, with the endpoint and the region Lambda sets.
      const config = loadConfig({
        env: { ...variables, CLUSTER_ENDPOINT: 'cache.example.com:6380', AWS_REGION: 'us-east-1' },
        defaultSink: 'cloudwatch',
      });
      expect(config.iam).toEqual({
        replicationGroupId: 'slotwatch-cluster',
        userId: user,
        region: 'us-east-1',
      });
    }
  });

  it('adds no Secrets Manager endpoint: IAM tokens are signed in the function', () => {
    const services = resourcesOf(probe, 'AWS::EC2::VPCEndpoint').map((e) =>
      JSON.stringify(e.Properties.ServiceName),
    );
    expect(services.some((s) => s.includes('secretsmanager'))).toBe(false);
    expect(services.some((s) => s.includes('monitoring'))).toBe(true);
  });

  it('creates no drill user without the drill', () => {
    const clusterOnly = synth({ auth: 'iam' }).template('Slotwatch-Cluster');
    expect(
      resourcesOf(clusterOnly, 'AWS::ElastiCache::User').map((u) => u.Properties.UserId),
    ).toEqual(['slotwatch-cluster-users-default', 'slotwatch-cluster-probe']);
  });

  it('probes an existing cluster as the users named in context', () => {
    const byo = {
      clusterEndpoint: BYO.clusterEndpoint,
      vpcId: BYO.vpcId,
      subnetIds: BYO.subnetIds,
      availabilityZones: BYO.availabilityZones,
      clusterSecurityGroupId: BYO.clusterSecurityGroupId,
      replicationGroupId: 'orders',
      probeUserId: 'orders-probe',
      drillUserId: 'orders-drill',
    };
    const { assembly: existing, template: existingTemplate } = synth({
      auth: 'iam',
      drill: 'true',
      ...byo,
    });
    const byoProbe = existingTemplate('Slotwatch-Probe');

    expect(existing.stacks.map((s) => s.stackName)).toEqual(['Slotwatch-Probe']);
    expect(functionOf(byoProbe, 'orders-probe')).toMatchObject({
      CLUSTER_AUTH_MODE: 'iam',
      ELASTICACHE_REPLICATION_GROUP_ID: 'orders',
    });
    expect(functionOf(byoProbe, 'orders-drill').CLUSTER_AUTH_MODE).toBe('iam');
    const connect = statementsOf(byoProbe, 'ProbeRole').find(
      (s) => s.Action === 'elasticache:Connect',
    );
    expect((connect?.Resource as unknown[]).map(arnText)).toEqual([
      'arn:<Partition>:elasticache:<Region>:<AccountId>:replicationgroup:orders',
      'arn:<Partition>:elasticache:<Region>:<AccountId>:user:orders-probe',
    ]);
    expect(JSON.stringify(byoProbe.toJSON())).not.toMatch(/secretsmanager/i);
    expect(nagFindings(existing.directory)).toEqual([]);
  });
});
