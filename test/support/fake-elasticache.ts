/**
 * A local stand-in for the three ElastiCache actions the drill's `elasticache` trigger calls
 * (DescribeReplicationGroups, DescribeEvents, TestFailover), for tests that run the real SDK. It
 * speaks the AWS Query protocol: form-encoded POST bodies in, XML answers and `<ErrorResponse>`
 * errors out, in the shapes of the ElastiCache API reference (version 2015-02-02).
 *
 * It keeps one replication group. TestFailover walks it through the documented sequence of
 * events (API reference, TestFailover): the call, the failover to a replica, recovery of the old
 * primary, then `available` again. Time moves only when a request arrives (`advance`), so no
 * timer outlives a test. Point clients at it with `fake.env`: the SDK reads
 * AWS_ENDPOINT_URL_ELASTICACHE itself.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const ACTIONS = ['DescribeReplicationGroups', 'DescribeEvents', 'TestFailover'] as const;
export type Action = (typeof ACTIONS)[number];

const API_VERSION = '2015-02-02';
const NAMESPACE = `http://elasticache.amazonaws.com/doc/${API_VERSION}/`;
const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
/** DescribeEvents without StartTime or Duration: "only the events occurring within the last hour". */
const DEFAULT_EVENT_WINDOW_MS = 60 * 60_000;
/** DescribeEvents MaxRecords: default 100, minimum 20, maximum 100. */
const MAX_RECORDS = { default: 100, min: 20, max: 100 } as const;

/**
 * Scripted failures with the wire codes and HTTP statuses of the SDK's model (awsQueryError
 * traits of @aws-sdk/client-elasticache); AccessDenied is IAM's, not modelled by ElastiCache.
 */
const FAULTS = {
  APICallRateForCustomerExceeded: {
    status: 400,
    message: 'The customer has exceeded the allowed rate of API calls.',
  },
  TestFailoverNotAvailableFault: {
    status: 400,
    message: 'The TestFailover action is not available.',
  },
  InvalidReplicationGroupState: {
    status: 400,
    message: 'The requested replication group is not in the available state.',
  },
  ReplicationGroupNotFoundFault: {
    status: 404,
    message: 'The specified replication group does not exist.',
  },
  NodeGroupNotFoundFault: {
    status: 404,
    message: 'The node group specified by the NodeGroupId parameter could not be found.',
  },
  AccessDenied: {
    status: 403,
    message:
      'User: arn:aws:sts::123456789012:assumed-role/slotwatch-drill/session is not authorized ' +
      'to perform this operation',
  },
  /** Accepts the request and never answers; close() ends it. */
  hang: undefined,
} as const;
export type Fault = keyof typeof FAULTS;

export type SourceType = 'replication-group' | 'cache-cluster';

export interface FakeEvent {
  readonly sourceIdentifier: string;
  readonly sourceType: SourceType;
  readonly message: string;
  readonly date: Date;
}

export interface FakeMember {
  /** E.g. `orders-0001-001`: ElastiCache names a shard's nodes `<group>-<shard>-<node>`. */
  readonly cacheClusterId: string;
  /** The node's address as the cluster announces it (ReadEndpoint.Address). */
  readonly address: string;
  readonly role: 'primary' | 'replica';
  /** @default 6379 */
  readonly port?: number;
}

export interface FakeNodeGroup {
  readonly id: string;
  /** As ElastiCache writes it: `0-5460`, or `0-100,200-300`. */
  readonly slots: string;
  readonly members: readonly FakeMember[];
}

export interface FakeElastiCacheOptions {
  readonly replicationGroupId: string;
  readonly nodeGroups: readonly FakeNodeGroup[];
  /** @default 'available' */
  readonly status?: string;
  /** @default true */
  readonly clusterEnabled?: boolean;
  /** @default 'enabled' */
  readonly automaticFailover?: 'enabled' | 'disabled' | 'enabling' | 'disabling';
  /**
   * Whether members carry ReadEndpoint and CurrentRole. The API reference documents both as
   * applicable to cluster-mode-disabled groups only, and the CLI's cluster-mode-enabled examples
   * show members with ids and zone alone; `false` answers that way.
   * @default true
   */
  readonly memberDetails?: boolean;
  /** From TestFailover to the promotion of a replica. @default 300 */
  readonly failoverDelayMs?: number;
  /** From the promotion to the old primary's recovery and `available` again. @default 300 */
  readonly recoveryDelayMs?: number;
}

