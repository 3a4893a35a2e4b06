/**
 * The drill's view of who serves its slot, kept the way a cluster client keeps it: from the
 * topology at the start, corrected by MOVED (routing.ts), and, when the serving node stops
 * answering, re-read from other nodes, since the node that does not answer cannot say who took over.
 */
import {
  formatAddress,
  slotOwners,
  type Topology,
  type TopologyNode,
} from '../cluster/topology.js';
import type { NodeTarget } from '../cluster/connect.js';
import { readTopology } from '../cluster/discover.js';
import type { ConnectionPool } from '../cluster/pool.js';
import { sendToSlot, type RouteState } from '../cluster/routing.js';

/** Nodes asked at once when the owner must be looked up again: enough to find one that answers. */
export const MAX_SOURCES = 4;

export const sameTarget = (a: NodeTarget, b: NodeTarget): boolean =>
  a.host === b.host && a.port === b.port;

export const addressOf = (target: NodeTarget): string => formatAddress(target.host, target.port);

/** The primary serving `slot` in `topology`, if it names one. */
export function ownerOf(topology: Topology, slot: number): TopologyNode | undefined {
  const id = slotOwners(topology)[slot];
  return id === undefined ? undefined : topology.nodes.find((node) => node.id === id);
}

export interface View {
  readonly from: TopologyNode;
  readonly topology: Topology;
}

/** The topology as each of `sources` sees it; nodes that do not answer in time are left out. */
export async function readViews(
  pool: ConnectionPool,
  sources: readonly TopologyNode[],
  tls: boolean,
): Promise<View[]> {
  const answers = await Promise.allSettled(
    sources.map(async (from) => ({ from, topology: await readTopology(pool, from, tls) })),
  );
  return answers.flatMap((answer) => (answer.status === 'fulfilled' ? [answer.value] : []));
}

export class SlotRoute {
  readonly #pool: ConnectionPool;
  readonly #slot: number;
  readonly #state: RouteState;
  readonly #sources: () => readonly TopologyNode[];
  readonly #tls: boolean;

  /** `sources`: the nodes to ask when the owner stops answering, most likely to know first. */
  constructor(
    pool: ConnectionPool,
    slot: number,
    owner: NodeTarget,
    sources: () => readonly TopologyNode[],
    tls: boolean,
  ) {
    this.#pool = pool;
    this.#slot = slot;
    this.#state = { owners: new Map([[slot, owner]]), redirects: 0 };
    this.#sources = sources;
    this.#tls = tls;
  }

  /** The node believed to serve the slot (after any MOVED). */
  get owner(): NodeTarget | undefined {
    return this.#state.owners.get(this.#slot);
  }

  send(command: readonly [string, ...(string | number)[]]): Promise<unknown> {
    return sendToSlot(this.#pool, this.#state, this.#slot, command);
  }

  /**
   * Asks up to MAX_SOURCES other nodes who serves the slot now and switches to the first that
   * names someone else; keeps the owner when none does. Bounded by the pool's timeouts.
   */
  async refresh(): Promise<void> {
    const current = this.owner;
    const candidates = this.#sources()
      .filter((node) => node.host !== '' && (current === undefined || !sameTarget(node, current)))
      .slice(0, MAX_SOURCES);
    if (candidates.length === 0) return;
    try {
      const owner = await Promise.any(
        candidates.map(async (source) => {
          const named = ownerOf(await readTopology(this.#pool, source, this.#tls), this.#slot);
          if (named === undefined || (current !== undefined && sameTarget(named, current))) {
            throw new Error('no other owner named');
          }
          return named;
        }),
      );
      this.#state.owners.set(this.#slot, { host: owner.host, port: owner.port });
    } catch {
      // Nobody names another owner yet: keep trying the current one.
    }
  }

  /** Points the route at `target`, e.g. the new primary for reading back. */
  reset(target: NodeTarget): void {
    this.#state.owners.set(this.#slot, target);
  }
}
