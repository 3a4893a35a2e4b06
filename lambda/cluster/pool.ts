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
 *
 * Where tokens expire (IAM authentication), every AUTH asks the token source for the current
 * token, and a kept connection whose last AUTH is older than `reauthAfterMs` AUTHs again before
 * use; if that fails, the connection is dropped and the failure (`auth: …`) is the result.
 */
import type { Redis } from 'ioredis';
import type { Secret } from '../secret.js';
import type { TokenSource } from '../token-source.js';
import {
  authArguments,
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
  /**
   * Asked for the token at every AUTH, so a changed token (rotated, re-signed) is used from the
   * next AUTH on, while connections already authenticated are kept.
   * @default the settings' token for every AUTH
   */
  readonly tokens?: Pick<TokenSource, 'current'>;
  /** A kept connection AUTHs again once its last AUTH is this old. @default never */
  readonly reauthAfterMs?: number;
}

export const POOL_DEFAULTS: PoolOptions = { maxIdleMs: 240_000 };

interface Entry {
  readonly key: string;
  readonly client: Redis;
  /** The sweep that last used this connection successfully. */
  generation: number;
  lastUsedAt: number;
  authedAt: number;
  inflight: number;
  /** A re-AUTH under way, which concurrent users of the connection wait for. */
  reauth?: Promise<Entry>;
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
  #lastToken: Secret | undefined;

  constructor(settings: ConnectionSettings, options: PoolOptions = POOL_DEFAULTS) {
    this.#settings = settings;
    this.#options = options;
    this.#lastToken = settings.token;
  }

  get settings(): ConnectionSettings {
    return this.#settings;
  }

  /** The token of the latest AUTH, for scrubbing it from messages. */
  get token(): Secret | undefined {
    return this.#lastToken;
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
      const now = Date.now();
      const idleMs = now - existing.lastUsedAt;
      if (existing.client.status === 'ready' && idleMs <= this.#options.maxIdleMs) {
        const reauthAfterMs = this.#options.reauthAfterMs;
        const authStale = reauthAfterMs !== undefined && now - existing.authedAt >= reauthAfterMs;
        return authStale || existing.reauth ? this.#reauthenticate(existing) : existing;
      }
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
    const token = await this.#currentToken();
    const client = await openConnection({ ...this.#settings, ...(token && { token }) }, target);
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
      authedAt: Date.now(),
      inflight: 0,
    };
    this.#entries.set(key, entry);
    return entry;
  }

  async #currentToken(): Promise<Secret | undefined> {
    const { tokens } = this.#options;
    if (tokens === undefined) return this.#settings.token;
    const token = await tokens.current(AbortSignal.timeout(this.#settings.timeoutMs));
    this.#lastToken = token;
    return token;
  }

  /** AUTH again on a live connection; callers meanwhile share the one attempt. */
  #reauthenticate(entry: Entry): Promise<Entry> {
    entry.reauth ??= (async () => {
      try {
        const token = await this.#currentToken();
        if (token !== undefined) {
          await withTimeout(
            entry.client.call('AUTH', ...authArguments(this.#settings.username, token)),
            this.#settings.timeoutMs,
            'auth',
          );
        }
        entry.authedAt = Date.now();
        return entry;
      } catch (error) {
        // A connection that cannot prove its credentials any more is not one to probe with.
        this.#discard(entry);
        throw error;
      } finally {
        entry.reauth = undefined;
      }
    })();
    return entry.reauth;
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
