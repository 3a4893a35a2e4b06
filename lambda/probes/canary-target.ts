/**
 * The canary key a node's probes use in one sweep, and the one they move to when its slot turns
 * out to be in motion. The sweep picks the slot from the topology it read at its start, but a
 * slot can start migrating at any moment (and CLUSTER SHARDS does not show migrations at all):
 * once the node has handed the key to the importing node it answers ASK, and once the slot has a
 * new owner, MOVED. Both say the node works and the slot moves, which is no fault of the node's.
 */
export class CanaryTarget {
  #key: string;
  #fallback: string | undefined;
  readonly #onMove: () => void;

  /** `onMove` is told when the canary slot was found in motion, so later sweeps can avoid it. */
  constructor(key: string, fallback: string | undefined, onMove: () => void = () => undefined) {
    this.#key = key;
    this.#fallback = fallback;
    this.#onMove = onMove;
  }

  get key(): string {
    return this.#key;
  }

  /** Moves to the fallback key; false when there is none (already moved, or a one-slot shard). */
  moveOn(): boolean {
    if (this.#fallback === undefined) return false;
    this.#key = this.#fallback;
    this.#fallback = undefined;
    this.#onMove();
    return true;
  }
}

/** MOVED or ASK: the key's slot is served by another node, or being migrated to one. */
export function isSlotRedirect(error: unknown): boolean {
  return error instanceof Error && /^(MOVED|ASK) \d+ /.test(error.message);
}

/**
 * Runs `op` on the node's canary key; when the node redirects it, runs `op` once more on the
 * fallback key (see CanaryTarget). A node that redirects that key too does not serve its
 * shard's slots, and the error stands.
 */
export async function onCanary<T>(
  canary: CanaryTarget,
  op: (key: string) => Promise<T>,
): Promise<T> {
  try {
    return await op(canary.key);
  } catch (error) {
    if (!isSlotRedirect(error) || !canary.moveOn()) throw error;
    return op(canary.key);
  }
}
