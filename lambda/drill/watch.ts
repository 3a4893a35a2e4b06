/**
 * Watching the shard recover, from nodes other than the old primary (which may not answer): a
 * replica of the shard promoted, writes acknowledged by it, the old primary back as its replica
 * (once the trigger is done: pause-primary resumes it first), and every reachable node in
 * cluster_state:ok. Each step is logged once, when first seen.
 */
import type { ConnectionPool } from '../cluster/pool.js';
import type { Topology, TopologyNode } from '../cluster/topology.js';
import type { Recorder } from './recorder.js';
import { parseInfo, replicationOf } from './replica-sync.js';
import { MAX_SOURCES, ownerOf, readViews, sameTarget, type View } from './slot-route.js';
import type { Writer } from './streams.js';
import { every } from './timing.js';
import type { TriggerContext } from './types.js';

/** How often the cluster is asked how it is doing. */
export const WATCH_INTERVAL_MS = 200;

export interface WatchInput {
  readonly pool: ConnectionPool;
  readonly tls: boolean;
  readonly send: TriggerContext['send'];
  readonly slot: number;
  readonly oldPrimary: TopologyNode;
  readonly recorder: Recorder;
  readonly writer: Writer;
  /** True once the trigger's `fire` has settled. */
  readonly triggerDone: () => boolean;
  /** Nodes to ask, most useful first (the shard's own nodes know of a promotion first). */
  readonly sources: () => readonly TopologyNode[];
  readonly onView: (topology: Topology) => void;
  readonly onPromoted: (newPrimary: TopologyNode) => void;
  /** The time limit (or an interruption). */
  readonly signal: AbortSignal;
}

export interface WatchOutcome {
  readonly recovered: boolean;
  readonly newPrimary?: TopologyNode;
}

const isOld = (node: TopologyNode, old: TopologyNode): boolean =>
  node.id === old.id || sameTarget(node, old);

export async function watchRecovery(input: WatchInput): Promise<WatchOutcome> {
  const { recorder, oldPrimary } = input;
  const done = new AbortController();
  let newPrimary: TopologyNode | undefined;
  let oldBack = false;

  const step = async (): Promise<void> => {
    const sources = input
      .sources()
      .filter((node) => node.host !== '' && !isOld(node, oldPrimary))
      .slice(0, MAX_SOURCES);
    const views = await readViews(input.pool, sources, input.tls);
    const latest = views[0]?.topology;
    if (latest !== undefined) input.onView(latest);
    const owner = views
      .map((view) => ownerOf(view.topology, input.slot))
      .find((node) => node !== undefined && !isOld(node, oldPrimary));
    if (owner !== undefined) {
      newPrimary = owner;
      if (recorder.once('new primary observed', owner.address)) input.onPromoted(owner);
    }
    if (newPrimary === undefined || input.writer.lastAckedBy(newPrimary.address) === undefined) {
      return;
    }
    if (!input.triggerDone()) return;
    if (!oldBack) {
      oldBack = await rejoined(input, views, newPrimary);
      if (!oldBack) return;
      recorder.once(
        'old primary back as replica',
        `${oldPrimary.address} replicates ${newPrimary.address}`,
      );
    }
    if (latest === undefined || !(await clusterOk(input, latest, newPrimary))) return;
    recorder.once('cluster ok');
    const triggerAt = recorder.timeOf('trigger');
    recorder.once(
      'recovered',
      triggerAt === undefined
        ? undefined
        : `${((recorder.now() - triggerAt) / 1000).toFixed(2)} s after the trigger`,
    );
    done.abort();
  };

  await every(WATCH_INTERVAL_MS, AbortSignal.any([input.signal, done.signal]), step);
  return { recovered: done.signal.aborted, ...(newPrimary !== undefined && { newPrimary }) };
}

/**
 * The others list the old primary under the new one, and it has caught up with the new primary's
 * offset. Its own `master_link_status:up` is not enough: after a diskless full sync the primary
 * streams further commands only once the replica's first REPLCONF ACK arrives (up to a second
 * later), and until then the replica holds the snapshot and misses, say, the drill's DELs. The
 * writer keeps the primary's offset moving, so catching up proves the stream flows.
 */
async function rejoined(
  input: WatchInput,
  views: readonly View[],
  newPrimary: TopologyNode,
): Promise<boolean> {
  const listed = views.some((view) =>
    view.topology.nodes.some(
      (node) =>
        isOld(node, input.oldPrimary) &&
        node.role === 'replica' &&
        node.primaryId === newPrimary.id,
    ),
  );
  if (!listed) return false;
  const replication = async (node: TopologyNode) =>
    replicationOf(parseInfo(String(await input.send(node, ['INFO', 'replication']))));
  try {
    // The primary first: the replica's offset, read after it, can only have grown since.
    const primary = await replication(newPrimary);
    const own = await replication(input.oldPrimary);
    return (
      own.role === 'slave' &&
      own.linkUp &&
      primary.offset !== undefined &&
      own.offset !== undefined &&
      own.offset >= primary.offset
    );
  } catch {
    return false;
  }
}

/** Every node that answers says cluster_state:ok, and both primaries, old and new, are among them. */
async function clusterOk(
  input: WatchInput,
  topology: Topology,
  newPrimary: TopologyNode,
): Promise<boolean> {
  const nodes = topology.nodes.filter((node) => node.host !== '');
  const states = await Promise.all(
    nodes.map(async (node) => {
      try {
        return parseInfo(String(await input.send(node, ['CLUSTER', 'INFO']))).get('cluster_state');
      } catch {
        return undefined;
      }
    }),
  );
  const answered = nodes.filter((_, i) => states[i] !== undefined);
  return (
    states.every((state) => state === undefined || state === 'ok') &&
    answered.some((node) => isOld(node, input.oldPrimary)) &&
    answered.some((node) => sameTarget(node, newPrimary))
  );
}
