/**
 * Connections kept between sweeps, one per node, the way a warm Lambda keeps them.
 *
 * The stale-connection problem (a pooled connection that the server closed while it sat idle:
 * idle timeout, restart, CLIENT KILL, failover) is handled in two layers, as a careful pool does:
 * 1. before use, a connection whose socket has already ended, or that sat idle past `maxIdleMs`,
 *    is replaced without anyone noticing;
 * 2. the first command on a connection carried over from an earlier sweep may still fail because
 *    the close had not reached us yet; such a connection-level failure (not a timeout, and not a
 *    reply error) is retried once on a fresh connection.
 * Both count as reconnects. A connection that fails in any other way is dropped, never reused.
 */
import type { Redis } from 'ioredis';
import {
  isConnectionFailure,
  isStaleConnectionError,
  openConnection,
  withTimeout,
  type ConnectionSettings,
  type NodeTarget,
} from './connect.js';

export interface PoolOptions {
  /** Connections idle longer than this are replaced before use. */
  readonly maxIdleMs: number;
}

export const POOL_DEFAULTS: PoolOptions = { maxIdleMs: 240_000 };

interface Entry {
  readonly key: string;
  readonly client: Redis;
  /** The sweep that last used this connection successfully. */
  generation: number;
  lastUsedAt: number;
  inflight: number;
}

export interface PoolCounters {
  /** Connections dialled (first connections and replacements). */
  readonly opened: number;
  /** Connections found closed or broken and replaced. */
  readonly reconnects: number;
}

export const targetKey = (target: NodeTarget): string => `${target.host}:${target.port}`;

export class ConnectionPool {
  readonly #settings: ConnectionSettings;
  readonly #options: PoolOptions;
  readonly #entries = new Map<string, Entry>();
  readonly #dialling = new Map<string, Promise<Entry>>();
  readonly #reconnectsByKey = new Map<string, number>();
  #generation = 0;
  #opened = 0;
  #reconnects = 0;
  #closed = false;

  constructor(settings: ConnectionSettings, options: PoolOptions = POOL_DEFAULTS) {
    this.#settings = settings;
    this.#options = options;
  }

  get settings(): ConnectionSettings {
    return this.#settings;
  }

  /** Marks the start of a sweep: connections used before it become suspects for one retry. */
  beginSweep(): void {
    this.#generation++;
  }

  counters(): PoolCounters {
    return { opened: this.#opened, reconnects: this.#reconnects };
  }

  reconnectsOf(target: NodeTarget): number {
    return this.#reconnectsByKey.get(targetKey(target)) ?? 0;
  }

  /** True while the pool holds a live connection to `target`. */
  isConnected(target: NodeTarget): boolean {
    return this.#entries.get(targetKey(target))?.client.status === 'ready';
  }

  /** Makes sure a usable connection exists; says whether it was already there. */
  async prepare(target: NodeTarget): Promise<{ reused: boolean }> {
    const before = this.#entries.get(targetKey(target));
    const entry = await this.#acquire(target);
    return { reused: entry === before };
  }

  /**
   * Runs `op` on the connection to `target`, bounded by the probe timeout (or `timeoutMs`). `op` may
   * run twice (see the class comment), so it must be safe to repeat and should time itself.
   */
  async exec<T>(
    target: NodeTarget,
    op: (client: Redis) => Promise<T>,
    timeoutMs?: number,
  ): Promise<T> {
    const entry = await this.#acquire(target);
    const carriedOver = entry.generation < this.#generation;
    try {
      return await this.#run(entry, op, timeoutMs);
    } catch (error) {
      if (!carriedOver || !isStaleConnectionError(error)) throw error;
      this.#countReconnect(entry.key);
      return await this.#run(await this.#acquire(target), op, timeoutMs);
    }
  }

  /**
   * Closes the connections to every target not in `keep` and forgets their counters: a node the
   * cluster no longer lists (scaled in, replaced) must not keep a socket, and its server a
   * client, for as long as the Lambda stays warm.
   */
  retainOnly(keep: readonly NodeTarget[]): void {
    const kept = new Set(keep.map(targetKey));
    for (const entry of this.#entries.values()) if (!kept.has(entry.key)) this.#discard(entry);
    for (const key of this.#reconnectsByKey.keys())
      if (!kept.has(key)) this.#reconnectsByKey.delete(key);
  }

  /** Drops connections with commands still outstanding (a sweep ended at its deadline). */
  dropBusy(): void {
    for (const entry of this.#entries.values()) if (entry.inflight > 0) this.#discard(entry);
  }

  close(): void {
    this.#closed = true;
    for (const entry of this.#entries.values()) this.#discard(entry);
  }

  async #run<T>(entry: Entry, op: (client: Redis) => Promise<T>, timeoutMs?: number): Promise<T> {
    entry.inflight++;
    try {
      const value = await withTimeout(
        op(entry.client),
        timeoutMs ?? this.#settings.timeoutMs,
        'reply',
      );
      entry.generation = this.#generation;
      entry.lastUsedAt = Date.now();
      return value;
    } catch (error) {
      if (isConnectionFailure(error)) this.#discard(entry);
      throw error;
    } finally {
      entry.inflight--;
    }
  }

  async #acquire(target: NodeTarget): Promise<Entry> {
    if (this.#closed) throw new Error('connection pool is closed');
    const key = targetKey(target);
    const existing = this.#entries.get(key);
    if (existing) {
      const idleMs = Date.now() - existing.lastUsedAt;
      if (existing.client.status === 'ready' && idleMs <= this.#options.maxIdleMs) return existing;
      this.#countReconnect(key);
      this.#discard(existing);
    }
    let dialling = this.#dialling.get(key);
    if (!dialling) {
      dialling = this.#dial(key, target).finally(() => this.#dialling.delete(key));
      this.#dialling.set(key, dialling);
    }
    return dialling;
  }

  async #dial(key: string, target: NodeTarget): Promise<Entry> {
    const client = await openConnection(this.#settings, target);
    this.#opened++;
    if (this.#closed) {
      client.disconnect();
      throw new Error('connection pool is closed');
    }
    const entry: Entry = {
      key,
      client,
      generation: this.#generation,
      lastUsedAt: Date.now(),
      inflight: 0,
    };
    this.#entries.set(key, entry);
    return entry;
  }

  #discard(entry: Entry): void {
    if (this.#entries.get(entry.key) === entry) this.#entries.delete(entry.key);
    entry.client.disconnect();
  }

  #countReconnect(key: string): void {
    this.#reconnects++;
    this.#reconnectsByKey.set(key, (this.#reconnectsByKey.get(key) ?? 0) + 1);
  }
}
