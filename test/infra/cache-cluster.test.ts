import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, CfnParameter, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { afterEach, describe, expect, it } from 'vitest';
import { checkWithNag } from '../support/nag.js';
import { CacheCluster, type CacheClusterProps } from '../../infra/constructs/cache-cluster.js';
import { CacheNetwork, type CacheNetworkProps } from '../../infra/constructs/cache-network.js';
import { CacheUsers, DISABLED_DEFAULT_ACCESS_STRING } from '../../infra/constructs/cache-users.js';

type Properties = Record<string, unknown>;

interface Fixture {
  readonly stack: Stack;
  readonly network: CacheNetwork;
  readonly cluster: CacheCluster;
}

function build(
  clusterProps: Partial<CacheClusterProps> = {},
  networkProps: CacheNetworkProps = {},
  app = new App(),
  stackName = 'SlotwatchTest',
): Fixture {
  const stack = new Stack(app, stackName);
  const network = new CacheNetwork(stack, 'Network', networkProps);
  const cluster = new CacheCluster(stack, 'Cache', {
    vpc: network.vpc,
    subnets: network.subnets,
    ...clusterProps,
  });
  return { stack, network, cluster };
}

/** The CloudFormation a token stands for, e.g. `{ Ref: 'X' }`. */
function cfn(stack: Stack, value: unknown): unknown {
  return stack.resolve(value) as unknown;
}

/** The logical id behind a `Ref` or `Fn::GetAtt` token. */
function logicalId(stack: Stack, value: unknown): string {
  const resolved = cfn(stack, value);
  if (isRecord(resolved) && typeof resolved.Ref === 'string') return resolved.Ref;
  if (isRecord(resolved) && Array.isArray(resolved['Fn::GetAtt'])) {
    return String(resolved['Fn::GetAtt'][0]);
  }
  throw new Error(`not a Ref or a GetAtt: ${JSON.stringify(resolved)}`);
}

/** The properties of every resource of `type`, by logical id. */
function resources(template: Template, type: string): Record<string, Properties> {
  const found = template.findResources(type) as Record<string, { Properties?: Properties }>;
  return Object.fromEntries(Object.entries(found).map(([id, r]) => [id, r.Properties ?? {}]));
}

function onlyResource(template: Template, type: string): Properties {
  const all = Object.values(resources(template, type));
  if (all.length !== 1 || all[0] === undefined) {
    throw new Error(`expected one ${type}, found ${all.length}`);
  }
  return all[0];
}

