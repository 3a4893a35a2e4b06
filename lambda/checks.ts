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

export function slotMapCheck(
  views: readonly NodeView[],
  majority = majorityDigest(views),
): SlotMapCheck {
  const disagreeing = views
    .filter((v) => v.slotMapDigest !== undefined && v.slotMapDigest !== majority)
    .map((v) => v.address);
  return { ok: disagreeing.length === 0, disagreeing };
}