export interface RecordedQueryRequest {
  readonly action: string;
  /** The decoded form parameters, Action and Version included. */
  readonly params: Readonly<Record<string, string>>;
  readonly receivedAt: number;
  /** The HTTP status answered; undefined while (or because) the request hangs. */
  readonly status: number | undefined;
}

export interface FakeElastiCache {
  /** AWS_* variables that point the SDK here: endpoint, region, dummy credentials. */
  readonly env: Readonly<Record<string, string>>;
  readonly url: string;
  /** Every request since start (or reset), in arrival order. */
  readonly requests: readonly RecordedQueryRequest[];
  /** Every event so far, oldest first, the scripted ones included. */
  readonly events: readonly FakeEvent[];
  /** The next `times` calls of `action` answer `fault`; `message` replaces its usual text. */
  fail(action: Action, fault: Fault, options?: { times?: number; message?: string }): void;
  addEvents(...events: FakeEvent[]): void;
  /** Sets the replication group's status, as if something else were modifying it. */
  setStatus(status: string): void;
  /** The cache cluster id of the node group's current primary. */
  primaryOf(nodeGroupId: string): string | undefined;
  /** Forgets recorded requests and scripted faults; keeps the group and its events. */
  reset(): void;
  close(): Promise<void>;
}

interface Member {
  readonly cacheClusterId: string;
  readonly address: string;
  readonly port: number;
  role: 'primary' | 'replica';
}

interface NodeGroup {
  readonly id: string;
  readonly slots: string;
  readonly members: Member[];
  status: string;
}

interface Group {
  readonly id: string;
  status: string;
  readonly nodeGroups: NodeGroup[];
}

/** A test failover under way: each step happens once its time has come. */
interface Failover {
  readonly nodeGroup: NodeGroup;
  readonly promoteAt: number;
  readonly recoverAt: number;
  promoted: boolean;
}

