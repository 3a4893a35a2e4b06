/**
 * The scheduled drill takes the shards in turn: the index (in slot order) of the shard drilled
 * last lives in a canary key, next to the lock, for 35 days; the next drill takes the one after.
 */
import { canaryKey } from '../cluster/canary-keys.js';
import type { Shard } from '../cluster/topology.js';
import { CONTROL_SLOT } from './lock.js';
import type { SlotRoute } from './slot-route.js';

export const ROTATION_KEY = canaryKey(CONTROL_SLOT, 'drill:rotation');

/** Longer than any sensible schedule (monthly at most), short enough to vanish with the probe. */
export const ROTATION_TTL_MS = 35 * 24 * 60 * 60 * 1000;

/** The index after `last` (a stored reply), wrapping; 0 when nothing usable is stored. Pure. */
export function nextShardIndex(last: unknown, count: number): number {
  if (count <= 0) return 0;
  const parsed = typeof last === 'string' && /^\d+$/.test(last) ? Number(last) : Number.NaN;
  return Number.isSafeInteger(parsed) ? (parsed + 1) % count : 0;
}

export async function pickNextShard(
  route: SlotRoute,
  shards: readonly Shard[],
): Promise<Shard | undefined> {
  let last: unknown;
  try {
    last = await route.send(['GET', ROTATION_KEY]);
  } catch {
    // Unknown turn: start from the first shard rather than not drilling at all.
  }
  return shards[nextShardIndex(last, shards.length)];
}

/** Remembers `shard` as drilled; best effort (a lost turn only repeats a shard). */
export async function recordDrilledShard(
  route: SlotRoute,
  shards: readonly Shard[],
  shard: Shard,
): Promise<void> {
  const index = shards.findIndex((candidate) => candidate.id === shard.id);
  if (index < 0) return;
  try {
    await route.send(['SET', ROTATION_KEY, String(index), 'PX', ROTATION_TTL_MS]);
  } catch {
    // See above.
  }
}
