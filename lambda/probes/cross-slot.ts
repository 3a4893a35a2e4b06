/**
 * The cross-slot check: a multi-key write and read whose keys span every shard. A cluster rejects
 * a multi-key command whose keys live in different slots (CROSSSLOT), so, like redis-go-cluster's
 * MSET/MGET, the keys are split by slot, each slot's share is sent to the primary serving it (all
 * slots in parallel, following MOVED and ASK), and the replies are put back in key order and
 * compared with what was written. While a slot is mid-migration, Redis answers a multi-key
 * command whose keys are split between the two nodes with TRYAGAIN for as long as the slot is in
 * flux; after a short retry the slot's share is sent key by key, each key following its own ASK.
 */
import { CANARY_TTL_MS, canaryKey, canaryValue } from '../cluster/canary-keys.js';
import { describeError } from '../cluster/connect.js';
import { keySlot } from '../cluster/slots.js';
import { isTryAgain, sendToSlot, type RouteState } from '../cluster/routing.js';
import type { ConnectionPool } from '../cluster/pool.js';
import type { Secret } from '../secret.js';
import { roundMs, type CrossSlotCheck } from '../report.js';

/** MSET with a TTL on every key, atomically: a plain MSET would leave keys without one. */
const MSET_WITH_TTL = `
local pairs = {}
for i, key in ipairs(KEYS) do
  pairs[#pairs + 1] = key
  pairs[#pairs + 1] = ARGV[i]
end
redis.call('MSET', unpack(pairs))
for _, key in ipairs(KEYS) do
  redis.call('PEXPIRE', key, ARGV[#KEYS + 1])
end
return #KEYS`;

const KEYS_PER_SLOT = 2;

export interface CrossSlotInput {
  readonly pool: ConnectionPool;
  readonly route: RouteState;
  /** One canary slot per shard. */
  readonly slots: readonly number[];
  readonly sweepId: string;
  readonly secret?: Secret;
}

/** One slot's share of the command; a failure says which slot and which node it was sent to. */
async function onSlot(
  input: CrossSlotInput,
  slot: number,
  command: readonly [string, ...(string | number)[]],
): Promise<unknown> {
  try {
    return await sendToSlot(input.pool, input.route, slot, command);
  } catch (error) {
    const target = input.route.owners.get(slot);
    const where = target ? ` at ${target.host}:${target.port}` : '';
    throw new SlotFailure(`slot ${slot}${where}: ${describeError(error, input.secret)}`, {
      cause: error,
    });
  }
}

class SlotFailure extends Error {
  declare readonly cause: unknown;
}

/** Groups keys by slot, keeping each key's position so replies can be put back in order. */
export function groupBySlot(keys: readonly string[]): Map<number, number[]> {
  const groups = new Map<number, number[]>();
  for (const [index, key] of keys.entries()) {
    const slot = keySlot(key);
    groups.set(slot, [...(groups.get(slot) ?? []), index]);
  }
  return groups;
}

export async function crossSlotMset(
  input: CrossSlotInput,
  keys: readonly string[],
  values: readonly string[],
): Promise<void> {
  await Promise.all(
    [...groupBySlot(keys)].map(async ([slot, indexes]) => {
      const slotKeys = indexes.map((i) => keys[i] ?? '');
      const slotValues = indexes.map((i) => values[i] ?? '');
      try {
        await onSlot(input, slot, [
          'EVAL',
          MSET_WITH_TTL,
          slotKeys.length,
          ...slotKeys,
          ...slotValues,
          CANARY_TTL_MS,
        ]);
      } catch (error) {
        if (!(error instanceof SlotFailure && isTryAgain(error.cause))) throw error;
        await Promise.all(
          slotKeys.map((key, i) =>
            onSlot(input, slot, ['SET', key, slotValues[i] ?? '', 'PX', CANARY_TTL_MS]),
          ),
        );
      }
    }),
  );
}

export async function crossSlotMget(
  input: CrossSlotInput,
  keys: readonly string[],
): Promise<(string | null)[]> {
  const result = new Array<string | null>(keys.length).fill(null);
  await Promise.all(
    [...groupBySlot(keys)].map(async ([slot, indexes]) => {
      const slotKeys = indexes.map((i) => keys[i] ?? '');
      let reply: unknown;
      try {
        reply = await onSlot(input, slot, ['MGET', ...slotKeys]);
      } catch (error) {
        if (!(error instanceof SlotFailure && isTryAgain(error.cause))) throw error;
        reply = await Promise.all(slotKeys.map((key) => onSlot(input, slot, ['GET', key])));
      }
      if (!Array.isArray(reply) || reply.length !== indexes.length) {
        throw new Error(
          `MGET for slot ${slot} returned ${Array.isArray(reply) ? reply.length : 'no'} values for ${indexes.length} keys`,
        );
      }
      indexes.forEach((position, i) => {
        const value: unknown = reply[i];
        result[position] = typeof value === 'string' ? value : null;
      });
    }),
  );
  return result;
}

export async function crossSlot(input: CrossSlotInput): Promise<CrossSlotCheck> {
  const shards = input.slots.length;
  const keys = input.slots.flatMap((slot) =>
    Array.from({ length: KEYS_PER_SLOT }, (_, i) => canaryKey(slot, `xs:${i}` as 'xs:0' | 'xs:1')),
  );
  const values = keys.map((_, i) => canaryValue(input.sweepId, i));
  const redirectsBefore = input.route.redirects;
  const start = performance.now();
  try {
    if (shards === 0) throw new Error('no shard serves any slot');
    await crossSlotMset(input, keys, values);
    const read = await crossSlotMget(input, keys);
    const latencyMs = performance.now() - start;
    const wrong = read.findIndex((value, i) => value !== values[i]);
    if (wrong !== -1)
      throw new Error(
        `key ${keys[wrong]} read back ${JSON.stringify(read[wrong])}, expected the value just written`,
      );
    return {
      ok: true,
      latencyMs: roundMs(latencyMs),
      shards,
      keys: keys.length,
      redirects: input.route.redirects - redirectsBefore,
    };
  } catch (error) {
    return {
      ok: false,
      latencyMs: null,
      shards,
      error: `crossSlot: ${describeError(error, input.secret)}`,
    };
  }
}
