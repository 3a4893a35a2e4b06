/**
 * The `elasticache` trigger: ElastiCache's own TestFailover on the node group (console: shard)
 * that holds the drilled slots, so the drill measures a failover as ElastiCache performs it.
 *
 * `check` refuses before anything is touched: a group that is missing, busy, not cluster-mode
 * enabled or without automatic failover, a shard no node group matches or that has no replica,
 * or a TestFailover allowance already used up. `fire` calls TestFailover and follows the group's
 * status and events until ElastiCache reports the failover completed; the engine watches the
 * cluster itself. Facts about the API come from the ElastiCache API reference (TestFailover,
 * DescribeEvents, NodeGroupMember) and error codes from the SDK's model.
 */
import { setTimeout as delay } from 'node:timers/promises';
import {
  DescribeEventsCommand,
  DescribeReplicationGroupsCommand,
  ElastiCacheClient,
  TestFailoverCommand,
  type DescribeEventsCommandInput,
  type Event,
  type NodeGroup,
  type NodeGroupMember,
  type ReplicationGroup,
} from '@aws-sdk/client-elasticache';
import {
  formatSlotRanges,
  normalizeSlotRanges,
  type SlotRange,
  type Topology,
} from '../../cluster/topology.js';
import { SlotwatchError } from '../../errors.js';
import type { Trigger, TriggerContext } from '../types.js';

/**
 * "A customer can use this operation to test automatic failover on up to 15 shards (called node
 * groups in the ElastiCache API and Amazon CLI) in any rolling 24-hour period." (TestFailover)
 */
export const TEST_FAILOVER_LIMIT = { calls: 15, windowMs: 24 * 60 * 60_000 } as const;

/**
 * The automatic-failover events TestFailover's reference lists, in the order they occur: the
 * call (replication group), the failover (cache cluster, then replication group), then the old
 * primary's "Recovering cache nodes …" and "Finished recovery for cache nodes …" (cache cluster).
 * Older editions say "master node" where newer ones say "primary node".
 */
export const FAILOVER_EVENT = {
  testFailoverCalled: /^Test Failover API called for node group (\S+)/,
  failoverCompleted: /^Failover from (?:primary|master) node (\S+) to replica node (\S+) completed/,
  recoveryFinished: /^Finished recovery for cache nodes /,
} as const;

/** Timeouts and retries of the default client: a dead endpoint costs at most ~3 x 5 s a call. */
export const ELASTICACHE_CLIENT_DEFAULTS = {
  connectionTimeoutMs: 1000,
  requestTimeoutMs: 5000,
  maxAttempts: 3,
} as const;

export const ELASTICACHE_TRIGGER_DEFAULTS = {
  /** A failover takes tens of seconds to minutes; DescribeEvents is rate-limited per account. */
  pollIntervalMs: 5000,
  /** DescribeEvents' largest MaxRecords. */
  eventPageSize: 100,
  /** Pages read to count TestFailover calls: up to 2,000 replication-group events in 24 hours. */
  budgetPages: 20,
  /** Pages read per poll while following: the events since the call are few. */
  followPages: 5,
  /** Polls in a row that may fail before `fire` stops following and throws. */
  pollFailures: 3,
  /** Events are read from this long before our own clock's call time: the clocks may differ. */
  clockSkewMs: 60_000,
} as const;

export const DRILL_TRIGGER_FAILURES = [
  'refused',
  'throttled',
  'test-failover-not-available',
  'invalid-state',
  'replication-group-not-found',
  'node-group-not-found',
  'access-denied',
  'timeout',
  'failed',
] as const;
export type DrillTriggerFailure = (typeof DRILL_TRIGGER_FAILURES)[number];

