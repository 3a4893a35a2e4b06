import { describe, expect, it } from 'vitest';
import { ContextError, drillFunctionTimeoutSeconds, parseSettings } from '../../infra/settings.js';

const BYO = {
  clusterEndpoint: 'clustercfg.orders.abc123.use1.cache.amazonaws.com:6379',
  vpcId: 'vpc-0123456789abcdef0',
  subnetIds: 'subnet-0123456789abcdef0,subnet-0fedcba9876543210',
  clusterSecurityGroupId: 'sg-0123456789abcdef0',
  authSecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:orders-auth-AbCdEf',
};

const parse = (context: Record<string, unknown>) => parseSettings((key) => context[key]);

function contextError(run: () => unknown): ContextError {
  try {
    run();
  } catch (error) {
    if (error instanceof ContextError) return error;
    throw error;
  }
  throw new Error('expected a ContextError');
}

describe('parseSettings', () => {
  it('defaults to a new Valkey cluster of 3 shards x 1 replica, probed every minute through endpoints', () => {
    expect(parse({})).toEqual({
      stackPrefix: 'Slotwatch',
      auth: 'token',
      cluster: {
        mode: 'create',
        engine: 'valkey',
        nodeType: 'cache.t4g.small',
        shards: 3,
        replicasPerShard: 1,
        port: 6380,
      },
      probe: {
        scheduleMinutes: 1,
        sweepsPerInvocation: 1,
        sweepIntervalMs: 10_000,
        highResolution: false,
        metricsSink: 'cloudwatch',
        perNodeMetrics: 'all',
        namespace: 'Slotwatch',
        timeoutMs: 1000,
        deadlineMs: 10_000,
        memoryMb: 256,
      },
      networkPath: 'endpoints',
      drill: false,
    });
  });

  it("sizes the probe's memory, and so its CPU, to the cluster it creates", () => {
    // Prepare: 3x1, 50x1 (100 nodes), 80x2 (240), 250x1 (500); an existing cluster; an override.
    const sizes = [
      parse({}),
      parse({ shards: 50 }),
      parse({ shards: 80, replicasPerShard: 2 }),
      parse({ shards: 250 }),
    ].map((settings) => settings.probe.memoryMb);

    // Assess
    expect(sizes).toEqual([256, 256, 512, 1024]);
    expect(parse(BYO).probe.memoryMb).toBe(256);
    expect(parse({ shards: 250, probeMemoryMb: '2048' }).probe.memoryMb).toBe(2048);
  });

  it('reads command-line strings and cdk.json values alike', () => {
    const fromCli = parse({
      shards: '12',
      replicasPerShard: '2',
      engine: 'redis',
      engineVersion: '7.1',
      drill: 'true',
      highResolution: 'true',
    });
    const fromJson = parse({
      shards: 12,
      replicasPerShard: 2,
      engine: 'redis',
      engineVersion: '7.1',
      drill: true,
      highResolution: true,
    });
    expect(fromCli).toEqual(fromJson);
    expect(fromCli.cluster).toMatchObject({
      mode: 'create',
      engine: 'redis',
      engineVersion: '7.1',
      shards: 12,
      replicasPerShard: 2,
    });
    expect(fromCli.drill).toBe(true);
  });

  it('switches to an existing cluster when its keys are given', () => {
    const settings = parse({
      ...BYO,
      availabilityZones: 'us-east-1a,us-east-1b',
      replicationGroupId: 'orders',
    });
    expect(settings.cluster).toEqual({
      mode: 'existing',
      endpoint: BYO.clusterEndpoint,
      port: 6379,
      vpcId: BYO.vpcId,
      subnetIds: ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'],
      availabilityZones: ['us-east-1a', 'us-east-1b'],
      securityGroupId: BYO.clusterSecurityGroupId,
      authSecretArn: BYO.authSecretArn,
      replicationGroupId: 'orders',
    });
  });

  it.each<[string, Record<string, unknown>, string, string]>([
    [
      'a shard count of zero',
      { shards: '0' },
      'shards',
      'context shards must be a whole number from 1 to 500, got "0"',
    ],
    [
      'no replica',
      { replicasPerShard: 0 },
      'replicasPerShard',
      'context replicasPerShard must be a whole number from 1 to 5, got "0"',
    ],
    [
      'an unknown engine',
      { engine: 'memcached' },
      'engine',
      'context engine must be one of valkey, redis, got "memcached"',
    ],
    [
      'a bad node type',
      { nodeType: 't4g.small' },
      'nodeType',
      'context nodeType must be an ElastiCache node type such as cache.t4g.small, got "t4g.small"',
    ],
    [
      'a non-boolean drill flag',
      { drill: 'yes' },
      'drill',
      'context drill must be true or false, got "yes"',
    ],
    [
      'an unknown sink',
      { metricsSink: 'none' },
      'metricsSink',
      'context metricsSink must be one of cloudwatch, emf, got "none"',
    ],
    [
      'an unknown network path',
      { networkPath: 'igw' },
      'networkPath',
      'context networkPath must be one of endpoints, nat, got "igw"',
    ],
    [
      'a bad e-mail',
      { alarmEmail: 'oncall' },
      'alarmEmail',
      'context alarmEmail must be an e-mail address, got "oncall"',
    ],
    [
      'a reserved namespace',
      { namespace: 'AWS/ElastiCache' },
      'namespace',
      'context namespace must be a CloudWatch namespace not starting with AWS/, got "AWS/ElastiCache"',
    ],
    [
      'sweeps that overrun the schedule',
      { sweepsPerInvocation: 7, sweepIntervalMs: 10_000 },
      'sweepsPerInvocation',
      'context sweepsPerInvocation (7) x sweepIntervalMs (10000) leaves the last sweep no time within the 58 s function timeout of a 1-minute schedule',
    ],
    [
      'too little memory',
      { probeMemoryMb: '64' },
      'probeMemoryMb',
      'context probeMemoryMb must be a whole number from 128 to 10240, got "64"',
    ],
    [
      'a timeout not below the deadline',
      { probeTimeoutMs: 5000, probeDeadlineMs: 5000 },
      'probeTimeoutMs',
      'context probeTimeoutMs (5000) must be below probeDeadlineMs (5000)',
    ],
    [
      'half of the existing-cluster keys',
      { clusterEndpoint: BYO.clusterEndpoint },
      'vpcId',
      'to probe an existing cluster, set every one of clusterEndpoint, vpcId, subnetIds, clusterSecurityGroupId, authSecretArn; missing: vpcId, subnetIds, clusterSecurityGroupId, authSecretArn',
    ],
    [
      'one subnet',
      { ...BYO, subnetIds: 'subnet-0123456789abcdef0' },
      'subnetIds',
      'context subnetIds must name at least two subnets (two AZs), comma-separated',
    ],
    [
      'a bad subnet id',
      { ...BYO, subnetIds: 'subnet-1,subnet-0123456789abcdef0' },
      'subnetIds',
      'context subnetIds: "subnet-1" is not a subnet id',
    ],
    [
      'a bad secret ARN',
      { ...BYO, authSecretArn: 'orders-auth' },
      'authSecretArn',
      'context authSecretArn must be a Secrets Manager secret ARN, got "orders-auth"',
    ],
    [
      'zones that do not match the subnets',
      { ...BYO, availabilityZones: 'us-east-1a' },
      'availabilityZones',
      'context availabilityZones must name one zone per subnet (2), got 1',
    ],
    [
      'a drill schedule naming both days',
      { drillSchedule: '0 10 * * TUE *' },
      'drillSchedule',
      'context drillSchedule must be an EventBridge cron expression such as "0 10 ? * TUE *" (minute hour day-of-month month day-of-week year): exactly one of day-of-month and day-of-week must be ?, got "0 10 * * TUE *"',
    ],
    [
      'a drill every five minutes',
      { drill: 'true', drillSchedule: 'cron(*/5 10 ? * TUE *)' },
      'drillSchedule',
      'context drillSchedule must be an EventBridge cron expression such as "0 10 ? * TUE *" (minute hour day-of-month month day-of-week year): the minute must be a single number (the drill runs at most once a day), got "cron(*/5 10 ? * TUE *)"',
    ],
    [
      'a drill schedule without a year',
      { drillSchedule: '0 10 ? * TUE' },
      'drillSchedule',
      'context drillSchedule must be an EventBridge cron expression such as "0 10 ? * TUE *" (minute hour day-of-month month day-of-week year): 5 fields instead of 6, got "0 10 ? * TUE"',
    ],
    [
      'a drill at hour 25',
      { drillSchedule: '0 25 ? * TUE *' },
      'drillSchedule',
      'context drillSchedule must be an EventBridge cron expression such as "0 10 ? * TUE *" (minute hour day-of-month month day-of-week year): the hour must be from 0 to 23, got "0 25 ? * TUE *"',
    ],
    [
      'a drill schedule with a bad month',
      { drillSchedule: '0 10 ? J@N TUE *' },
      'drillSchedule',
      'context drillSchedule must be an EventBridge cron expression such as "0 10 ? * TUE *" (minute hour day-of-month month day-of-week year): the month field "J@N" is not valid, got "0 10 ? J@N TUE *"',
    ],
    [
      'an unknown time zone',
      { drillTimeZone: 'Mars/Olympus_Mons' },
      'drillTimeZone',
      'context drillTimeZone must be an IANA time zone such as Europe/Berlin or UTC, got "Mars/Olympus_Mons"',
    ],
    [
      'a time zone in the wrong case',
      { drillTimeZone: 'europe/berlin' },
      'drillTimeZone',
      'context drillTimeZone must be spelt as in the IANA time zone database, got "europe/berlin" (did you mean "Europe/Berlin"?)',
    ],
    [
      'a drill time limit too short to see a failover',
      { drillTimeLimitMs: '30000' },
      'drillTimeLimitMs',
      'context drillTimeLimitMs must be a whole number from 60000 to 840000, got "30000"',
    ],
    [
      'a drill time limit beyond what a Lambda function can run',
      { drillTimeLimitMs: 900_000 },
      'drillTimeLimitMs',
      'context drillTimeLimitMs must be a whole number from 60000 to 840000, got "900000"',
    ],
    [
      'a drill of an existing cluster without its replication group',
      { ...BYO, drill: true },
      'replicationGroupId',
      'context drill=true on an existing cluster needs replicationGroupId, the ElastiCache replication group whose shard the drill fails over (TestFailover); for clustercfg.orders.abc123.use1.cache.amazonaws.com:6379 it is probably orders',
    ],
  ])('rejects %s, naming the key', (_case, context, key, message) => {
    const error = contextError(() => parse(context));
    expect(error.key).toBe(key);
    expect(error.message).toBe(message);
  });

  it('fits six sweeps ten seconds apart into a one-minute schedule, but not with a long timeout', () => {
    expect(
      parse({ sweepsPerInvocation: 6, sweepIntervalMs: 10_000 }).probe.sweepsPerInvocation,
    ).toBe(6);
    expect(() =>
      parse({ sweepsPerInvocation: 6, sweepIntervalMs: 10_000, probeTimeoutMs: 3000 }),
    ).toThrow(ContextError);
  });

  it('schedules the drill on Tuesdays at 10:00 UTC with a five-minute limit by default', () => {
    expect(parse({ drill: 'true' }).drillSettings).toEqual({
      schedule: { minute: '0', hour: '10', month: '*', weekDay: 'TUE', year: '*' },
      timeZone: 'UTC',
      timeLimitMs: 300_000,
    });
  });

  it('reads the drill schedule, time zone and time limit from context', () => {
    const settings = parse({
      drill: true,
      drillSchedule: 'cron(30 9 1 * ? *)',
      drillTimeZone: 'Europe/Berlin',
      drillTimeLimitMs: '720000',
    });
    expect(settings.drillSettings).toEqual({
      schedule: { minute: '30', hour: '9', day: '1', month: '*', year: '*' },
      timeZone: 'Europe/Berlin',
      timeLimitMs: 720_000,
    });
    expect(
      parse({ drill: true, drillSchedule: '15 14 ? JAN-DEC MON#1 2026-2030' }).drillSettings
        ?.schedule,
    ).toEqual({ minute: '15', hour: '14', month: 'JAN-DEC', weekDay: 'MON#1', year: '2026-2030' });
    expect(parse({ drill: true, drillTimeZone: 'Etc/UTC' }).drillSettings?.timeZone).toBe(
      'Etc/UTC',
    );
  });

  it('leaves the drill settings out when the drill is off, but still checks them', () => {
    const settings = parse({ drillSchedule: '0 6 ? * WED *' });
    expect(settings.drill).toBe(false);
    expect(settings).not.toHaveProperty('drillSettings');
    expect(() => parse({ drillTimeZone: 'Nowhere/Special' })).toThrow(ContextError);
  });

  it('drills an existing cluster once its replication group is named', () => {
    const settings = parse({ ...BYO, drill: 'true', replicationGroupId: 'orders' });
    expect(settings.drill).toBe(true);
    expect(settings.cluster).toMatchObject({ mode: 'existing', replicationGroupId: 'orders' });
    expect(settings.drillSettings?.timeLimitMs).toBe(300_000);
  });

  it('fits the drill time limit and its margin into the drill function timeout', () => {
    expect(drillFunctionTimeoutSeconds(300_000)).toBe(600);
    expect(drillFunctionTimeoutSeconds(540_000)).toBe(600);
    expect(drillFunctionTimeoutSeconds(720_000)).toBe(780);
    expect(drillFunctionTimeoutSeconds(840_000)).toBe(900);
  });
});

