/** The cluster-wide checks of a sweep, computed from what the nodes answered. Pure. */
import { SLOT_COUNT } from './cluster/slots.js';
import { formatSlotRanges, slotOwners, type SlotRange, type Topology } from './cluster/topology.js';
import type { ClusterStateCheck, NodeReport, SlotMapCheck, SlotsCheck } from './report.js';

/** What one node said about the cluster as a whole, when it answered. */
export interface NodeView {
  readonly address: string;
  readonly clusterState?: string;
  readonly slotMapDigest?: string;
}

/** Slots whose owner (per the topology) is a primary whose ping passed in this sweep. */
export function slotsCheck(
  topology: Topology,
  nodes: readonly Pick<NodeReport, 'id' | 'role' | 'probes'>[],
): SlotsCheck {
  const reachable = new Set(
    nodes.filter((n) => n.role === 'primary' && n.probes.ping?.ok).map((n) => n.id),
  );
  const uncovered: SlotRange[] = [];
  let covered = 0;
  slotOwners(topology).forEach((owner, slot) => {
    if (owner !== undefined && reachable.has(owner)) {
      covered++;
      return;
    }
    const last = uncovered.at(-1);
    if (last && last.end === slot - 1)
      uncovered[uncovered.length - 1] = { start: last.start, end: slot };
    else uncovered.push({ start: slot, end: slot });
  });
  return {
    ok: covered === SLOT_COUNT,
    covered,
    ...(uncovered.length > 0 && { uncovered: formatSlotRanges(uncovered) }),
  };
}

export function clusterStateCheck(views: readonly NodeView[]): ClusterStateCheck {
  const failing = views
    .filter((v) => v.clusterState !== undefined && v.clusterState !== 'ok')
    .map((v) => v.address);
  return { ok: failing.length === 0, failing };
}

/** The slot map most nodes report; ties go to the view listed first (the topology's order). */
export function majorityDigest(views: readonly NodeView[]): string | undefined {
  const counts = new Map<string, number>();
  for (const { slotMapDigest } of views) {
    if (slotMapDigest !== undefined)
      counts.set(slotMapDigest, (counts.get(slotMapDigest) ?? 0) + 1);
  }
  let best: [string, number] | undefined;
  for (const entry of counts) if (best === undefined || entry[1] > best[1]) best = entry;
  return best?.[0];
}

/** A node's slot map that differs from the majority's, and when the node was first seen with it. */
export interface SlotMapDisagreement {
  readonly digest: string;
  /** Milliseconds, on whatever clock the caller uses for `now`. */
  readonly since: number;
}

export interface SlotMapHistory {
  /** From `trackDisagreements` for this sweep. */
  readonly tracked: ReadonlyMap<string, SlotMapDisagreement>;
  readonly now: number;
  /** How long a node may keep one differing map before it fails the check. */
  readonly settleMs: number;
}

/**
 * Every node that differs from the majority, with the moment it was first seen with that very
 * map: kept from `earlier` while the node still reports it, `now` for a map it did not report
 * before. A node that agrees again drops out.
 */
export function trackDisagreements(
  views: readonly NodeView[],
  majority: string | undefined,
  earlier: ReadonlyMap<string, SlotMapDisagreement>,
  now: number,
): Map<string, SlotMapDisagreement> {
  const tracked = new Map<string, SlotMapDisagreement>();
  for (const { address, slotMapDigest } of views) {
    if (slotMapDigest === undefined || slotMapDigest === majority) continue;
    const before = earlier.get(address);
    tracked.set(
      address,
      before?.digest === slotMapDigest ? before : { digest: slotMapDigest, since: now },
    );
  }
  return tracked;
}

/**
 * Nodes learn that a slot has a new owner by gossip, so while slots move, some nodes report the
 * old map for a moment. With `history`, a node fails the check only once it has reported the
 * same differing map for `settleMs` (so in an earlier sweep too); until then it is `settling`.
 * A node stuck on a stale map is caught one sweep later, and resharding cries no wolf.
 */
export function slotMapCheck(
  views: readonly NodeView[],
  majority = majorityDigest(views),
  history?: SlotMapHistory,
): SlotMapCheck {
  const disagreeing: string[] = [];
  const settling: string[] = [];
  for (const { address, slotMapDigest } of views) {
    if (slotMapDigest === undefined || slotMapDigest === majority) continue;
    const since = history?.tracked.get(address)?.since ?? history?.now ?? 0;
    const settled = history === undefined || history.now - since >= history.settleMs;
    (settled ? disagreeing : settling).push(address);
  }
  return {
    ok: disagreeing.length === 0,
    disagreeing,
    ...(settling.length > 0 && { settling }),
  };
}
