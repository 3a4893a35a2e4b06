/**
 * After the drill: which acknowledged writes survived (read back from whoever serves the slot
 * now, the new primary), then every drill key removed. The keys share one hash tag, so each
 * chunk is one MGET or DEL on one node. A chunk gets a second try after the owner is looked up
 * again; then the rest is given up (the keys expire by themselves), so this stays bounded.
 */
import { describeError } from '../cluster/connect.js';
import type { Secret } from '../secret.js';
import type { SlotRoute } from './slot-route.js';
import type { DrillKeys } from './streams.js';

export const CHUNK = 500;
const ATTEMPTS = 2;

export interface ReadBack {
  readonly lost: number;
  /** Acknowledged writes that could not be read at all. */
  readonly unverified: number;
  readonly error?: string;
}

async function withRetry<T>(route: SlotRoute, work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= ATTEMPTS) throw error;
      await route.refresh();
    }
  }
}

function chunksOf<T>(items: readonly T[]): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) chunks.push(items.slice(i, i + CHUNK));
  return chunks;
}

export async function readBack(
  route: SlotRoute,
  keys: DrillKeys,
  acked: readonly number[],
  secret?: Secret,
): Promise<ReadBack> {
  let lost = 0;
  let checked = 0;
  for (const chunk of chunksOf(acked)) {
    try {
      const values = await withRetry(route, () =>
        route.send(['MGET', ...chunk.map((seq) => keys.keyOf(seq))]),
      );
      if (!Array.isArray(values)) throw new Error(`MGET answered ${JSON.stringify(values)}`);
      chunk.forEach((seq, i) => {
        if (values[i] !== keys.valueOf(seq)) lost++;
      });
      checked += chunk.length;
    } catch (error) {
      return { lost, unverified: acked.length - checked, error: describeError(error, secret) };
    }
  }
  return { lost, unverified: 0 };
}

/** Deletes the keys of sequence numbers 0 .. count-1 (acknowledged or not: a timed-out write may have landed). */
export async function removeKeys(
  route: SlotRoute,
  keys: DrillKeys,
  count: number,
  secret?: Secret,
): Promise<string | undefined> {
  const seqs = Array.from({ length: count }, (_, seq) => seq);
  for (const chunk of chunksOf(seqs)) {
    try {
      await withRetry(route, () => route.send(['DEL', ...chunk.map((seq) => keys.keyOf(seq))]));
    } catch (error) {
      return `${describeError(error, secret)}; the rest expire within ${Math.ceil(keys.ttlMs / 1000)} s`;
    }
  }
  return undefined;
}
