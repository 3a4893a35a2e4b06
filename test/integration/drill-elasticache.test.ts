/**
 * The `elasticache` drill trigger with the real AWS SDK against a local server that speaks
 * ElastiCache's Query protocol: mapping the shard to its node group, the checks before anything
 * is touched, TestFailover and following it to completion, every error code, and a hanging API.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Topology, TopologyNode } from '../../lambda/cluster/topology.js';
import {
  DrillTriggerError,
  elastiCacheTrigger,
  type DrillTriggerFailure,
  type ElastiCacheTrigger,
} from '../../lambda/drill/triggers/elasticache.js';
import type { TimelineEventName, TriggerContext } from '../../lambda/drill/types.js';
import { applyEnv } from '../support/fake-aws.js';
import {
  startFakeElastiCache,
  testFailoverEvent,
  type Action,
  type FakeElastiCache,
  type FakeElastiCacheOptions,
  type FakeNodeGroup,
  type Fault,
} from '../support/fake-elasticache.js';
import { nodeId } from '../support/reports.js';

const GROUP = 'orders';
const HOUR = 60 * 60_000;
const SLOTS = ['0-5460', '5461-10922', '10923-16383'] as const;
const MIDDLE = SLOTS[1];

/** Shard n (1-3) has a primary at 10.0.n.1 and a replica at 10.0.n.2, as node groups 000n. */
function nodeGroups(host = (n: number, member: number) => `10.0.${n}.${member}`): FakeNodeGroup[] {
  return SLOTS.map((slots, i) => ({
    id: `000${i + 1}`,
    slots,
    members: [1, 2].map((member) => ({
      cacheClusterId: `${GROUP}-000${i + 1}-00${member}`,
      address: host(i + 1, member),
      role: member === 1 ? 'primary' : 'replica',
    })),
  }));
}

/** The cluster's own view of the same three shards, built by hand. */
function topology(host = (n: number, member: number) => `10.0.${n}.${member}`): Topology {
  const shards = SLOTS.map((id, i) => {
    const [start = 0, end = 0] = id.split('-').map(Number);
    return {
      id,
      slots: [{ start, end }],
      primaryId: nodeId(i * 2 + 1),
      nodeIds: [nodeId(i * 2 + 1), nodeId(i * 2 + 2)],
    };
  });
  const nodes = shards.flatMap((shard, i) =>
    [1, 2].map((member): TopologyNode => ({
      id: nodeId(i * 2 + member),
      host: host(i + 1, member),
      port: 6379,
      address: `${host(i + 1, member)}:6379`,
      role: member === 1 ? 'primary' : 'replica',
      shard: shard.id,
      ...(member === 2 && { primaryId: nodeId(i * 2 + 1) }),
      health: 'online',
      flags: [member === 1 ? 'master' : 'slave'],
    })),
  );
  return { source: 'CLUSTER SHARDS', shards, nodes, migrations: [], handshakeNodes: 0 };
}

interface Drill {
  readonly context: TriggerContext;
  readonly logged: string[];
  readonly controller: AbortController;
}

function drill(shard: string = MIDDLE, cluster: Topology = topology()): Drill {
  const logged: string[] = [];
  const controller = new AbortController();
  const context: TriggerContext = {
    topology: cluster,
    shard,
    promoted: Promise.resolve(),
    signal: controller.signal,
    limitAt: Date.now() + 60_000,
    log: (event: TimelineEventName, detail?: string) => {
      logged.push(`${event}: ${detail ?? ''}`);
    },
    // The trigger works through the ElastiCache API alone, never on the nodes.
    send: () => Promise.reject(new Error('the elasticache trigger sent a command to a node')),
  };
  return { context, logged, controller };
}

let fake: FakeElastiCache;
let restoreEnv: (() => void) | undefined;

/** A fake with `options`, and the AWS_* variables pointing at it until the test ends. */
async function start(options: Partial<FakeElastiCacheOptions> = {}): Promise<FakeElastiCache> {
  fake = await startFakeElastiCache({
    replicationGroupId: GROUP,
    nodeGroups: nodeGroups(),
    failoverDelayMs: 200,
    recoveryDelayMs: 200,
    ...options,
  });
  // The SDK reads region, credentials and endpoint at a client's first request, so the variables
  // stay set for the whole test and are put back after it; other files never see them.
  restoreEnv = applyEnv(fake.env);
  return fake;
}

/** The trigger with its default client, built now that the AWS_* variables point at the fake. */
const newTrigger = (): ElastiCacheTrigger =>
  elastiCacheTrigger({ replicationGroupId: GROUP, pollIntervalMs: 50 });