describe('context auth', () => {
  const IAM_BYO = {
    clusterEndpoint: BYO.clusterEndpoint,
    vpcId: BYO.vpcId,
    subnetIds: BYO.subnetIds,
    clusterSecurityGroupId: BYO.clusterSecurityGroupId,
    replicationGroupId: 'orders',
    probeUserId: 'orders-probe',
  };

  it('is iam with -c auth=iam, for a cluster this app creates', () => {
    const settings = parse({ auth: 'iam', drill: 'true' });

    expect(settings.auth).toBe('iam');
    expect(settings.cluster.mode).toBe('create');
  });

  it('probes an existing cluster as its IAM user, without a secret', () => {
    const settings = parse({ auth: 'iam', ...IAM_BYO, drill: 'true', drillUserId: 'orders-drill' });

    expect(settings.cluster).toMatchObject({
      mode: 'existing',
      replicationGroupId: 'orders',
      probeUserId: 'orders-probe',
      drillUserId: 'orders-drill',
    });
    expect(settings.cluster).not.toHaveProperty('authSecretArn');
  });

  it.each<[string, Record<string, unknown>, string, string]>([
    [
      'an unknown mode',
      { auth: 'rbac' },
      'auth',
      'context auth must be one of token, iam, got "rbac"',
    ],
    [
      'an existing cluster without its probe user',
      { auth: 'iam', ...IAM_BYO, probeUserId: undefined },
      'probeUserId',
      'to probe an existing cluster with auth=iam, set every one of clusterEndpoint, vpcId, subnetIds, clusterSecurityGroupId, replicationGroupId, probeUserId; missing: probeUserId',
    ],
    [
      'an existing cluster without its replication group',
      { auth: 'iam', ...IAM_BYO, replicationGroupId: undefined },
      'replicationGroupId',
      'to probe an existing cluster with auth=iam, set every one of clusterEndpoint, vpcId, subnetIds, clusterSecurityGroupId, replicationGroupId, probeUserId; missing: replicationGroupId',
    ],
    [
      'a user id that ElastiCache would refuse',
      { auth: 'iam', ...IAM_BYO, probeUserId: 'orders_probe' },
      'probeUserId',
      'context probeUserId must be an ElastiCache user id (IAM authentication: the user id is also its name), got "orders_probe"',
    ],
    [
      'a drill of an existing cluster without its own user',
      { auth: 'iam', ...IAM_BYO, drill: 'true' },
      'drillUserId',
      'context drill=true with auth=iam on an existing cluster needs drillUserId: the user (IAM authentication) the drill connects as, with the drill access string from infra/access-string.ts',
    ],
    [
      'token mode on an existing cluster without the secret',
      { ...BYO, authSecretArn: undefined },
      'authSecretArn',
      'to probe an existing cluster, set every one of clusterEndpoint, vpcId, subnetIds, clusterSecurityGroupId, authSecretArn; missing: authSecretArn',
    ],
  ])('rejects %s', (_case, context, key, message) => {
    const error = contextError(() => parse(context));

    expect(error.key).toBe(key);
    expect(error.message).toBe(message);
  });
});
