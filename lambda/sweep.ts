/**
 * One sweep: read the topology, probe every node the cluster lists (all in parallel), run the
 * cluster-wide checks, and return a report no later than the deadline, whatever the nodes do.
 * A ClusterProber keeps its connections and the last topology between sweeps (a warm Lambda, or
 * the CLI's rounds), and is the one piece the CLI, the Lambda handler and the tests share.
 */
import { randomBytes } from 'node:crypto';
import { canaryKey, pickCanarySlot, pickFallbackSlot } from './cluster/canary-keys.js';
import { describeError, type NodeTarget } from './cluster/connect.js';
import { discoverTopology, type Discovery } from './cluster/discover.js';
import { ConnectionPool, POOL_DEFAULTS, type PoolOptions } from './cluster/pool.js';
import type { RouteState } from './cluster/routing.js';
import {
  clusterStateCheck,
  majorityDigest,
  slotMapCheck,
  slotsCheck,
  trackDisagreements,
  type NodeView,
  type SlotMapDisagreement,
} from './checks.js';
import {
  parseSlotMapDigest,
  slotOwners,
  type Topology,
  type TopologyNode,
} from './cluster/topology.js';
import type { ProbeConfig } from './config.js';
import { CanaryTarget } from './probes/canary-target.js';
import { crossSlot } from './probes/cross-slot.js';
import { PROBES_BY_ROLE } from './probes/index.js';
import { QuietWindow } from './probes/quiet-window.js';
import type { ProbeContext, ShardWrite, ShardWriteSignal } from './probes/types.js';
import {
  failedSweepReport,
  roundMs,
  type CrossSlotCheck,
  type NodeReport,
  type ProbeName,
  type ProbeResult,
  type SweepReport,
} from './report.js';

export type ProberConfig = Pick<
  ProbeConfig,
  | 'endpoint'
  | 'clusterName'
  | 'tls'
  | 'caPem'
  | 'username'
  | 'authToken'
  | 'timeoutMs'
  | 'deadlineMs'
>;

/** How a sweep reports progress to whoever runs it (logs go to stderr in the CLI). */
export interface SweepOptions {
  /** This sweep's limit, when the caller has less time than PROBE_DEADLINE_MS (a Lambda near its end). */
  readonly deadlineMs?: number;
  /** Called when the deadline cut the sweep short. */
  readonly onDeadline?: (pendingNodes: number) => void;
}

/** A node's probes as they complete; turned into a NodeReport when the sweep ends. */
interface NodeState {
  readonly node: TopologyNode;
  readonly probes: Partial<Record<ProbeName, ProbeResult>>;
  readonly expected: readonly ProbeName[];
  connectMs: number | null;
  clusterState?: string;
  slotMapDigest?: string;
  /** Set when the node could not be probed at all; fills every probe still missing. */
  abandoned?: string;
}

export class ClusterProber {
  readonly #config: ProberConfig;
  readonly #pool: ConnectionPool;
  #lastTopology: Topology | undefined;
  #sweeps = 0;
  /** Canary slots a node redirected (see CanaryTarget) -> when; avoided while remembered. */
  readonly #slotsInMotion = new Map<number, number>();
  /** Nodes whose slot map differed from the majority's, carried from sweep to sweep. */
  #disagreements: ReadonlyMap<string, SlotMapDisagreement> = new Map();