/** The refusal's reason; fails the test when the check passed. */
function reasonOf(verdict: { ok: true } | { ok: false; reason: string }): string {
  expect(verdict.ok).toBe(false);
  return verdict.ok ? '' : verdict.reason;
}

const calls = (action: Action) => fake.requests.filter((r) => r.action === action);

beforeEach(() => {
  restoreEnv = undefined;
});

afterEach(async () => {
  restoreEnv?.();
  await fake?.close();
});

describe('elasticache trigger: check', () => {
  it('passes for an available group and maps the shard to its node group by slots', async () => {
    // Prepare
    await start();
    const { context } = drill(MIDDLE);

    // Act
    const verdict = await newTrigger().check(context);

    // Assess
    expect(verdict).toEqual({ ok: true, nodeGroupId: '0002', matchedBy: 'slots' });
    expect(calls('DescribeReplicationGroups')[0]?.params).toMatchObject({
      Version: '2015-02-02',
      ReplicationGroupId: GROUP,
    });
    const events = calls('DescribeEvents')[0]?.params ?? {};
    expect(events).toMatchObject({ SourceType: 'replication-group', MaxRecords: '100' });
    const window = Date.parse(events.EndTime ?? '') - Date.parse(events.StartTime ?? '');
    expect(window).toBe(24 * HOUR);
    expect(calls('TestFailover')).toHaveLength(0);
  });

  it('maps by host names when the slots differ, also for members without ReadEndpoint', async () => {
    // Prepare: cluster-mode-enabled groups describe members by id only; their node endpoints
    // start with the member's cache cluster id. The slot ranges disagree (a resharding).
    const host = (n: number, member: number) =>
      `${GROUP}-000${n}-00${member}.${GROUP}.abc123.use1.cache.amazonaws.com`;
    const groups = nodeGroups(host).map((ng) =>
      ng.id === '0002' ? { ...ng, slots: '5461-10000' } : ng,
    );
    await start({ nodeGroups: groups, memberDetails: false });

    // Act
    const verdict = await newTrigger().check(drill(MIDDLE, topology(host)).context);

    // Assess
    expect(verdict).toEqual({ ok: true, nodeGroupId: '0002', matchedBy: 'hosts' });
  });

  it('refuses when 15 TestFailover calls fall in the last 24 hours, saying when the next is allowed', async () => {
    // Prepare: the limit is the account's, so another group's calls count too; one call 25
    // hours ago does not.
    await start();
    const now = Date.now();
    const oldest = new Date(now - 23 * HOUR);
    fake.addEvents(
      testFailoverEvent('other-group', '0001', new Date(now - 25 * HOUR)),
      testFailoverEvent('other-group', '0001', oldest),
      ...Array.from({ length: 14 }, (_, i) =>
        testFailoverEvent(GROUP, `000${(i % 3) + 1}`, new Date(now - (20 - i) * HOUR)),
      ),
    );

    // Act
    const verdict = await newTrigger().check(drill().context);

    // Assess
    const reason = reasonOf(verdict);
    expect(reason).toContain('TestFailover allowance is used up: 15 calls in the last 24 hours');
    expect(reason).toContain(
      `next call is allowed after ${new Date(oldest.getTime() + 24 * HOUR).toISOString()}`,
    );
    expect(calls('TestFailover')).toHaveLength(0);
  });

  it('passes with 14 calls in the last 24 hours, reading every page of events', async () => {
    // Prepare: 250 other events make three pages of 100.
    await start();
    const now = Date.now();
    fake.addEvents(
      ...Array.from({ length: 14 }, (_, i) =>
        testFailoverEvent(GROUP, '0001', new Date(now - (i + 1) * HOUR)),
      ),
      ...Array.from({ length: 250 }, (_, i) => ({
        sourceIdentifier: GROUP,
        sourceType: 'replication-group' as const,
        message: 'Snapshot succeeded for snapshot with ID automatic.orders',
        date: new Date(now - i * 60_000),
      })),
    );

    // Act
    const verdict = await newTrigger().check(drill().context);

    // Assess
    expect(verdict.ok).toBe(true);
    const pages = calls('DescribeEvents');
    expect(pages).toHaveLength(3);
    expect(pages.map((p) => p.params.Marker)).toEqual([undefined, '100', '200']);
  });

  it('refuses a group that is not available, and touches nothing', async () => {
    // Prepare
    await start();
    fake.setStatus('modifying');

    // Act
    const verdict = await newTrigger().check(drill().context);

    // Assess
    expect(reasonOf(verdict)).toContain(
      `replication group ${GROUP} is modifying, not available: wait`,
    );
    expect(calls('TestFailover')).toHaveLength(0);
  });

  it.each([
    ['cluster mode disabled', { clusterEnabled: false }, 'is not cluster-mode enabled'],
    ['automatic failover off', { automaticFailover: 'disabled' }, 'automatic failover disabled'],
    [
      'a node group without replica',
      { nodeGroups: nodeGroups().map((ng) => ({ ...ng, members: ng.members.slice(0, 1) })) },
      'node group 0002 of replication group orders has no replica to promote',
    ],
  ] as const)('refuses %s', async (_name, options, expected) => {
    // Prepare
    await start(options);

    // Act
    const verdict = await newTrigger().check(drill().context);

    // Assess
    expect(reasonOf(verdict)).toContain(expected);
  });

  it('refuses a shard the topology does not have, and one no node group holds', async () => {
    // Prepare
    await start({ nodeGroups: nodeGroups().filter((ng) => ng.id !== '0002') });
    const trigger = newTrigger();

    // Act
    const unknown = await trigger.check(drill('noslots').context);
    const unheld = await trigger.check(drill(MIDDLE).context);

    // Assess
    expect(unknown).toEqual({
      ok: false,
      reason: "shard noslots is not in the cluster's topology",
    });
    expect(reasonOf(unheld)).toContain(
      `no node group holds shard ${MIDDLE} (slots ${MIDDLE}); the replication group's node ` +
        'groups: 0001 (0-5460), 0003 (10923-16383)',
    );
  });
});