interface ScriptedFault {
  readonly action: Action;
  readonly fault: Fault;
  readonly message: string | undefined;
  remaining: number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

interface Answer {
  readonly status: number;
  readonly xml: string;
}

export async function startFakeElastiCache(
  options: FakeElastiCacheOptions,
): Promise<FakeElastiCache> {
  const group: Group = {
    id: options.replicationGroupId,
    status: options.status ?? 'available',
    nodeGroups: options.nodeGroups.map((ng) => ({
      id: ng.id,
      slots: ng.slots,
      status: 'available',
      members: ng.members.map((m) => ({ ...m, port: m.port ?? 6379 })),
    })),
  };
  const failoverDelayMs = options.failoverDelayMs ?? 300;
  const recoveryDelayMs = options.recoveryDelayMs ?? 300;
  const describe: Describe = {
    clusterEnabled: options.clusterEnabled ?? true,
    automaticFailover: options.automaticFailover ?? 'enabled',
    memberDetails: options.memberDetails ?? true,
  };
  const requests: Mutable<RecordedQueryRequest>[] = [];
  const events: FakeEvent[] = [];
  let faults: ScriptedFault[] = [];
  let failover: Failover | undefined;

  const addEvent = (
    sourceType: SourceType,
    sourceIdentifier: string,
    message: string,
    at: number,
  ) => events.push({ sourceType, sourceIdentifier, message, date: new Date(at) });

  /** Applies every step of a running failover whose time has come, with the step's own date. */
  function advance(now: number): void {
    if (failover === undefined) return;
    const { nodeGroup } = failover;
    if (!failover.promoted && now >= failover.promoteAt) {
      failover.promoted = true;
      promote(nodeGroup, failover.promoteAt);
    }
    if (now >= failover.recoverAt) {
      recover(nodeGroup, failover.recoverAt);
      failover = undefined;
    }
  }

  /** Steps 2-4 of the documented sequence: the replica takes over, the old primary recovers. */
  function promote(nodeGroup: NodeGroup, at: number): void {
    const oldPrimary = nodeGroup.members.find((m) => m.role === 'primary');
    const newPrimary = nodeGroup.members.find((m) => m.role === 'replica');
    if (oldPrimary === undefined || newPrimary === undefined) return;
    oldPrimary.role = 'replica';
    newPrimary.role = 'primary';
    const text = `Failover from primary node ${oldPrimary.cacheClusterId} to replica node ${newPrimary.cacheClusterId} completed`;
    addEvent('cache-cluster', newPrimary.cacheClusterId, text, at);
    addEvent('replication-group', group.id, text, at);
    addEvent('cache-cluster', oldPrimary.cacheClusterId, 'Recovering cache nodes 0001', at);
  }

  /** Step 5, after which ElastiCache accepts the next TestFailover. */
  function recover(nodeGroup: NodeGroup, at: number): void {
    const recovered = nodeGroup.members.find((m) => m.role === 'replica');
    if (recovered !== undefined) {
      addEvent(
        'cache-cluster',
        recovered.cacheClusterId,
        'Finished recovery for cache nodes 0001',
        at,
      );
    }
    nodeGroup.status = 'available';
    group.status = 'available';
  }

  function testFailover(params: Record<string, string>, now: number): Answer {
    if (params.ReplicationGroupId !== group.id) return faultAnswer('ReplicationGroupNotFoundFault');
    const nodeGroup = group.nodeGroups.find((ng) => ng.id === params.NodeGroupId);
    if (nodeGroup === undefined) return faultAnswer('NodeGroupNotFoundFault');
    if (group.status !== 'available' || failover !== undefined) {
      return faultAnswer('InvalidReplicationGroupState');
    }
    group.status = 'modifying';
    nodeGroup.status = 'test-failover';
    addEvent(
      'replication-group',
      group.id,
      `Test Failover API called for node group ${nodeGroup.id}`,
      now,
    );
    failover = {
      nodeGroup,
      promoteAt: now + failoverDelayMs,
      recoverAt: now + failoverDelayMs + recoveryDelayMs,
      promoted: false,
    };
    return resultAnswer('TestFailover', replicationGroupXml(group, describe));
  }

  function describeReplicationGroups(params: Record<string, string>): Answer {
    const id = params.ReplicationGroupId;
    if (id !== undefined && id !== group.id) return faultAnswer('ReplicationGroupNotFoundFault');
    return resultAnswer(
      'DescribeReplicationGroups',
      element('ReplicationGroups', replicationGroupXml(group, describe)),
    );
  }

  function decide(action: string, params: Record<string, string>, now: number): Answer | undefined {
    if (!isAction(action)) return errorAnswer(400, 'InvalidAction', `Unknown action ${action}`);
    if (params.Version !== API_VERSION) {
      return errorAnswer(400, 'InvalidParameterValue', `Unsupported Version ${params.Version}`);
    }
    const scripted = takeFault(action);
    if (scripted !== undefined) {
      return scripted.fault === 'hang' ? undefined : faultAnswer(scripted.fault, scripted.message);
    }
    advance(now);
    switch (action) {
      case 'DescribeReplicationGroups':
        return describeReplicationGroups(params);
      case 'DescribeEvents':
        return describeEvents(events, params, now);
      case 'TestFailover':
        return testFailover(params, now);
    }
  }

  function takeFault(action: Action): ScriptedFault | undefined {
    const scripted = faults.find((f) => f.action === action && f.remaining > 0);
    if (scripted !== undefined) scripted.remaining -= 1;
    return scripted;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const params = Object.fromEntries(new URLSearchParams((await readBody(req)).toString('utf8')));
    const record: Mutable<RecordedQueryRequest> = {
      action: params.Action ?? '',
      params,
      receivedAt: Date.now(),
      status: undefined,
    };
    requests.push(record);
    const contentType = req.headers['content-type'] ?? '';
    const answer =
      req.method === 'POST' && contentType.startsWith('application/x-www-form-urlencoded')
        ? decide(record.action, params, record.receivedAt)
        : errorAnswer(400, 'MalformedQueryString', 'expected a form-encoded POST');
    if (answer === undefined) return; // a hang: the response stays open until close()
    record.status = answer.status;
    res.writeHead(answer.status, { 'content-type': 'text/xml', 'x-amzn-requestid': randomUUID() });
    res.end(answer.xml);
  }

  const server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) {
        const answer = errorAnswer(500, 'InternalFailure', `fake-elasticache: ${String(error)}`);
        res.writeHead(answer.status, { 'content-type': 'text/xml' });
        res.end(answer.xml);
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    env: {
      AWS_ENDPOINT_URL_ELASTICACHE: url,
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    },
    requests,
    events,
    fail(action, fault, { times = 1, message } = {}) {
      faults.push({ action, fault, message, remaining: times });
    },
    addEvents(...added) {
      events.push(...added);
      events.sort((a, b) => a.date.getTime() - b.date.getTime());
    },
    setStatus(status) {
      group.status = status;
    },
    primaryOf(nodeGroupId) {
      advance(Date.now());
      const nodeGroup = group.nodeGroups.find((ng) => ng.id === nodeGroupId);
      return nodeGroup?.members.find((m) => m.role === 'primary')?.cacheClusterId;
    },
    reset() {
      requests.length = 0;
      faults = [];
    },
    close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Hanging answers keep their sockets open; server.close alone would wait for them forever.
      server.closeAllConnections();
      return closed;
    },
  };
}