  constructor(config: ProberConfig, poolOptions: PoolOptions = POOL_DEFAULTS) {
    this.#config = config;
    this.#pool = new ConnectionPool(
      {
        tls: config.tls,
        timeoutMs: config.timeoutMs,
        ...(config.caPem && { caPem: config.caPem }),
        ...(config.username && { username: config.username }),
        ...(config.authToken && { token: config.authToken }),
      },
      poolOptions,
    );
  }

  /** Closes every connection; the prober cannot sweep afterwards. */
  close(): void {
    this.#pool.close();
  }

  async sweep(options: SweepOptions = {}): Promise<SweepReport> {
    const startedAt = new Date();
    const start = performance.now();
    const deadlineMs = Math.min(
      options.deadlineMs ?? this.#config.deadlineMs,
      this.#config.deadlineMs,
    );
    const deadlineAt = start + deadlineMs;
    const sweepId = `${(this.#sweeps++).toString(36)}${randomBytes(3).toString('hex')}`;
    this.#pool.beginSweep();
    const reconnectsBefore = this.#pool.counters().reconnects;

    let discovery: Discovery;
    try {
      discovery = await this.#discover(deadlineAt);
    } catch (error) {
      this.#pool.dropBusy();
      return this.#unreachableReport(startedAt, start, describeError(error, this.#pool.token));
    }
    this.#lastTopology = discovery.topology;
    const { topology } = discovery;
    this.#pool.retainOnly([this.#config.endpoint, ...topology.nodes]);

    const states = topology.nodes.map((node) => newNodeState(node));
    const signals = new Map(topology.shards.map((shard) => [shard.id, newShardWriteSignal()]));
    const canarySlots = canarySlotsByShard(topology, this.#recentSlotsInMotion());
    const crossSlotResult: { value?: CrossSlotCheck } = {};
    const signalOf = (state: NodeState): ShardWriteSignal =>
      signals.get(state.node.shard) ?? newShardWriteSignal();
    const connections = states.map((state) => this.#connect(state, canarySlots, signalOf(state)));
    const connectPhase = settledOrAfter(
      connections,
      Math.min(CONNECT_GRACE_MS, this.#config.timeoutMs),
    );
    const quiet = new QuietWindow(states.map((_, i) => String(i)));
    void connectPhase.then(() => quiet.start(quietGraceMs(states.length, this.#config.timeoutMs)));
    const work = Promise.all([
      ...states.map((state, i) =>
        this.#probeNode(
          state,
          connections[i] ?? Promise.resolve(undefined),
          connectPhase,
          { window: quiet, member: String(i) },
          sweepId,
          this.#canaryTarget(canarySlots.get(state.node.shard)),
          signalOf(state),
        ),
      ),
      connectPhase
        .then(() => quiet.closed)
        .then(() => this.#crossSlot(topology, sweepId))
        .then((value) => (crossSlotResult.value = value)),
    ]);

    let deadlineTimer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'deadline'>((resolve) => {
      deadlineTimer = setTimeout(
        () => resolve('deadline'),
        Math.max(0, deadlineAt - performance.now()),
      );
    });
    const outcome = await Promise.race([work.then(() => 'done' as const), deadline]);
    clearTimeout(deadlineTimer);
    quiet.abandon();
    if (outcome === 'deadline') {
      options.onDeadline?.(states.filter((s) => !isComplete(s)).length);
      this.#pool.dropBusy();
    }
    for (const signal of signals.values()) signal.reject('the sweep ended');
    const primaryWrote = (state: NodeState): boolean => signalOf(state).done;

    const views = states.map(nodeView);
    const majority = majorityDigest(views);
    const now = Date.now();
    this.#disagreements = trackDisagreements(views, majority, this.#disagreements, now);
    const nodes = states.map((state) =>
      this.#nodeReport(state, deadlineMs, majority, primaryWrote(state)),
    );
    const checks = {
      crossSlot: crossSlotResult.value ?? {
        ok: false as const,
        latencyMs: null,
        shards: canarySlots.size,
        error: `crossSlot: deadline: not finished within ${deadlineMs} ms`,
      },
      slots: slotsCheck(topology, nodes),
      clusterState: clusterStateCheck(views),
      slotMap: slotMapCheck(views, majority, {
        tracked: this.#disagreements,
        now,
        settleMs: SLOT_MAP_SETTLE_MS,
      }),
    };
    const ok = nodes.every((n) => n.ok) && Object.values(checks).every((c) => c.ok);
    return {
      cluster: this.#config.clusterName,
      ok,
      startedAt: startedAt.toISOString(),
      durationMs: roundMs(performance.now() - start),
      nodes,
      checks,
      topology: { source: topology.source, from: discovery.from, shards: topology.shards.length },
      reconnects: this.#pool.counters().reconnects - reconnectsBefore,
    };
  }

  async #discover(deadlineAt: number): Promise<Discovery> {
    const known: NodeTarget[] = (this.#lastTopology?.nodes ?? [])
      .filter((node) => node.host !== '')
      .map((node) => ({ host: node.host, port: node.port }));
    const discovery = discoverTopology(this.#pool, this.#config.endpoint, known, {
      tls: this.#config.tls,
      hedgeAfterMs: Math.min(250, this.#config.timeoutMs / 2),
      fallbacks: 3,
    });
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error('deadline: the topology could not be read in time')),
        Math.max(0, deadlineAt - performance.now()),
      );
    });
    try {
      return await Promise.race([discovery, expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Slots in motion seen by recent sweeps; older sightings are forgotten. */
  #recentSlotsInMotion(): Set<number> {
    const now = Date.now();
    for (const [slot, seenAt] of this.#slotsInMotion) {
      if (now - seenAt > SLOT_IN_MOTION_MEMORY_MS) this.#slotsInMotion.delete(slot);
    }
    return new Set(this.#slotsInMotion.keys());
  }

  /** A node's canary key for this sweep; a redirect moves it to the fallback and is remembered. */
  #canaryTarget(slots: CanarySlots | undefined): CanaryTarget {
    const slot = slots?.slot ?? 0;
    const fallback = slots?.fallback;
    return new CanaryTarget(
      canaryKey(slot, 'canary'),
      fallback === undefined ? undefined : canaryKey(fallback, 'canary'),
      () => this.#slotsInMotion.set(slot, Date.now()),
    );
  }

  /** Dials the node (or finds its warm connection); undefined when it cannot be probed. */
  async #connect(
    state: NodeState,
    canarySlots: ReadonlyMap<string, CanarySlots>,
    signal: ShardWriteSignal,
  ): Promise<NodeTarget | undefined> {
    const { node } = state;
    if (node.host === '')
      return abandon(state, signal, 'noaddr: the cluster knows no address for this node');
    if (!canarySlots.has(node.shard))
      return abandon(state, signal, "no slot: this node's shard serves no slot to probe");
    const target: NodeTarget = { host: node.host, port: node.port };
    const connectStart = performance.now();
    try {
      const { reused } = await this.#pool.prepare(target);
      state.connectMs = reused ? 0 : roundMs(performance.now() - connectStart);
      return target;
    } catch (error) {
      return abandon(state, signal, describeError(error, this.#pool.token));
    }
  }

  async #probeNode(
    state: NodeState,
    connected: Promise<NodeTarget | undefined>,
    connectPhase: Promise<void>,
    quiet: { readonly window: QuietWindow; readonly member: string },
    sweepId: string,
    canary: CanaryTarget,
    signal: ShardWriteSignal,
  ): Promise<void> {
    const target = await connected;
    if (target === undefined) return quiet.window.arrive(quiet.member);
    // Probes start once the other nodes' TLS handshakes are done (or the grace ran out), so
    // that handshake CPU work does not end up inside anyone's latency.
    await connectPhase;
    const context: ProbeContext = {
      node: state.node,
      exec: (op, timeoutMs) => this.#pool.exec(target, op, timeoutMs),
      canary,
      sweepId,
      timeoutMs: this.#config.timeoutMs,
      shardWrite: signal,
      quietly: (op) => quiet.window.run(quiet.member, op),
      ...(this.#pool.token && { secret: this.#pool.token }),
    };
    for (const [name, probe] of PROBES_BY_ROLE[state.node.role]) {
      const result = await probe(context);
      state.probes[name] = result;
      quiet.window.arrive(quiet.member);
      // A connection that broke or timed out is gone: one timeout per dead node is enough.
      if (!result.ok && !result.skipped && !this.#pool.isConnected(target)) {
        return abandon(state, signal, `not attempted: ${result.error}`);
      }
      // The first probe (ping) takes its samples in the quiet window; the rest wait until it closed.
      await quiet.window.closed;
    }
    await this.#readView(state, target);
  }

  /** The node's own view of the cluster: cluster_state and its slot map. Not timed. */
  async #readView(state: NodeState, target: NodeTarget): Promise<void> {
    try {
      const [info, slots] = await this.#pool.exec(target, async (client) => {
        const replies =
          (await client.pipeline().call('CLUSTER', 'INFO').call('CLUSTER', 'SLOTS').exec()) ?? [];
        return replies.map(([error, value]) => {
          if (error) throw error;
          return value;
        });
      });
      state.clusterState = /cluster_state:(\w+)/.exec(String(info))?.[1] ?? 'unknown';
      state.slotMapDigest = parseSlotMapDigest(slots);
    } catch {
      // The probes already say what is wrong with this node; the view is extra information.
    }
  }

  /**
   * The cross-slot keys live in each shard's lowest slot, where resharding tools start moving
   * slots: while the node probes' canaries stay put, this check meets MOVED and ASK as a real
   * client would, and must follow them.
   */
  #crossSlot(topology: Topology, sweepId: string): Promise<CrossSlotCheck> {
    const owners = slotOwners(topology);
    const byId = new Map(topology.nodes.map((node) => [node.id, node]));
    const route: RouteState = { owners: new Map(), redirects: 0 };
    const slots: number[] = [];
    for (const shard of topology.shards) {
      const slot = Math.min(...shard.slots.map((range) => range.start));
      const owner = byId.get(owners[slot] ?? '');
      if (!Number.isFinite(slot)) continue;
      slots.push(slot);
      if (owner && owner.host !== '')
        route.owners.set(slot, { host: owner.host, port: owner.port });
    }
    return crossSlot({
      pool: this.#pool,
      route,
      slots,
      sweepId,
      ...(this.#pool.token && { secret: this.#pool.token }),
    });
  }

  #nodeReport(
    state: NodeState,
    deadlineMs: number,
    majority?: string,
    primaryWrote = true,
  ): NodeReport {
    const reason =
      state.abandoned ??
      `deadline: the sweep ended after ${deadlineMs} ms before this probe finished`;
    const probes: Partial<Record<ProbeName, ProbeResult>> = {};
    for (const name of state.expected) {
      const unfinished: ProbeResult =
        name === 'replication' && !primaryWrote && state.abandoned === undefined
          ? {
              ok: false,
              latencyMs: null,
              error: `not measured: the primary did not write before the deadline`,
              skipped: true,
            }
          : { ok: false, latencyMs: null, error: reason };
      probes[name] = state.probes[name] ?? unfinished;
    }
    const results = Object.values(probes);
    return {
      id: state.node.id,
      address: state.node.address,
      role: state.node.role,
      shard: state.node.shard,
      ok: results.every((r) => r.ok || r.skipped === true),
      probes,
      health: state.node.health,
      connectMs: state.connectMs,
      reconnects: this.#pool.reconnectsOf({ host: state.node.host, port: state.node.port }),
      ...(state.clusterState !== undefined && { clusterState: state.clusterState }),
      ...(state.slotMapDigest !== undefined && { slotMapAgrees: state.slotMapDigest === majority }),
    };
  }

  #unreachableReport(startedAt: Date, start: number, cause: string): SweepReport {
    const error = `topology: ${cause}`;
    const nodes = (this.#lastTopology?.nodes ?? []).map((node) =>
      this.#nodeReport(
        { ...newNodeState(node), abandoned: `not probed: ${error}` },
        this.#config.deadlineMs,
      ),
    );
    return failedSweepReport(
      this.#config.clusterName,
      startedAt,
      performance.now() - start,
      error,
      nodes,
    );
  }
}

