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