/** The `Test Failover API called …` event ElastiCache records for each TestFailover call. */
export function testFailoverEvent(
  replicationGroupId: string,
  nodeGroupId: string,
  date: Date,
): FakeEvent {
  return {
    sourceIdentifier: replicationGroupId,
    sourceType: 'replication-group',
    message: `Test Failover API called for node group ${nodeGroupId}`,
    date,
  };
}

// ---------------------------------------------------------------------------------------------
// DescribeEvents: filters and pagination as documented for the API
// ---------------------------------------------------------------------------------------------

function describeEvents(
  events: readonly FakeEvent[],
  params: Record<string, string>,
  now: number,
): Answer {
  const { start, end } = eventWindow(params, now);
  const matching = events
    .filter(
      (e) =>
        (params.SourceType === undefined || e.sourceType === params.SourceType) &&
        (params.SourceIdentifier === undefined || e.sourceIdentifier === params.SourceIdentifier) &&
        e.date.getTime() >= start &&
        e.date.getTime() <= end,
    )
    // Newest first, as the console and CLI list them.
    .sort((a, b) => b.date.getTime() - a.date.getTime());
  const requested = Number(params.MaxRecords ?? MAX_RECORDS.default);
  if (!Number.isInteger(requested) || requested < MAX_RECORDS.min || requested > MAX_RECORDS.max) {
    return errorAnswer(400, 'InvalidParameterValue', `MaxRecords must be 20-100, got ${requested}`);
  }
  const offset = params.Marker === undefined ? 0 : Number(params.Marker);
  const page = matching.slice(offset, offset + requested);
  const next = offset + requested < matching.length ? leaf('Marker', `${offset + requested}`) : '';
  return resultAnswer('DescribeEvents', next + element('Events', page.map(eventXml).join('')));
}

/** StartTime/EndTime (ISO 8601), else Duration minutes back from EndTime, else the last hour. */
function eventWindow(params: Record<string, string>, now: number): { start: number; end: number } {
  const end = params.EndTime === undefined ? now : Date.parse(params.EndTime);
  if (params.StartTime !== undefined) return { start: Date.parse(params.StartTime), end };
  const durationMs =
    params.Duration === undefined ? DEFAULT_EVENT_WINDOW_MS : Number(params.Duration) * 60_000;
  return { start: end - durationMs, end };
}

// ---------------------------------------------------------------------------------------------
// XML in the shapes of the SDK's model (member names from its xmlName traits)
// ---------------------------------------------------------------------------------------------