/**
 * How long a canary slot found in motion is avoided: a slot's migration takes seconds; should one
 * stall, the shard's other slots serve meanwhile.
 */
const SLOT_IN_MOTION_MEMORY_MS = 60_000;

/**
 * How long a node may report a slot map that differs from the majority's before the slotMap check
 * fails: gossip carries a slot's new owner to every node, usually within a second, and every node
 * hears from every other at least every half node timeout (ElastiCache's is 15 s).
 */
const SLOT_MAP_SETTLE_MS = 10_000;

/** How long the probes wait for slow handshakes before they start without them. */
const CONNECT_GRACE_MS = 250;

/**
 * How long the quiet window waits for every node's first PING before it opens without the slow
 * ones: long enough for a few hundred healthy nodes to answer, short enough that a hung node
 * costs the others little.
 */
export function quietGraceMs(nodes: number, timeoutMs: number): number {
  return Math.min(timeoutMs / 2, 100 + 2 * nodes);
}

/** Resolves when every promise has settled, or after `ms`, whichever comes first. */
function settledOrAfter(promises: readonly Promise<unknown>[], ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  const settled = Promise.allSettled(promises).then(() => undefined);
  return Promise.race([settled, grace]).finally(() => clearTimeout(timer));
}

function nodeView(state: NodeState): NodeView {
  return {
    address: state.node.address,
    ...(state.clusterState !== undefined && { clusterState: state.clusterState }),
    ...(state.slotMapDigest !== undefined && { slotMapDigest: state.slotMapDigest }),
  };
}

