import type { Redis } from 'ioredis';
import type { TopologyNode } from '../cluster/topology.js';
import type { Secret } from '../secret.js';
import { describeError } from '../cluster/connect.js';
import { roundMs, type ProbeResult } from '../report.js';
import type { CanaryTarget } from './canary-target.js';

/** The write a shard's primary made in this sweep, which its replicas wait to see. */
export interface ShardWrite {
  readonly value: string;
  /** The key it went to: the canary key, or the fallback key if the canary slot was moving. */
  readonly key: string;
  /** performance.now() when the primary acknowledged it. */
  readonly ackedAt: number;
}

/** Resolved by the primary's write probe; replicas' replication probes await it. */
export interface ShardWriteSignal {
  readonly written: Promise<ShardWrite>;
  /** True once the primary's write was acknowledged. */
  readonly done: boolean;
  resolve(write: ShardWrite): void;
  reject(reason: string): void;
}

export interface ProbeContext {
  readonly node: TopologyNode;
  /** Runs commands on this node's connection (see ConnectionPool.exec: may run twice, bounded). */
  exec<T>(op: (client: Redis) => Promise<T>, timeoutMs?: number): Promise<T>;
  /**
   * The shard's canary key (its hash tag pins it to a slot this node's shard serves), with the
   * fallback for a slot in motion; probes use it through `onCanary`.
   */
  readonly canary: CanaryTarget;
  readonly sweepId: string;
  readonly timeoutMs: number;
  readonly shardWrite: ShardWriteSignal;
  readonly secret?: Secret;
  /**
   * Runs `op` in the sweep's quiet window (see quiet-window.ts): alone, while no other node's
   * commands are in flight, so that the event loop's work for them does not end up in a latency.
   */
  quietly<T>(op: () => Promise<T>): Promise<T>;
}

/** Every probe has this shape; it records what it saw and never throws. */
export type Probe = (context: ProbeContext) => Promise<ProbeResult>;

/** A failed check with a message of our own. */
export class CheckFailed extends Error {}

export const passed = (latencyMs: number): ProbeResult => ({
  ok: true,
  latencyMs: roundMs(latencyMs),
});

export const failed = (error: unknown, context: Pick<ProbeContext, 'secret'>): ProbeResult => ({
  ok: false,
  latencyMs: null,
  error: describeError(error, context.secret),
});

/** Times `op` alone on a ready connection: dialling is never part of a probe's latency. */
export async function timed<T>(
  context: ProbeContext,
  op: (client: Redis) => Promise<T>,
): Promise<{ value: T; latencyMs: number }> {
  return context.exec(async (client) => {
    const start = performance.now();
    const value = await op(client);
    return { value, latencyMs: performance.now() - start };
  });
}

export function expect(condition: boolean, message: string): asserts condition {
  if (!condition) throw new CheckFailed(message);
}
