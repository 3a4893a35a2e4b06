/**
 * The drill's clients: a writer that a client application would be (sequence-numbered writes to
 * the shard's primary, rerouted as a cluster client reroutes), and readers, one routed to the
 * primary and one per node of the shard. Every attempt is a sample; nothing here throws.
 */
import { describeError, type NodeTarget } from '../cluster/connect.js';
import type { ConnectionPool } from '../cluster/pool.js';
import type { Secret } from '../secret.js';
import type { Recorder } from './recorder.js';
import { addressOf, type SlotRoute } from './slot-route.js';
import { every } from './timing.js';

export interface DrillKeys {
  readonly keyOf: (seq: number) => string;
  readonly valueOf: (seq: number) => string;
  /** Every drill key expires by itself after this, even if the drill never cleans up. */
  readonly ttlMs: number;
}

export interface StreamOptions {
  readonly recorder: Recorder;
  readonly keys: DrillKeys;
  readonly intervalMs: number;
  readonly secret?: Secret;
}

export class Writer {
  /** Sequence numbers whose SET the cluster acknowledged, in order. */
  readonly acked: number[] = [];
  #next = 0;
  #lastAcked: number | undefined;
  readonly #lastAckAt = new Map<string, number>();
  readonly #route: SlotRoute;
  readonly #options: StreamOptions;
  readonly #oldPrimary: string;

  constructor(route: SlotRoute, oldPrimary: string, options: StreamOptions) {
    this.#route = route;
    this.#oldPrimary = oldPrimary;
    this.#options = options;
  }

  /** Sequence numbers used so far (acknowledged or not): keys 0 .. attempted-1 may exist. */
  get attempted(): number {
    return this.#next;
  }

  get lastAcked(): number | undefined {
    return this.#lastAcked;
  }

  /** When `address` last acknowledged a write (ms since the start), if it ever did. */
  lastAckedBy(address: string): number | undefined {
    return this.#lastAckAt.get(address);
  }

  run(signal: AbortSignal): Promise<void> {
    return every(this.#options.intervalMs, signal, () => this.#writeOnce());
  }

  async #writeOnce(): Promise<void> {
    const { recorder, keys, secret } = this.#options;
    const seq = this.#next++;
    const sentAt = recorder.now();
    try {
      const reply = await this.#route.send([
        'SET',
        keys.keyOf(seq),
        keys.valueOf(seq),
        'PX',
        keys.ttlMs,
      ]);
      if (reply !== 'OK') throw new Error(`SET answered ${JSON.stringify(reply)}`);
      recorder.sample('write', sentAt, { ok: true });
      this.acked.push(seq);
      this.#lastAcked = seq;
      const node = this.#route.owner ? addressOf(this.#route.owner) : '?';
      this.#lastAckAt.set(node, recorder.now());
      if (node !== this.#oldPrimary) recorder.once('first successful write', `#${seq} on ${node}`);
    } catch (error) {
      const cause = describeError(error, secret);
      recorder.sample('write', sentAt, { ok: false, error: cause });
      recorder.once('first failed write', `#${seq}: ${cause}`, sentAt);
      await this.#route.refresh();
    }
  }
}

/** The key readers ask for: the latest acknowledged one (a miss on a lagging replica is fine). */
const readKey = (writer: Writer, keys: DrillKeys): string => keys.keyOf(writer.lastAcked ?? 0);

/** Reads routed to whoever serves the slot, as an application reading from primaries does. */
export function readViaPrimary(
  route: SlotRoute,
  writer: Writer,
  options: StreamOptions,
  signal: AbortSignal,
): Promise<void> {
  const { recorder, keys, secret } = options;
  return every(options.intervalMs, signal, async () => {
    const sentAt = recorder.now();
    try {
      await route.send(['GET', readKey(writer, keys)]);
      recorder.sample('read:primary', sentAt, { ok: true });
      if (recorder.has('first failed read')) {
        recorder.once(
          'first successful read',
          `via the primary (${route.owner ? addressOf(route.owner) : '?'})`,
        );
      }
    } catch (error) {
      const cause = describeError(error, secret);
      recorder.sample('read:primary', sentAt, { ok: false, error: cause });
      recorder.once('first failed read', `via the primary: ${cause}`, sentAt);
      await route.refresh();
    }
  });
}

/** Reads from one node directly (READONLY is on every drill connection), as replica readers do. */
export function readFromNode(
  pool: ConnectionPool,
  node: NodeTarget,
  writer: Writer,
  options: StreamOptions,
  signal: AbortSignal,
): Promise<void> {
  const { recorder, keys, secret } = options;
  const stream = `read:${addressOf(node)}`;
  return every(options.intervalMs, signal, async () => {
    const sentAt = recorder.now();
    try {
      await pool.exec(node, (client) => client.call('GET', readKey(writer, keys)));
      recorder.sample(stream, sentAt, { ok: true });
    } catch (error) {
      recorder.sample(stream, sentAt, { ok: false, error: describeError(error, secret) });
    }
  });
}