function newNodeState(node: TopologyNode): NodeState {
  return {
    node,
    probes: {},
    expected: PROBES_BY_ROLE[node.role].map(([name]) => name),
    connectMs: null,
  };
}

function isComplete(state: NodeState): boolean {
  return (
    state.abandoned !== undefined ||
    state.expected.every((name) => state.probes[name] !== undefined)
  );
}

function abandon(state: NodeState, signal: ShardWriteSignal, reason: string): undefined {
  state.abandoned = reason;
  if (state.node.role === 'primary') signal.reject(`the primary failed (${reason})`);
}

function newShardWriteSignal(): ShardWriteSignal {
  let resolve: (write: ShardWrite) => void = () => undefined;
  let reject: (reason: string) => void = () => undefined;
  const written = new Promise<ShardWrite>((res, rej) => {
    resolve = res;
    reject = (reason) => rej(new Error(reason));
  });
  // Nobody may be waiting (a shard without replicas): the rejection must not go unhandled.
  written.catch(() => undefined);
  const signal = {
    written,
    done: false,
    resolve: (write: ShardWrite) => {
      signal.done = true;
      resolve(write);
    },
    reject,
  };
  return signal;
}

/** A shard's canary slot, and where its node probes go if that one turns out to be moving. */
interface CanarySlots {
  readonly slot: number;
  readonly fallback?: number;
}

/**
 * Shard id -> its canary slots, for every shard that serves slots, avoiding slots the topology
 * shows migrating (CLUSTER NODES only) and those recent sweeps found in motion.
 */
function canarySlotsByShard(
  topology: Topology,
  inMotion: ReadonlySet<number>,
): Map<string, CanarySlots> {
  const avoid = new Set([...topology.migrations.map((m) => m.slot), ...inMotion]);
  const result = new Map<string, CanarySlots>();
  for (const shard of topology.shards) {
    const slot = pickCanarySlot(shard.slots, avoid);
    if (slot === undefined) continue;
    const fallback = pickFallbackSlot(shard.slots, new Set([...avoid, slot]));
    result.set(shard.id, { slot, ...(fallback !== undefined && { fallback }) });
  }
  return result;
}