describe('elasticache trigger: fire', () => {
  it('calls TestFailover on the node group and returns once ElastiCache reports it completed', async () => {
    // Prepare
    await start();
    const { context, logged } = drill(MIDDLE);
    const started = performance.now();

    // Act
    await newTrigger().fire(context);

    // Assess
    expect(calls('TestFailover').map((r) => r.params)).toEqual([
      {
        Action: 'TestFailover',
        Version: '2015-02-02',
        ReplicationGroupId: GROUP,
        NodeGroupId: '0002',
      },
    ]);
    expect(fake.primaryOf('0002')).toBe('orders-0002-002');
    expect(fake.primaryOf('0001')).toBe('orders-0001-001');
    expect(performance.now() - started).toBeLessThan(5000);
    expect(logged[0]).toBe(
      'trigger: elasticache: TestFailover accepted for node group 0002 of replication group orders (group modifying)',
    );
    expect(logged).toContain(
      'trigger: elasticache event (orders): Failover from primary node orders-0002-001 to replica node orders-0002-002 completed',
    );
    expect(logged).toContain(
      'trigger: elasticache event (orders-0002-001): Finished recovery for cache nodes 0001',
    );
    expect(logged.at(-1)).toBe(
      'trigger: elasticache: failover of node group 0002 completed; primary orders-0002-002',
    );
  });

  it('follows members without CurrentRole or ReadEndpoint by their events alone', async () => {
    // Prepare
    await start({ memberDetails: false });
    const { context, logged } = drill('10923-16383');

    // Act
    await newTrigger().fire(context);

    // Assess
    expect(calls('TestFailover')[0]?.params.NodeGroupId).toBe('0003');
    expect(logged).toContain(
      'trigger: elasticache event (orders-0003-001): Finished recovery for cache nodes 0001',
    );
    expect(logged.at(-1)).toBe(
      'trigger: elasticache: failover of node group 0003 completed; primary orders-0003-002',
    );
  });

  it('returns when the drill is aborted before ElastiCache reports completion', async () => {
    // Prepare
    await start({ failoverDelayMs: 60_000 });
    const { context, controller } = drill();
    setTimeout(() => controller.abort(), 300);
    const started = performance.now();

    // Act
    await newTrigger().fire(context);

    // Assess
    expect(performance.now() - started).toBeLessThan(2000);
    expect(calls('TestFailover')).toHaveLength(1);
    expect(fake.primaryOf('0002')).toBe('orders-0002-001');
  });

  it('keeps following through failed polls', async () => {
    // Prepare: fire reads events only while following, so DescribeEvents faults hit the polls.
    await start();
    fake.fail('DescribeEvents', 'APICallRateForCustomerExceeded', { times: 2 });
    const { context, logged } = drill();

    // Act
    await newTrigger().fire(context);

    // Assess
    expect(logged.filter((line) => line.includes('could not follow'))).toHaveLength(2);
    expect(logged.at(-1)).toContain('failover of node group 0002 completed');
  });

  it('gives up following after three failed polls in a row', async () => {
    // Prepare
    await start();
    fake.fail('DescribeEvents', 'AccessDenied', { times: 3 });

    // Act
    const firing = newTrigger().fire(drill().context);

    // Assess
    await expect(firing).rejects.toThrow(DrillTriggerError);
    await expect(firing).rejects.toThrow(
      /^TestFailover was accepted for node group 0002, but ElastiCache could not be followed \(3 failed polls in a row\); the failover may still be under way: ElastiCache DescribeEvents/,
    );
  });
});

