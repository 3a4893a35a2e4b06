/**
 * One drill at a time per cluster: a lock key under the canary prefix, taken with SET NX PX and
 * expiring by itself (so a drill that died cannot block the next for long), in one fixed slot so
 * that every drill, whatever its shard, contends for the same key. Its value names the drill.
 */
import { canaryKey } from '../cluster/canary-keys.js';
import { describeError } from '../cluster/connect.js';
import type { Secret } from '../secret.js';
import type { SlotRoute } from './slot-route.js';

/** The slot of the lock (and of the Lambda's rotation key): fixed, whatever shard is drilled. */
export const CONTROL_SLOT = 0;

/** The lock outlives the time limit by this much: pre-checks before it, clean-up after it. */
export const LOCK_MARGIN_MS = 60_000;

export const LOCK_KEY = canaryKey(CONTROL_SLOT, 'drill:lock');

export type LockResult = { readonly ok: true } | { readonly ok: false; readonly reason: string };

export async function takeLock(
  route: SlotRoute,
  value: string,
  ttlMs: number,
  secret?: Secret,
): Promise<LockResult> {
  try {
    const reply = await route.send(['SET', LOCK_KEY, value, 'NX', 'PX', Math.ceil(ttlMs)]);
    if (reply === 'OK') return { ok: true };
    const [holder, pttl] = await Promise.all([
      route.send(['GET', LOCK_KEY]),
      route.send(['PTTL', LOCK_KEY]),
    ]);
    const expires =
      typeof pttl === 'number' && pttl > 0
        ? `, its lock expires in ${Math.ceil(pttl / 1000)} s`
        : '';
    return {
      ok: false,
      reason: `another drill is running on this cluster (${typeof holder === 'string' ? holder : 'lock just released'}${expires})`,
    };
  } catch (error) {
    return {
      ok: false,
      reason: `cannot take the drill lock ${LOCK_KEY}: ${describeError(error, secret)}`,
    };
  }
}

/** Deletes the lock if it is still this drill's; says why not otherwise. */
export async function releaseLock(
  route: SlotRoute,
  value: string,
  secret?: Secret,
): Promise<string | undefined> {
  try {
    // GET then DEL rather than a script: an ACL user limited to slotwatch:* keys may not EVAL,
    // and the lock outlives the drill by a minute, so nobody else can hold it in between.
    if ((await route.send(['GET', LOCK_KEY])) !== value) return 'the lock was no longer ours';
    await route.send(['DEL', LOCK_KEY]);
    return undefined;
  } catch (error) {
    return `lock not released (it expires by itself): ${describeError(error, secret)}`;
  }
}