/** A trigger would not or could not cause the failover; the message says why and what to do. */
export class DrillTriggerError extends SlotwatchError {
  constructor(
    readonly failure: DrillTriggerFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface ElastiCacheTriggerOptions {
  /** The replication group (console: cluster) that serves the drilled cluster. */
  readonly replicationGroupId: string;
  /** @default createElastiCacheClient(), created once per trigger */
  readonly client?: ElastiCacheClient;
  /** The clock for the 24-hour allowance and the call time. @default () => new Date() */
  readonly now?: () => Date;
  /** @default ELASTICACHE_TRIGGER_DEFAULTS.pollIntervalMs */
  readonly pollIntervalMs?: number;
}

/** A Trigger whose passing check also says which node group the shard maps to, and how. */
export interface ElastiCacheTrigger extends Trigger {
  check(
    context: TriggerContext,
  ): Promise<
    { ok: true; nodeGroupId: string; matchedBy: MatchedBy } | { ok: false; reason: string }
  >;
}

/**
 * A client with bounded timeouts. Region, credentials and endpoint come from the standard SDK
 * configuration (AWS_REGION, AWS_ENDPOINT_URL_ELASTICACHE, ...), never from slotwatch's own.
 */
export function createElastiCacheClient(): ElastiCacheClient {
  return new ElastiCacheClient({
    maxAttempts: ELASTICACHE_CLIENT_DEFAULTS.maxAttempts,
    retryMode: 'standard',
    requestHandler: {
      connectionTimeout: ELASTICACHE_CLIENT_DEFAULTS.connectionTimeoutMs,
      requestTimeout: ELASTICACHE_CLIENT_DEFAULTS.requestTimeoutMs,
      // Without this the handler only warns when requestTimeout passes, and an endpoint that
      // accepts the connection but never answers would hold the drill.
      throwOnRequestTimeout: true,
    },
  });
}

export function elastiCacheTrigger(options: ElastiCacheTriggerOptions): ElastiCacheTrigger {
  const api = new ElastiCacheApi(
    options.client ?? createElastiCacheClient(),
    options.replicationGroupId,
  );
  const now = options.now ?? (() => new Date());
  const pollIntervalMs = options.pollIntervalMs ?? ELASTICACHE_TRIGGER_DEFAULTS.pollIntervalMs;
  return {
    name: 'elasticache',
    async check(context) {
      try {
        const drilled = await locate(api, context);
        await checkAllowance(api, now(), context.signal);
        return { ok: true, nodeGroupId: drilled.nodeGroupId, matchedBy: drilled.matchedBy };
      } catch (error) {
        if (error instanceof DrillTriggerError) return { ok: false, reason: error.message };
        throw error;
      }
    },
    async fire(context) {
      if (context.signal.aborted) return;
      try {
        // Located again: the group may have changed since check, and fire needs the node group.
        const drilled = await locate(api, context);
        const calledAt = now().getTime();
        const answer = await api.testFailover(drilled.nodeGroupId, context.signal);
        context.log(
          'trigger',
          `elasticache: TestFailover accepted for node group ${drilled.nodeGroupId} of ` +
            `replication group ${api.replicationGroupId} (group ${answer.Status ?? 'status unknown'})`,
        );
        await follow(api, context, drilled, { calledAt, pollIntervalMs });
      } catch (error) {
        if (context.signal.aborted) return;
        throw error;
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Locating the node group, and the checks before anything is touched
// ---------------------------------------------------------------------------------------------

export type MatchedBy = 'slots' | 'hosts';

export type NodeGroupMatch =
  | { readonly ok: true; readonly nodeGroup: NodeGroup; readonly matchedBy: MatchedBy }
  | { readonly ok: false; readonly reason: string };

/** The node group being drilled, as located by `locate`. */
interface Drilled {
  readonly nodeGroupId: string;
  readonly matchedBy: MatchedBy;
  /** Cache cluster ids of the node group's members: the sources of its cache-cluster events. */
  readonly members: ReadonlySet<string>;
  /** The primary's cache cluster id, where DescribeReplicationGroups names it. */
  readonly primary: string | undefined;
}

async function locate(api: ElastiCacheApi, context: TriggerContext): Promise<Drilled> {
  const group = await api.describeGroup(context.signal);
  refuseUnlessReady(group, api.replicationGroupId);
  const match = matchNodeGroup(context.topology, context.shard, group.NodeGroups ?? []);
  if (!match.ok) throw refusal(match.reason);
  const { nodeGroup } = match;
  const nodeGroupId = nodeGroup.NodeGroupId ?? '';
  refuseUnlessFailoverable(nodeGroup, nodeGroupId, api.replicationGroupId);
  return {
    nodeGroupId,
    matchedBy: match.matchedBy,
    members: new Set(membersOf(nodeGroup).flatMap((m) => m.CacheClusterId ?? [])),
    primary: primaryOf(nodeGroup),
  };
}

function refuseUnlessReady(group: ReplicationGroup, id: string): void {
  if (group.Status !== 'available') {
    throw refusal(
      `replication group ${id} is ${group.Status ?? 'in an unknown state'}, not available: wait ` +
        `until \`aws elasticache describe-replication-groups --replication-group-id ${id}\` ` +
        'shows it available, then run the drill again',
    );
  }
  if (group.ClusterEnabled !== true) {
    throw refusal(
      `replication group ${id} is not cluster-mode enabled: the elasticache trigger fails over ` +
        'one shard of a cluster-mode-enabled group',
    );
  }
  if (group.AutomaticFailover !== 'enabled') {
    throw refusal(
      `replication group ${id} has automatic failover ${group.AutomaticFailover ?? 'unset'}: ` +
        'TestFailover needs it enabled (modify the group with --automatic-failover-enabled)',
    );
  }
}

function refuseUnlessFailoverable(nodeGroup: NodeGroup, nodeGroupId: string, id: string): void {
  if (nodeGroup.Status !== undefined && nodeGroup.Status !== 'available') {
    throw refusal(
      `node group ${nodeGroupId} of replication group ${id} is ${nodeGroup.Status}, not ` +
        'available: wait until it is available, then run the drill again',
    );
  }
  if (membersOf(nodeGroup).length < 2) {
    throw refusal(
      `node group ${nodeGroupId} of replication group ${id} has no replica to promote: add a ` +
        'replica (aws elasticache increase-replica-count) or drill another shard',
    );
  }
}

/**
 * The node group that holds `shardId`: the one whose Slots equal the shard's slots, else the one
 * whose members are the shard's hosts. Pure.
 */
export function matchNodeGroup(
  topology: Topology,
  shardId: string,
  nodeGroups: readonly NodeGroup[],
): NodeGroupMatch {
  const shard = topology.shards.find((s) => s.id === shardId);
  if (shard === undefined) {
    return { ok: false, reason: `shard ${shardId} is not in the cluster's topology` };
  }
  const wanted = shard.slots.length > 0 ? slotKey(shard.slots) : undefined;
  const bySlots = nodeGroups.find((ng) => wanted !== undefined && nodeGroupSlotKey(ng) === wanted);
  if (bySlots !== undefined) return { ok: true, nodeGroup: bySlots, matchedBy: 'slots' };

  const hosts = new Set(
    topology.nodes
      .filter((node) => shard.nodeIds.includes(node.id) && node.host !== '')
      .map((node) => node.host.toLowerCase()),
  );
  const byHosts = nodeGroups.filter((ng) => membersOf(ng).some((m) => isMemberHost(m, hosts)));
  const [only] = byHosts;
  if (byHosts.length === 1 && only !== undefined) {
    return { ok: true, nodeGroup: only, matchedBy: 'hosts' };
  }
  const known = nodeGroups.map((ng) => `${ng.NodeGroupId ?? '?'} (${ng.Slots ?? 'no slots'})`);
  const problem =
    byHosts.length > 1
      ? `the hosts of shard ${shardId} are members of several node groups`
      : `no node group holds shard ${shardId} (slots ${wanted ?? 'none'})`;
  return {
    ok: false,
    reason:
      `${problem}; the replication group's node groups: ${known.join(', ') || 'none'}. Check ` +
      'that the replication group id names the cluster being drilled',
  };
}

/**
 * A member is one of `hosts` when its ReadEndpoint is. Cluster-mode-enabled groups leave
 * ReadEndpoint out (the reference documents it for cluster-mode-disabled groups), but their node
 * endpoints are named after the member's cache cluster id (`<cluster-id>.<group>.<id>.<region>
 * .cache.amazonaws.com`), so nodes that announce hostnames still match.
 */
function isMemberHost(member: NodeGroupMember, hosts: ReadonlySet<string>): boolean {
  const address = member.ReadEndpoint?.Address?.toLowerCase();
  if (address !== undefined && hosts.has(address)) return true;
  const prefix = member.CacheClusterId === undefined ? undefined : `${member.CacheClusterId}.`;
  return prefix !== undefined && [...hosts].some((host) => host.startsWith(prefix.toLowerCase()));
}

/** `0-5460` or `0-100,200-300` (a single slot without a dash); undefined when malformed. Pure. */
export function parseNodeGroupSlots(text: string): SlotRange[] | undefined {
  const ranges: SlotRange[] = [];
  for (const part of text.split(',')) {
    const match = /^\s*(\d+)(?:-(\d+))?\s*$/.exec(part);
    if (match === null) return undefined;
    const start = Number(match[1]);
    const end = Number(match[2] ?? match[1]);
    if (start > end) return undefined;
    ranges.push({ start, end });
  }
  return ranges;
}

function nodeGroupSlotKey(nodeGroup: NodeGroup): string | undefined {
  const slots = nodeGroup.Slots === undefined ? undefined : parseNodeGroupSlots(nodeGroup.Slots);
  return slots === undefined ? undefined : slotKey(slots);
}

/** Equal slot sets give equal keys, however they were split or ordered. */
function slotKey(slots: readonly SlotRange[]): string {
  return formatSlotRanges(normalizeSlotRanges(slots));
}

function membersOf(nodeGroup: NodeGroup | undefined): NodeGroupMember[] {
  return nodeGroup?.NodeGroupMembers ?? [];
}

/** CurrentRole is documented for cluster-mode-disabled groups only: often there is none. */
function primaryOf(nodeGroup: NodeGroup | undefined): string | undefined {
  return membersOf(nodeGroup).find((m) => m.CurrentRole === 'primary')?.CacheClusterId;
}

// ---------------------------------------------------------------------------------------------
// The TestFailover allowance
// ---------------------------------------------------------------------------------------------

export interface TestFailoverAllowance {
  /** TestFailover calls within the rolling window ending at `now`. */
  readonly used: number;
  /** Set when none is left: when enough calls have aged out of the window for one more. */
  readonly nextAllowedAt?: Date;
}

/** Counts the "Test Failover API called …" events of the rolling 24 hours before `now`. Pure. */
export function testFailoverAllowance(events: readonly Event[], now: Date): TestFailoverAllowance {
  const windowStart = now.getTime() - TEST_FAILOVER_LIMIT.windowMs;
  const times = events
    .filter((e) => FAILOVER_EVENT.testFailoverCalled.test(e.Message ?? ''))
    .flatMap((e) => (e.Date === undefined ? [] : [e.Date.getTime()]))
    .filter((time) => time > windowStart)
    .sort((a, b) => a - b);
  // One more call fits once all but (limit - 1) of them have left the window.
  const mustExpire = times[times.length - TEST_FAILOVER_LIMIT.calls];
  if (mustExpire === undefined) return { used: times.length };
  return { used: times.length, nextAllowedAt: new Date(mustExpire + TEST_FAILOVER_LIMIT.windowMs) };
}

/**
 * The limit is the customer's, not the group's, so every replication group's calls count: all
 * that DescribeEvents can show, which is this region's.
 */
async function checkAllowance(api: ElastiCacheApi, now: Date, signal: AbortSignal): Promise<void> {
  const { events, complete } = await api.events(
    {
      SourceType: 'replication-group',
      StartTime: new Date(now.getTime() - TEST_FAILOVER_LIMIT.windowMs),
      EndTime: now,
    },
    ELASTICACHE_TRIGGER_DEFAULTS.budgetPages,
    signal,
  );
  const allowance = testFailoverAllowance(events, now);
  if (allowance.nextAllowedAt !== undefined) {
    throw refusal(
      `the TestFailover allowance is used up: ${allowance.used} calls in the last 24 hours in ` +
        `this account and region, and ElastiCache allows ${TEST_FAILOVER_LIMIT.calls} node ` +
        `groups per rolling 24 hours; the next call is allowed after ` +
        allowance.nextAllowedAt.toISOString(),
    );
  }
  if (!complete) {
    throw refusal(
      'could not count the TestFailover calls of the last 24 hours: there are more than ' +
        `${ELASTICACHE_TRIGGER_DEFAULTS.budgetPages * ELASTICACHE_TRIGGER_DEFAULTS.eventPageSize} ` +
        'replication-group events; check the allowance by hand (aws elasticache describe-events)',
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Following the failover
// ---------------------------------------------------------------------------------------------

interface Progress {
  failedOver: boolean;
  recovered: boolean;
  available: boolean;
  status: string | undefined;
  primary: string | undefined;
  /** Events already logged. */
  readonly seen: Set<string>;
}

async function follow(
  api: ElastiCacheApi,
  context: TriggerContext,
  drilled: Drilled,
  timing: { calledAt: number; pollIntervalMs: number },
): Promise<void> {
  const since = timing.calledAt - ELASTICACHE_TRIGGER_DEFAULTS.clockSkewMs;
  const progress: Progress = {
    failedOver: false,
    recovered: false,
    available: false,
    status: undefined,
    primary: drilled.primary,
    seen: new Set(),
  };
  let failures = 0;
  while (!context.signal.aborted) {
    await delay(timing.pollIntervalMs, undefined, { signal: context.signal }).catch(() => {});
    if (context.signal.aborted) break;
    try {
      await poll(api, context, drilled, progress, since);
      failures = 0;
    } catch (error) {
      if (context.signal.aborted) break;
      failures = countPollFailure(error, failures, context, drilled);
    }
    // ElastiCache takes the next TestFailover once the old primary has recovered; a group that
    // is available again after the failover says the same where that event lags.
    if (progress.failedOver && (progress.recovered || progress.available)) {
      context.log(
        'trigger',
        `elasticache: failover of node group ${drilled.nodeGroupId} completed` +
          (progress.primary === undefined ? '' : `; primary ${progress.primary}`),
      );
      return;
    }
  }
}

function countPollFailure(
  error: unknown,
  failures: number,
  context: TriggerContext,
  drilled: Drilled,
): number {
  if (!(error instanceof DrillTriggerError)) throw error;
  context.log('trigger', `elasticache: could not follow the failover: ${error.message}`);
  if (failures + 1 < ELASTICACHE_TRIGGER_DEFAULTS.pollFailures) return failures + 1;
  throw new DrillTriggerError(
    error.failure,
    `TestFailover was accepted for node group ${drilled.nodeGroupId}, but ElastiCache could not ` +
      `be followed (${failures + 1} failed polls in a row); the failover may still be under ` +
      `way: ${error.message}`,
    { cause: error },
  );
}

async function poll(
  api: ElastiCacheApi,
  context: TriggerContext,
  drilled: Drilled,
  progress: Progress,
  since: number,
): Promise<void> {
  const group = await api.describeGroup(context.signal);
  noteGroup(group, drilled, progress, context);
  const { events } = await api.events(
    { StartTime: new Date(since) },
    ELASTICACHE_TRIGGER_DEFAULTS.followPages,
    context.signal,
  );
  const ours = events
    .filter((event) => concerns(event, drilled, api.replicationGroupId))
    .sort((a, b) => timeOf(a) - timeOf(b));
  for (const event of ours) logOnce(event, progress, context);
  noteEvents(ours, drilled, progress, since);
}

function noteGroup(
  group: ReplicationGroup,
  drilled: Drilled,
  progress: Progress,
  context: TriggerContext,
): void {
  const nodeGroup = group.NodeGroups?.find((ng) => ng.NodeGroupId === drilled.nodeGroupId);
  const status = `replication group ${group.Status ?? '?'}, node group ${nodeGroup?.Status ?? '?'}`;
  if (status !== progress.status) context.log('trigger', `elasticache: ${status}`);
  progress.status = status;
  progress.available =
    group.Status === 'available' && (nodeGroup?.Status ?? 'available') === 'available';
  const primary = primaryOf(nodeGroup);
  if (primary !== undefined && primary !== progress.primary) {
    context.log('trigger', `elasticache: node group ${drilled.nodeGroupId} primary is ${primary}`);
    progress.failedOver ||= progress.primary !== undefined;
    progress.primary = primary;
  }
}

function logOnce(event: Event, progress: Progress, context: TriggerContext): void {
  const key = `${timeOf(event)} ${event.SourceIdentifier ?? ''} ${event.Message ?? ''}`;
  if (progress.seen.has(key)) return;
  progress.seen.add(key);
  context.log('trigger', `elasticache event (${event.SourceIdentifier ?? '?'}): ${event.Message}`);
}

/**
 * What the events say about this failover. Only events from our call's own "Test Failover API
 * called" event on count: an earlier drill's events of the same node group can fall inside the
 * clock-skew margin before it.
 */
function noteEvents(events: readonly Event[], drilled: Drilled, progress: Progress, since: number) {
  const calls = events.filter((e) => FAILOVER_EVENT.testFailoverCalled.test(e.Message ?? ''));
  const anchor = Math.max(since, ...calls.map(timeOf));
  for (const event of events.filter((e) => timeOf(e) >= anchor)) {
    const message = event.Message ?? '';
    const completed = FAILOVER_EVENT.failoverCompleted.exec(message);
    const newPrimary = completed?.[2];
    if (completed !== null) progress.failedOver = true;
    if (newPrimary !== undefined && drilled.members.has(newPrimary)) progress.primary = newPrimary;
    if (FAILOVER_EVENT.recoveryFinished.test(message)) progress.recovered = true;
  }
}

function timeOf(event: Event): number {
  return event.Date?.getTime() ?? 0;
}

/** Events of the node group's own cache clusters, and the group's events about this node group. */
function concerns(event: Event, drilled: Drilled, replicationGroupId: string): boolean {
  const source = event.SourceIdentifier ?? '';
  if (event.SourceType === 'cache-cluster') return drilled.members.has(source);
  if (event.SourceType !== 'replication-group' || source !== replicationGroupId) return false;
  const message = event.Message ?? '';
  const called = FAILOVER_EVENT.testFailoverCalled.exec(message);
  if (called !== null) return called[1] === drilled.nodeGroupId;
  const completed = FAILOVER_EVENT.failoverCompleted.exec(message);
  if (completed !== null)
    return [completed[1], completed[2]].some((id) => drilled.members.has(id ?? ''));
  return true;
}

// ---------------------------------------------------------------------------------------------
// The three API calls, every error mapped to a DrillTriggerError
// ---------------------------------------------------------------------------------------------

type ActionName = 'DescribeReplicationGroups' | 'DescribeEvents' | 'TestFailover';

class ElastiCacheApi {
  constructor(
    readonly client: ElastiCacheClient,
    readonly replicationGroupId: string,
  ) {}

  async describeGroup(signal: AbortSignal): Promise<ReplicationGroup> {
    const command = new DescribeReplicationGroupsCommand({
      ReplicationGroupId: this.replicationGroupId,
    });
    const answer = await this.#send('DescribeReplicationGroups', undefined, () =>
      this.client.send(command, { abortSignal: signal }),
    );
    const group = answer.ReplicationGroups?.find(
      (g) => g.ReplicationGroupId === this.replicationGroupId,
    );
    if (group === undefined) {
      throw new DrillTriggerError(
        'replication-group-not-found',
        `ElastiCache did not describe replication group ${this.replicationGroupId}: ` +
          advice(
            'replication-group-not-found',
            'DescribeReplicationGroups',
            this.replicationGroupId,
          ),
      );
    }
    return group;
  }

  async testFailover(nodeGroupId: string, signal: AbortSignal): Promise<ReplicationGroup> {
    const command = new TestFailoverCommand({
      ReplicationGroupId: this.replicationGroupId,
      NodeGroupId: nodeGroupId,
    });
    const answer = await this.#send('TestFailover', nodeGroupId, () =>
      this.client.send(command, { abortSignal: signal }),
    );
    return answer.ReplicationGroup ?? {};
  }

  /** Up to `maxPages` pages; `complete` is false when more were left unread. */
  async events(
    input: Omit<DescribeEventsCommandInput, 'Marker' | 'MaxRecords'>,
    maxPages: number,
    signal: AbortSignal,
  ): Promise<{ events: Event[]; complete: boolean }> {
    const events: Event[] = [];
    let marker: string | undefined;
    for (let page = 0; page < maxPages; page++) {
      const command = new DescribeEventsCommand({
        ...input,
        MaxRecords: ELASTICACHE_TRIGGER_DEFAULTS.eventPageSize,
        Marker: marker,
      });
      const answer = await this.#send('DescribeEvents', undefined, () =>
        this.client.send(command, { abortSignal: signal }),
      );
      events.push(...(answer.Events ?? []));
      marker = answer.Marker;
      if (marker === undefined || marker === '') return { events, complete: true };
    }
    return { events, complete: false };
  }

  async #send<T>(
    action: ActionName,
    nodeGroupId: string | undefined,
    call: () => Promise<T>,
  ): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw toDrillTriggerError(error, action, this.replicationGroupId, nodeGroupId);
    }
  }
}

/** Wire codes (the SDK's `Code`, or its error name) without the `Fault` suffix the names add. */
const FAILURE_BY_CODE: Readonly<Record<string, DrillTriggerFailure>> = {
  APICallRateForCustomerExceeded: 'throttled',
  Throttling: 'throttled',
  ThrottlingException: 'throttled',
  TestFailoverNotAvailable: 'test-failover-not-available',
  InvalidReplicationGroupState: 'invalid-state',
  InvalidCacheClusterState: 'invalid-state',
  ReplicationGroupNotFound: 'replication-group-not-found',
  NodeGroupNotFound: 'node-group-not-found',
  AccessDenied: 'access-denied',
  AccessDeniedException: 'access-denied',
  UnauthorizedOperation: 'access-denied',
  TimeoutError: 'timeout',
};

export function toDrillTriggerError(
  error: unknown,
  action: ActionName,
  replicationGroupId: string,
  nodeGroupId?: string,
): DrillTriggerError {
  const code = codeOf(error);
  const failure = FAILURE_BY_CODE[code.replace(/Fault$/, '')] ?? 'failed';
  const target =
    nodeGroupId === undefined
      ? `replication group ${replicationGroupId}`
      : `node group ${nodeGroupId} of replication group ${replicationGroupId}`;
  return new DrillTriggerError(
    failure,
    `ElastiCache ${action} for ${target} failed (${code}: ${firstLine(error)}): ` +
      advice(failure, action, replicationGroupId, nodeGroupId),
    { cause: error },
  );
}

function advice(
  failure: DrillTriggerFailure,
  action: ActionName,
  replicationGroupId: string,
  nodeGroupId = 'the node group',
): string {
  const { requestTimeoutMs, maxAttempts } = ELASTICACHE_CLIENT_DEFAULTS;
  switch (failure) {
    case 'throttled':
      return (
        "ElastiCache is throttling this account's API calls, or its TestFailover allowance " +
        `(${TEST_FAILOVER_LIMIT.calls} node groups per rolling 24 hours) is used up; wait, ` +
        'then run the drill again'
      );
    case 'test-failover-not-available':
      return (
        `TestFailover cannot run on ${nodeGroupId} now: an earlier test failover or node ` +
        'replacement may still be under way, the 24-hour allowance may be used up, or AWS may ' +
        'be blocking the API during an operational event; wait for "Finished recovery for ' +
        `cache nodes" in the events of ${replicationGroupId}, then try again`
      );
    case 'invalid-state':
      return (
        `replication group ${replicationGroupId} is not available (a modification, failover or ` +
        'maintenance is under way); wait until `aws elasticache describe-replication-groups ' +
        `--replication-group-id ${replicationGroupId}\` shows it available`
      );
    case 'replication-group-not-found':
      return (
        `there is no replication group ${replicationGroupId} in this account and region; check ` +
        'the replication group id and AWS_REGION'
      );
    case 'node-group-not-found':
      return (
        `${nodeGroupId} is no longer in replication group ${replicationGroupId} (was the ` +
        'cluster resharded?); run the drill again so that the shard is mapped afresh'
      );
    case 'access-denied':
      return (
        `the drill's IAM identity may not call elasticache:${action}; grant it ` +
        'elasticache:DescribeReplicationGroups, elasticache:DescribeEvents and ' +
        `elasticache:TestFailover on replication group ${replicationGroupId}`
      );
    case 'timeout':
      return (
        `ElastiCache did not answer within ${requestTimeoutMs} ms in ${maxAttempts} attempts; ` +
        'check network access to the ElastiCache API endpoint'
      );
    case 'refused':
    case 'failed':
      return `check the AWS credentials and region in use, and the events of ${replicationGroupId}`;
  }
}

function codeOf(error: unknown): string {
  const code = (error as { Code?: unknown } | null)?.Code;
  if (typeof code === 'string' && code !== '') return code;
  return error instanceof Error ? error.name : 'Error';
}

const MAX_MESSAGE_LENGTH = 200;
const ACCESS_KEY_ID = /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g;

/**
 * The first line of the error's message, shortened, access key ids masked: AWS messages can quote
 * the signed request after the first line, and this message ends up in drill reports and logs.
 */
function firstLine(error: unknown): string {
  const raw = error instanceof Error ? error.message : String(error);
  const line = (raw.split('\n')[0] ?? '').replace(ACCESS_KEY_ID, '[redacted]');
  return line.length > MAX_MESSAGE_LENGTH ? `${line.slice(0, MAX_MESSAGE_LENGTH)}…` : line;
}

function refusal(reason: string): DrillTriggerError {
  return new DrillTriggerError('refused', reason);
}
