import { hashTagForSlot } from './slots.js';

/**
 * Every key slotwatch writes starts with this prefix and carries a TTL. Nothing outside the
 * prefix is ever read or written, so the probe can share a cluster with production data (and an
 * ACL user can be limited to `~slotwatch:*`).
 */
export const CANARY_PREFIX = 'slotwatch:';

/** TTL of every canary key: long enough to outlive a sweep, short enough to vanish soon after. */
export const CANARY_TTL_MS = 60_000;

export type CanaryPurpose = 'canary' | 'xs:0' | 'xs:1' | `drill:${string}`;

/** `slotwatch:{tag}:purpose`, where the hash tag pins the key to `slot`. */
export function canaryKey(slot: number, purpose: CanaryPurpose): string {
  return `${CANARY_PREFIX}{${hashTagForSlot(slot)}}:${purpose}`;
}

const VALUE_PATTERN = /^sw:[0-9a-z]+:[0-9a-z]+$/;

/** A small value that names the sweep that wrote it: `sw:<sweep id>:<sequence>`. */
export function canaryValue(sweepId: string, sequence: number): string {
  return `sw:${sweepId}:${sequence.toString(36)}`;
}

/** True for values slotwatch writes; a read that returns anything else is a failed check. */
export function isCanaryValue(value: unknown): value is string {
  return typeof value === 'string' && VALUE_PATTERN.test(value);
}

/**
 * The slot a shard's canary keys live in: the shard's highest slot that is not being migrated
 * (resharding tools move a shard's lowest slots first), so the keys stay put while slots move.
 * Undefined for a shard that serves no slot.
 */
export function pickCanarySlot(
  ranges: readonly { readonly start: number; readonly end: number }[],
  migrating: ReadonlySet<number> = new Set(),
): number | undefined {
  let fallback: number | undefined;
  for (const range of [...ranges].sort((a, b) => b.end - a.end)) {
    for (let slot = range.end; slot >= range.start; slot--) {
      if (!migrating.has(slot)) return slot;
      fallback ??= slot;
    }
  }
  return fallback;
}

/**
 * Where a shard's node probes go when the canary slot turns out to be in motion (the node answers
 * MOVED or ASK for its key): the middle of the shard's slots, as far from both ends, where
 * resharding tools take slots, as the shard allows. Undefined when the shard has no other slot.
 */
export function pickFallbackSlot(
  ranges: readonly { readonly start: number; readonly end: number }[],
  avoid: ReadonlySet<number>,
): number | undefined {
  const slots = [...ranges]
    .sort((a, b) => a.start - b.start)
    .flatMap(({ start, end }) => Array.from({ length: end - start + 1 }, (_, i) => start + i));
  const middle = Math.floor(slots.length / 2);
  // Outwards from the middle: middle, middle - 1, middle + 1, middle - 2, ...
  for (let step = 0; step < slots.length; step++) {
    const index = middle + (step % 2 === 0 ? step / 2 : -(step + 1) / 2);
    const slot = slots[index];
    if (slot !== undefined && !avoid.has(slot)) return slot;
  }
  return undefined;
}