interface Describe {
  readonly clusterEnabled: boolean;
  readonly automaticFailover: string;
  readonly memberDetails: boolean;
}

function replicationGroupXml(group: Group, describe: Describe): string {
  const members = group.nodeGroups.flatMap((ng) => ng.members);
  return element(
    'ReplicationGroup',
    leaf('ReplicationGroupId', group.id) +
      leaf('Description', 'slotwatch fake') +
      leaf('Status', group.status) +
      element('PendingModifiedValues', '') +
      element('MemberClusters', members.map((m) => leaf('ClusterId', m.cacheClusterId)).join('')) +
      element('NodeGroups', group.nodeGroups.map((ng) => nodeGroupXml(ng, describe)).join('')) +
      leaf('AutomaticFailover', describe.automaticFailover) +
      leaf('MultiAZ', describe.automaticFailover === 'enabled' ? 'enabled' : 'disabled') +
      leaf('ClusterEnabled', String(describe.clusterEnabled)) +
      leaf('ClusterMode', describe.clusterEnabled ? 'enabled' : 'disabled') +
      leaf('CacheNodeType', 'cache.t4g.small') +
      leaf('Engine', 'valkey') +
      leaf('ARN', `arn:aws:elasticache:${REGION}:${ACCOUNT}:replicationgroup:${group.id}`),
  );
}

function nodeGroupXml(nodeGroup: NodeGroup, describe: Describe): string {
  const members = nodeGroup.members.map((m) =>
    element(
      'NodeGroupMember',
      leaf('CacheClusterId', m.cacheClusterId) +
        leaf('CacheNodeId', '0001') +
        (describe.memberDetails
          ? element('ReadEndpoint', leaf('Address', m.address) + leaf('Port', `${m.port}`))
          : '') +
        leaf('PreferredAvailabilityZone', `${REGION}a`) +
        (describe.memberDetails ? leaf('CurrentRole', m.role) : ''),
    ),
  );
  return element(
    'NodeGroup',
    leaf('NodeGroupId', nodeGroup.id) +
      leaf('Status', nodeGroup.status) +
      leaf('Slots', nodeGroup.slots) +
      element('NodeGroupMembers', members.join('')),
  );
}

function eventXml(event: FakeEvent): string {
  return element(
    'Event',
    leaf('SourceIdentifier', event.sourceIdentifier) +
      leaf('SourceType', event.sourceType) +
      leaf('Message', event.message) +
      leaf('Date', event.date.toISOString()),
  );
}

function resultAnswer(action: Action, resultXml: string): Answer {
  const body =
    element(`${action}Result`, resultXml) +
    element('ResponseMetadata', leaf('RequestId', randomUUID()));
  return {
    status: 200,
    xml: `<${action}Response xmlns="${NAMESPACE}">${body}</${action}Response>`,
  };
}

function faultAnswer(fault: Exclude<Fault, 'hang'>, message?: string): Answer {
  const shape = FAULTS[fault];
  return errorAnswer(shape.status, fault, message ?? shape.message);
}

/** The Query protocol's error envelope. */
function errorAnswer(status: number, code: string, message: string): Answer {
  const type = status >= 500 ? 'Receiver' : 'Sender';
  const error = leaf('Type', type) + leaf('Code', code) + leaf('Message', message);
  return {
    status,
    xml:
      `<ErrorResponse xmlns="${NAMESPACE}">` +
      element('Error', error) +
      leaf('RequestId', randomUUID()) +
      '</ErrorResponse>',
  };
}

/** An element around XML built by element() or leaf(). */
function element(name: string, content: string): string {
  return `<${name}>${content}</${name}>`;
}

/** An element around text, escaped. */
function leaf(name: string, value: string): string {
  return element(
    name,
    value.replace(/[<>&'"]/g, (c) => XML_ESCAPES[c] ?? c),
  );
}

const XML_ESCAPES: Readonly<Record<string, string>> = {
  '<': '&lt;',
  '>': '&gt;',
  '&': '&amp;',
  "'": '&apos;',
  '"': '&quot;',
};

function isAction(value: string): value is Action {
  return ACTIONS.some((action) => action === value);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