describe('elasticache trigger: errors', () => {
  const cases: readonly [Fault, DrillTriggerFailure, RegExp][] = [
    [
      'APICallRateForCustomerExceeded',
      'throttled',
      /\(APICallRateForCustomerExceeded: .*wait, then run the drill again/,
    ],
    [
      'TestFailoverNotAvailableFault',
      'test-failover-not-available',
      /\(TestFailoverNotAvailableFault: .*wait for "Finished recovery for cache nodes"/,
    ],
    [
      'InvalidReplicationGroupState',
      'invalid-state',
      /\(InvalidReplicationGroupState: .*wait until `aws elasticache describe-replication-groups --replication-group-id orders` shows it available/,
    ],
    [
      'ReplicationGroupNotFoundFault',
      'replication-group-not-found',
      /\(ReplicationGroupNotFoundFault: .*check the replication group id and AWS_REGION/,
    ],
    [
      'NodeGroupNotFoundFault',
      'node-group-not-found',
      /\(NodeGroupNotFoundFault: .*run the drill again so that the shard is mapped afresh/,
    ],
    [
      'AccessDenied',
      'access-denied',
      /\(AccessDenied: .*may not call elasticache:\w+; grant it elasticache:DescribeReplicationGroups, elasticache:DescribeEvents and elasticache:TestFailover/,
    ],
  ];

  it.each(cases)(
    'TestFailover answering %s rejects fire with a DrillTriggerError',
    async (fault, failure, message) => {
      // Prepare
      await start();
      fake.fail('TestFailover', fault);

      // Act
      const firing = newTrigger().fire(drill().context);

      // Assess
      const error: unknown = await firing.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DrillTriggerError);
      expect(error).toMatchObject({ name: 'DrillTriggerError', failure });
      expect((error as Error).message).toMatch(
        /^ElastiCache TestFailover for node group 0002 of replication group orders failed/,
      );
      expect((error as Error).message).toMatch(message);
      expect(calls('TestFailover')).toHaveLength(1);
      if (failure === 'access-denied') {
        expect((error as Error).message).toContain('may not call elasticache:TestFailover;');
      }
    },
  );

  it.each(cases)(
    'DescribeReplicationGroups answering %s makes check refuse',
    async (fault, _failure, message) => {
      // Prepare
      await start();
      fake.fail('DescribeReplicationGroups', fault);

      // Act
      const verdict = await newTrigger().check(drill().context);

      // Assess
      const reason = reasonOf(verdict);
      expect(reason).toMatch(
        /^ElastiCache DescribeReplicationGroups for replication group orders failed/,
      );
      expect(reason).toMatch(message);
    },
  );

  it('masks access key ids and drops all but the first line of an AWS error message', async () => {
    // Prepare
    await start();
    fake.fail('DescribeEvents', 'AccessDenied', {
      message: 'Credential AKIAIOSFODNN7EXAMPLE is not allowed\nCanonical request: secret stuff',
    });

    // Act
    const verdict = await newTrigger().check(drill().context);

    // Assess
    const reason = reasonOf(verdict);
    expect(reason).toContain('(AccessDenied: Credential [redacted] is not allowed)');
    expect(reason).toContain('may not call elasticache:DescribeEvents');
    expect(reason).not.toContain('AKIA');
    expect(reason).not.toContain('Canonical');
  });

  it('refuses in bounded time when the ElastiCache endpoint never answers', async () => {
    // Prepare
    await start();
    fake.fail('DescribeReplicationGroups', 'hang', { times: Number.POSITIVE_INFINITY });
    const started = performance.now();

    // Act
    const verdict = await newTrigger().check(drill().context);

    // Assess: the default client's bound, 3 attempts x 5 s request timeout plus the standard
    // retry mode's short backoff.
    const reason = reasonOf(verdict);
    expect(reason).toContain('(TimeoutError: ');
    expect(reason).toContain('did not answer within 5000 ms in 3 attempts');
    expect(performance.now() - started).toBeLessThan(20_000);
    expect(calls('DescribeReplicationGroups')).toHaveLength(3);
  });
});