/** Turns `{"Fn::Join": ["", [...]]}` into one string, with each `{"Ref": X}` as `<Ref:X>`. */
function joined(value: unknown): string {
  if (typeof value === 'string') return value;
  if (isRecord(value) && typeof value.Ref === 'string') return `<Ref:${value.Ref}>`;
  if (isRecord(value) && Array.isArray(value['Fn::Join'])) {
    const [separator, parts] = value['Fn::Join'] as [string, unknown[]];
    return parts.map(joined).join(separator);
  }
  throw new Error(`not a string or a join: ${JSON.stringify(value)}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

// Every printable ASCII character (space excluded) that is neither a letter nor a digit.
const PRINTABLE_PUNCTUATION = Array.from({ length: 0x7e - 0x20 }, (_, i) =>
  String.fromCharCode(0x21 + i),
).filter((c) => !/[A-Za-z0-9]/.test(c));
// The only specials ElastiCache accepts in an AUTH token.
const AUTH_TOKEN_SPECIALS = [...'!&#$^<>-'];

describe('CacheCluster and CacheNetwork with defaults', () => {
  const { stack, network, cluster } = build();
  const template = Template.fromStack(stack);
  const replicationGroup = onlyResource(template, 'AWS::ElastiCache::ReplicationGroup');
  const isolatedSubnetIds = network.vpc.isolatedSubnets.map((s) => cfn(stack, s.subnetId));

  it('creates a Valkey 8 replication group in cluster mode with 3 shards of 1 replica', () => {
    expect(replicationGroup).toMatchObject({
      ClusterMode: 'enabled',
      Engine: 'valkey',
      EngineVersion: '8.0',
      CacheParameterGroupName: 'default.valkey8.cluster.on',
      CacheNodeType: 'cache.t4g.small',
      NumNodeGroups: 3,
      ReplicasPerNodeGroup: 1,
      AutoMinorVersionUpgrade: true,
      ReplicationGroupId: 'slotwatchtest',
      ReplicationGroupDescription: expect.stringContaining('cluster mode') as unknown,
    });
    expect(cluster.replicationGroupId).toBe('slotwatchtest');
  });

  it('is Multi-AZ with automatic failover', () => {
    expect(replicationGroup).toMatchObject({
      MultiAZEnabled: true,
      AutomaticFailoverEnabled: true,
    });
  });

  it('requires TLS for every connection', () => {
    expect(replicationGroup).toMatchObject({
      TransitEncryptionEnabled: true,
      TransitEncryptionMode: 'required',
    });
  });

  it('encrypts at rest with its own KMS key, which rotates', () => {
    expect(replicationGroup.AtRestEncryptionEnabled).toBe(true);
    expect(replicationGroup.KmsKeyId).toEqual(cfn(stack, cluster.encryptionKey.keyArn));
    expect(onlyResource(template, 'AWS::KMS::Key').EnableKeyRotation).toBe(true);
  });

  it('listens on a non-default port', () => {
    expect(replicationGroup.Port).toBe(6380);
    expect(cluster.port).toBe(6380);
  });

  it('takes the AUTH token from Secrets Manager through a dynamic reference, never a literal', () => {
    const secretId = logicalId(stack, cluster.authSecret?.secretArn);
    expect(typeof replicationGroup.AuthToken).not.toBe('string');
    expect(joined(replicationGroup.AuthToken)).toBe(
      `{{resolve:secretsmanager:<Ref:${secretId}>:SecretString:token::}}`,
    );
  });

  it('generates a JSON {"token"} secret of 16..128 characters with only the allowed specials', () => {
    const generate = onlyResource(template, 'AWS::SecretsManager::Secret')
      .GenerateSecretString as Properties;
    expect(generate).toMatchObject({
      SecretStringTemplate: '{}',
      GenerateStringKey: 'token',
      IncludeSpace: false,
      RequireEachIncludedType: true,
    });
    expect(generate.ExcludePunctuation).not.toBe(true);
    expect(generate.ExcludeNumbers).not.toBe(true);
    expect(generate.PasswordLength).toBeGreaterThanOrEqual(16);
    expect(generate.PasswordLength).toBeLessThanOrEqual(128);
    const excluded = [...(generate.ExcludeCharacters as string)];
    const disallowed = PRINTABLE_PUNCTUATION.filter((c) => !AUTH_TOKEN_SPECIALS.includes(c));
    expect(excluded).toHaveLength(disallowed.length);
    expect(new Set(excluded)).toEqual(new Set(disallowed));
  });

  it('places the cluster in a subnet group over the isolated subnets', () => {
    expect(network.vpc.isolatedSubnets).toHaveLength(2);
    const subnetGroups = resources(template, 'AWS::ElastiCache::SubnetGroup');
    const subnetGroupId = logicalId(stack, replicationGroup.CacheSubnetGroupName);
    expect(subnetGroups[subnetGroupId]?.SubnetIds).toEqual(isolatedSubnetIds);
  });

  it('gives the cluster a security group with no ingress and no outbound', () => {
    expect(replicationGroup.SecurityGroupIds).toEqual([
      cfn(stack, cluster.securityGroup.securityGroupId),
    ]);
    const groupId = logicalId(stack, cluster.securityGroup.securityGroupId);
    const group = resources(template, 'AWS::EC2::SecurityGroup')[groupId];
    expect(group?.SecurityGroupIngress).toBeUndefined();
    expect(group?.SecurityGroupEgress).toEqual([
      expect.objectContaining({
        CidrIp: '255.255.255.255/32',
        Description: 'Disallow all traffic',
      }),
    ]);
    expect(resources(template, 'AWS::EC2::SecurityGroupIngress')).toEqual({});
  });

  it('opens nothing to the world anywhere in the template', () => {
    const json = JSON.stringify(template.toJSON());
    expect(json).not.toContain('0.0.0.0/0');
    expect(json).not.toContain('::/0');
  });

  it('ships the slow log to a CloudWatch Logs group with a retention', () => {
    expect(replicationGroup.LogDeliveryConfigurations).toEqual([
      {
        LogType: 'slow-log',
        LogFormat: 'json',
        DestinationType: 'cloudwatch-logs',
        DestinationDetails: {
          CloudWatchLogsDetails: { LogGroup: cfn(stack, cluster.slowLogGroup.logGroupName) },
        },
      },
    ]);
    const slowLogId = logicalId(stack, cluster.slowLogGroup.logGroupName);
    expect(resources(template, 'AWS::Logs::LogGroup')[slowLogId]?.RetentionInDays).toBe(30);
  });

  it('exposes the configuration endpoint as host:port', () => {
    const id = stack.getLogicalId(cluster.replicationGroup);
    expect(cfn(stack, cluster.configurationEndpoint)).toEqual({
      'Fn::Join': [
        '',
        [
          { 'Fn::GetAtt': [id, 'ConfigurationEndPoint.Address'] },
          ':',
          { 'Fn::GetAtt': [id, 'ConfigurationEndPoint.Port'] },
        ],
      ],
    });
  });

  it('builds a VPC of isolated subnets only: no internet or NAT gateway, no route out', () => {
    expect(Object.values(resources(template, 'AWS::EC2::VPC'))).toEqual([
      expect.objectContaining({ CidrBlock: '10.42.0.0/16' }),
    ]);
    expect(Object.keys(resources(template, 'AWS::EC2::Subnet'))).toHaveLength(2);
    expect(resources(template, 'AWS::EC2::InternetGateway')).toEqual({});
    expect(resources(template, 'AWS::EC2::NatGateway')).toEqual({});
    expect(resources(template, 'AWS::EC2::Route')).toEqual({});
    expect(network.vpc.publicSubnets).toHaveLength(0);
    expect(network.vpc.privateSubnets).toHaveLength(0);
  });

  it('logs all VPC traffic to a CloudWatch Logs group with a retention', () => {
    expect(onlyResource(template, 'AWS::EC2::FlowLog')).toMatchObject({
      ResourceId: cfn(stack, network.vpc.vpcId),
      ResourceType: 'VPC',
      TrafficType: 'ALL',
      LogDestinationType: 'cloud-watch-logs',
      LogGroupName: cfn(stack, network.flowLogGroup.logGroupName),
    });
    const flowLogId = logicalId(stack, network.flowLogGroup.logGroupName);
    expect(resources(template, 'AWS::Logs::LogGroup')[flowLogId]?.RetentionInDays).toBe(30);
  });

  it('adds Secrets Manager and CloudWatch interface endpoints with private DNS', () => {
    const endpoints = Object.values(resources(template, 'AWS::EC2::VPCEndpoint'));
    expect(endpoints.map((endpoint) => joined(endpoint.ServiceName)).sort()).toEqual([
      'com.amazonaws.<Ref:AWS::Region>.monitoring',
      'com.amazonaws.<Ref:AWS::Region>.secretsmanager',
    ]);
    for (const endpoint of endpoints) {
      expect(endpoint).toMatchObject({
        VpcEndpointType: 'Interface',
        PrivateDnsEnabled: true,
        SecurityGroupIds: [cfn(stack, network.endpointSecurityGroup.securityGroupId)],
        SubnetIds: isolatedSubnetIds,
      });
    }
  });

  it('leaves the endpoint security group closed until access is allowed', () => {
    const groupId = logicalId(stack, network.endpointSecurityGroup.securityGroupId);
    const group = resources(template, 'AWS::EC2::SecurityGroup')[groupId];
    expect(group).toBeDefined();
    expect(group?.SecurityGroupIngress).toBeUndefined();
  });
});

describe('wiring a probe', () => {
  it('admits the probe to the endpoints on 443 and to the cluster on its port, nothing else', () => {
    // Prepare
    const { stack, network, cluster } = build({ port: 7000 });
    const probe = new ec2.SecurityGroup(stack, 'Probe', {
      vpc: network.vpc,
      description: 'The probe function',
      allowAllOutbound: false,
    });

    // Act
    network.allowEndpointAccessFrom(probe);
    cluster.connections.allowDefaultPortFrom(probe);

    // Assess
    const template = Template.fromStack(stack);
    const ingress = Object.values(resources(template, 'AWS::EC2::SecurityGroupIngress'));
    const rule = (group: ec2.ISecurityGroup, port: number): Properties => ({
      GroupId: cfn(stack, group.securityGroupId),
      SourceSecurityGroupId: cfn(stack, probe.securityGroupId),
      IpProtocol: 'tcp',
      FromPort: port,
      ToPort: port,
    });
    expect(ingress).toHaveLength(2);
    expect(ingress).toEqual(
      expect.arrayContaining([
        expect.objectContaining(rule(network.endpointSecurityGroup, 443)),
        expect.objectContaining(rule(cluster.securityGroup, 7000)),
      ]),
    );
  });
});

describe('CacheCluster options', () => {
  const replicationGroupOf = (stack: Stack): Properties =>
    onlyResource(Template.fromStack(stack), 'AWS::ElastiCache::ReplicationGroup');

  it('derives the Redis 7 cluster-on parameter group', () => {
    const { stack } = build({ engine: 'redis' });
    expect(replicationGroupOf(stack)).toMatchObject({
      Engine: 'redis',
      EngineVersion: '7.1',
      CacheParameterGroupName: 'default.redis7.cluster.on',
    });
  });

  it('derives the parameter group from the major of an explicit version', () => {
    const { stack } = build({ engine: 'valkey', engineVersion: '7.2' });
    expect(replicationGroupOf(stack).CacheParameterGroupName).toBe('default.valkey7.cluster.on');
  });

  it.each([
    ['Slotwatch--Demo-Stack', 'slotwatch-demo-stack'],
    ['Slotwatch-' + 'x'.repeat(29) + '-Tail', 'slotwatch-' + 'x'.repeat(29)],
  ])('makes the stack name %s into the replication group id %s', (stackName, expected) => {
    const { cluster } = build({}, {}, new App(), stackName);
    expect(cluster.replicationGroupId).toBe(expected);
  });

  it('uses an explicit replication group id', () => {
    const { stack, cluster } = build({ replicationGroupId: 'probe-target-1' });
    expect(replicationGroupOf(stack).ReplicationGroupId).toBe('probe-target-1');
    expect(cluster.replicationGroupId).toBe('probe-target-1');
  });

  it('adds only the interface endpoints asked for', () => {
    const { stack } = build({}, { interfaceEndpoints: ['elasticache', 'secretsmanager'] });
    const endpoints = resources(Template.fromStack(stack), 'AWS::EC2::VPCEndpoint');
    expect(
      Object.values(endpoints)
        .map((endpoint) => joined(endpoint.ServiceName))
        .sort(),
    ).toEqual([
      'com.amazonaws.<Ref:AWS::Region>.elasticache',
      'com.amazonaws.<Ref:AWS::Region>.secretsmanager',
    ]);
  });

  it('adds interface endpoints to a bring-your-own VPC', () => {
    // Prepare
    const stack = new Stack(new App(), 'Byo');
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
      vpcId: 'vpc-0123456789abcdef0',
      availabilityZones: ['eu-west-1a', 'eu-west-1b'],
      isolatedSubnetIds: ['subnet-0aaaaaaaaaaaaaaaa', 'subnet-0bbbbbbbbbbbbbbbb'],
    });

    // Act
    const { securityGroup, endpoints } = CacheNetwork.addInterfaceEndpoints(
      stack,
      'Endpoints',
      vpc,
      { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      ['secretsmanager', 'monitoring', 'monitoring'],
    );

    // Assess
    const template = Template.fromStack(stack);
    expect(Object.keys(endpoints).sort()).toEqual(['monitoring', 'secretsmanager']);
    const created = Object.values(resources(template, 'AWS::EC2::VPCEndpoint'));
    expect(created).toHaveLength(2);
    for (const endpoint of created) {
      expect(endpoint).toMatchObject({
        VpcId: 'vpc-0123456789abcdef0',
        PrivateDnsEnabled: true,
        SubnetIds: ['subnet-0aaaaaaaaaaaaaaaa', 'subnet-0bbbbbbbbbbbbbbbb'],
        SecurityGroupIds: [cfn(stack, securityGroup.securityGroupId)],
      });
    }
    expect(resources(template, 'AWS::EC2::SecurityGroupIngress')).toEqual({});
  });
});

describe('prop validation', () => {
  it.each<[string, Partial<CacheClusterProps>, RegExp]>([
    ['shards 0', { shards: 0 }, /shards must be an integer in 1\.\.500.*got 0/],
    ['shards 501', { shards: 501 }, /shards must be an integer in 1\.\.500.*got 501/],
    ['shards 1.5', { shards: 1.5 }, /shards must be an integer/],
    [
      'replicasPerShard 0',
      { replicasPerShard: 0 },
      /replicasPerShard must be an integer in 1\.\.5 \(Multi-AZ and automatic failover need a replica in every shard\), got 0/,
    ],
    ['replicasPerShard 6', { replicasPerShard: 6 }, /replicasPerShard .*got 6/],
    ['port 6379', { port: 6379 }, /port must not be 6379: the default Redis port/],
    ['port 0', { port: 0 }, /port must be an integer in 1\.\.65535, got 0/],
    ['port 65536', { port: 65536 }, /port must be an integer in 1\.\.65535, got 65536/],
    ['an upper-case id', { replicationGroupId: 'Slotwatch' }, /replicationGroupId .*'Slotwatch'/],
    ['an id with _', { replicationGroupId: 'slot_watch' }, /replicationGroupId/],
    ['an id ending in -', { replicationGroupId: 'slotwatch-' }, /replicationGroupId/],
    ['an id with --', { replicationGroupId: 'slot--watch' }, /replicationGroupId/],
    ['an id of 41 chars', { replicationGroupId: 'a'.repeat(41) }, /replicationGroupId/],
    ['an id starting with a digit', { replicationGroupId: '1slot' }, /replicationGroupId/],
    [
      'redis 6.2',
      { engine: 'redis', engineVersion: '6.2' },
      /engineVersion must be a literal redis version of 7 or later.*got '6\.2'/,
    ],
    ['a version that is no number', { engineVersion: 'latest' }, /engineVersion .*'latest'/],
  ])('rejects %s', (_case, props, message) => {
    expect(() => build(props)).toThrow(message);
  });

  it.each([
    [1, /maxAzs must be an integer of at least 2 .*got 1/],
    [2.5, /maxAzs must be an integer of at least 2 .*got 2\.5/],
  ])('rejects maxAzs %s', (maxAzs, message) => {
    expect(() => build({}, { maxAzs })).toThrow(message);
  });

  it('accepts the bounds: 1 shard, 5 replicas', () => {
    expect(() => build({ shards: 1, replicasPerShard: 5 })).not.toThrow();
  });

  it('skips validation of unresolved tokens', () => {
    // Prepare
    const stack = new Stack(new App(), 'Tokens');
    const network = new CacheNetwork(stack, 'Network');
    const parameter = (id: string): number =>
      new CfnParameter(stack, id, { type: 'Number' }).valueAsNumber;

    // Act
    const cluster = new CacheCluster(stack, 'Cache', {
      vpc: network.vpc,
      subnets: network.subnets,
      shards: parameter('Shards'),
      replicasPerShard: parameter('Replicas'),
      port: parameter('Port'),
      replicationGroupId: new CfnParameter(stack, 'Id').valueAsString,
    });

    // Assess
    expect(
      onlyResource(Template.fromStack(stack), 'AWS::ElastiCache::ReplicationGroup'),
    ).toMatchObject({
      NumNodeGroups: { Ref: 'Shards' },
      ReplicasPerNodeGroup: { Ref: 'Replicas' },
      Port: { Ref: 'Port' },
      ReplicationGroupId: { Ref: 'Id' },
    });
    expect(cfn(stack, cluster.port)).toEqual({ Ref: 'Port' });
  });
});

describe('cdk-nag AwsSolutions', () => {
  const outdirs: string[] = [];
  afterEach(() => {
    for (const dir of outdirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  function newApp(): App {
    const outdir = mkdtempSync(join(tmpdir(), 'slotwatch-cache-cluster-nag-'));
    outdirs.push(outdir);
    return new App({ outdir });
  }

  it('finds nothing in the network and the cluster wired to a probe', () => {
    // Prepare
    const app = newApp();
    const { stack, network, cluster } = build({}, {}, app);
    const probe = new ec2.SecurityGroup(stack, 'Probe', {
      vpc: network.vpc,
      description: 'The probe function',
      allowAllOutbound: false,
    });
    network.allowEndpointAccessFrom(probe);
    cluster.connections.allowDefaultPortFrom(probe);

    // Act
    const findings = checkWithNag(app);

    // Assess
    expect(findings).toEqual([]);
  });

  it('sees a finding in a security group open to the world', () => {
    // Prepare
    const app = newApp();
    const stack = new Stack(app, 'NonCompliant');
    const { vpc } = new CacheNetwork(stack, 'Network');
    const open = new ec2.SecurityGroup(stack, 'Open', { vpc, description: 'Open to the world' });
    open.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(6380));

    // Act
    const findings = checkWithNag(app);

    // Assess
    expect(findings).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^AwsSolutions-EC23 at NonCompliant\/Open\/Resource/),
      ]),
    );
  });
});

describe('CacheCluster with IAM users', () => {
  const { stack, cluster } = build({ iamUsers: { probe: 'on ~slotwatch:* -@all +ping' } });
  const template = Template.fromStack(stack);

  it('names each user after its replication group and role, in a group with a disabled default', () => {
    expect(cluster.iamUserIds).toEqual({ probe: 'slotwatchtest-probe' });
    expect(cluster.authSecret).toBeUndefined();
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    template.hasResourceProperties('AWS::ElastiCache::User', {
      UserId: 'slotwatchtest-probe',
      UserName: 'slotwatchtest-probe',
      AuthenticationMode: { Type: 'iam' },
      AccessString: 'on ~slotwatch:* -@all +ping',
    });
    template.hasResourceProperties('AWS::ElastiCache::User', {
      UserName: 'default',
      AccessString: DISABLED_DEFAULT_ACCESS_STRING,
    });
    expect(DISABLED_DEFAULT_ACCESS_STRING.split(' ')[0]).toBe('off');
  });

  it('creates the users before their group, and the group before the replication group', () => {
    const groups = template.findResources('AWS::ElastiCache::UserGroup');
    const [groupId, group] = Object.entries(groups)[0] ?? [];
    const userIds = Object.keys(template.findResources('AWS::ElastiCache::User'));
    expect((group as { DependsOn: string[] }).DependsOn.sort()).toEqual(userIds.sort());
    const replicationGroup = Object.values(
      template.findResources('AWS::ElastiCache::ReplicationGroup'),
    )[0] as { DependsOn: string[] };
    expect(replicationGroup.DependsOn).toContain(groupId);
  });

  it('finds nothing with cdk-nag once AUTH tokens are replaced by the user group', () => {
    const app = new App();
    build({ iamUsers: { probe: 'on ~slotwatch:* -@all +ping' } }, {}, app);
    expect(checkWithNag(app)).toEqual([]);
  });

  it.each<[string, Record<string, string>, RegExp]>([
    [
      'a role that makes a bad id',
      { probe_user: 'on -@all' },
      /"slotwatchtest-probe_user" is not a valid ElastiCache id/,
    ],
    [
      'a user that is off',
      { probe: 'off -@all' },
      /access string of slotwatchtest-probe must start with "on"/,
    ],
  ])('rejects %s', (_case, iamUsers, message) => {
    expect(() => build({ iamUsers })).toThrow(message);
  });

  it('rejects a user named default, twice the same user, or none', () => {
    const stack = new Stack(new App(), 'Users');
    const users = (list: { userId: string; accessString: string }[], id: string) =>
      new CacheUsers(stack, id, { userGroupId: 'orders-users', users: list });
    expect(() => users([{ userId: 'Default', accessString: 'on' }], 'A')).toThrow(
      /"Default" is taken/,
    );
    expect(() =>
      users(
        [
          { userId: 'probe', accessString: 'on' },
          { userId: 'PROBE', accessString: 'on' },
        ],
        'B',
      ),
    ).toThrow(/"PROBE" is taken/);
    expect(() => users([], 'C')).toThrow('CacheUsers needs at least one user');
  });
});
