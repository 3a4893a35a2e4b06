/**
 * The failover drill: a repeatable rehearsal of one shard losing its primary, with exact numbers.
 *
 * Pre-checks (the cluster is whole, the shard has an in-sync replica, no other drill holds the
 * lock, the trigger can act) end the drill before anything is touched. Then a writer and readers
 * run as client applications would, a baseline is taken, the trigger fires, and the engine
 * watches until the shard has fully recovered or the time limit passes. Acknowledged writes are
 * read back from the new primary, every drill key and the lock are removed, and the samples give
 * the outage figures. Every wait is bounded, every connection is closed at the end.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { canaryKey, canaryValue, CANARY_PREFIX } from '../cluster/canary-keys.js';
import { describeError, type ConnectionSettings, type NodeTarget } from '../cluster/connect.js';
import { ConnectionPool, POOL_DEFAULTS } from '../cluster/pool.js';
import type { Shard, Topology, TopologyNode } from '../cluster/topology.js';
import type { ProbeConfig } from '../config.js';
import type { Secret } from '../secret.js';
import type { TokenSource } from '../token-source.js';
import { CONTROL_SLOT, LOCK_MARGIN_MS, releaseLock, takeLock } from './lock.js';
import { outageFigures } from './outage.js';
import { precheck, type DrillTarget } from './prechecks.js';
import { readBack, removeKeys } from './read-back.js';
import { Recorder } from './recorder.js';
import { pickNextShard, recordDrilledShard } from './rotation.js';
import { ownerOf, SlotRoute } from './slot-route.js';
import {
  readFromNode,
  readViaPrimary,
  Writer,
  type DrillKeys,
  type StreamOptions,
} from './streams.js';
import { pause, settledWithin } from './timing.js';
import type { DrillReport, TimelineEvent, Trigger, TriggerContext } from './types.js';
import { watchRecovery, type WatchOutcome } from './watch.js';

export interface DrillOptions {
  /** From loadConfig: endpoint, tls, caPem, username, timeoutMs, clusterName… */
  readonly config: ProbeConfig;
  /** The AUTH token, already resolved by the caller. */
  readonly token?: Secret;
  /**
   * Asked for the token at every AUTH, when tokens expire during a drill (IAM tokens do 15
   * minutes after signing, a drill may run as long). @default `token` for every AUTH
   */
  readonly tokens?: Pick<TokenSource, 'current'>;
  readonly trigger: Trigger;
  /** Shard id as in the sweep report. @default the first shard in slot order (or the next in turn, with `rotate`) */
  readonly shard?: string;
  /** From the start of the drill until it gives up waiting for recovery. */
  readonly timeLimitMs: number;
  readonly writeIntervalMs: number;
  readonly readIntervalMs: number;
  /** Live progress, for the CLI. */
  readonly onEvent?: (event: TimelineEvent) => void;
  /**
   * Take the shards in turn: the one after the shard drilled last (kept in a canary key), which
   * is then remembered. Ignored when `shard` is given. @default false
   */
  readonly rotate?: boolean;
  /** Ends the drill early (Ctrl-C): it stops watching and cleans up as at the time limit. */
  readonly signal?: AbortSignal;
}

/** Writes and reads run this long before the trigger: the healthy baseline of the picture. */
export const BASELINE_MS = 1000;
/** How long a trigger may take to finish its part once the drill is over. */
export const TRIGGER_SETTLE_MS = 10_000;

export async function runDrill(options: DrillOptions): Promise<DrillReport> {
  const drill = new Drill(options);
  try {
    return await drill.run();
  } finally {
    drill.close();
  }
}

/** The drill's lock, once taken: released exactly once, before the report is built. */
interface HeldLock {
  readonly route: SlotRoute;
  readonly value: string;
  released: boolean;
}

/** A started writer and readers, and how to stop them. */
interface Streams {
  readonly writer: Writer;
  /** Stops every stream and resolves, once they have all ended, with the time they did. */
  stop(): Promise<number>;
}

class Drill {
  readonly #options: DrillOptions;
  readonly #recorder: Recorder;
  readonly #id = randomBytes(4).toString('hex');
  readonly #pools: ConnectionPool[] = [];
  readonly #control: ConnectionPool;
  /** Aborted at the time limit. */
  readonly #limit = new AbortController();
  readonly #limitTimer: NodeJS.Timeout;
  readonly #limitAt: number;
  /** Aborted when the drill is over, whichever way: every loop and the trigger stop. */
  readonly #end = new AbortController();
  /** The time limit, an interruption, or the end. */
  readonly #stop: AbortSignal;
  #known: readonly TopologyNode[] = [];
  #shardId = '';
  #lock: HeldLock | undefined;
  #readBack: { lost: number; unverified: number } = { lost: 0, unverified: 0 };

  constructor(options: DrillOptions) {
    this.#options = options;
    this.#recorder = new Recorder(options.onEvent);
    this.#limitAt = Date.now() + options.timeLimitMs;
    this.#limitTimer = setTimeout(() => this.#limit.abort(), options.timeLimitMs);
    this.#stop = AbortSignal.any([
      this.#limit.signal,
      this.#end.signal,
      ...(options.signal ? [options.signal] : []),
    ]);
    this.#control = this.#pool();
  }

  close(): void {
    clearTimeout(this.#limitTimer);
    this.#end.abort();
    for (const pool of this.#pools) pool.close();
  }

  async run(): Promise<DrillReport> {
    const { trigger, config } = this.#options;
    this.#recorder.event('drill started', `${trigger.name} on ${config.clusterName}`);
    const checked = await precheck({
      pool: this.#control,
      endpoint: config.endpoint,
      tls: config.tls,
      ...(this.#options.shard !== undefined && { shard: this.#options.shard }),
      ...(this.#options.rotate === true && {
        pickShard: (shards: readonly Shard[], topology: Topology) =>
          pickNextShard(this.#controlRoute(topology), shards),
      }),
      send: this.#send,
      ...(this.#options.token && { secret: this.#options.token }),
    });
    if (!checked.ok) {
      return this.#abortedReport(checked.reason, checked.shard?.id, checked.primary?.address);
    }
    this.#known = checked.topology.nodes;
    this.#shardId = checked.shard.id;
    const refusal = await this.#takeLock(checked);
    if (refusal !== undefined) {
      return this.#abortedReport(refusal, checked.shard.id, checked.primary.address);
    }
    try {
      return await this.#drillLocked(checked);
    } finally {
      // Only reached with the lock still held when something threw: release it all the same.
      await this.#releaseLock();
    }
  }

  async #drillLocked(target: DrillTarget): Promise<DrillReport> {
    const promoted = deferred();
    const context: TriggerContext = {
      topology: target.topology,
      shard: target.shard.id,
      promoted: promoted.promise,
      signal: AbortSignal.any([this.#limit.signal, this.#end.signal]),
      limitAt: this.#limitAt,
      log: (event, detail) => this.#recorder.event(event, detail),
      send: this.#send,
    };
    const refusal = await this.#triggerRefusal(context);
    if (refusal !== undefined) {
      await this.#releaseLock();
      return this.#abortedReport(refusal, target.shard.id, target.primary.address);
    }
    const inSync = target.replicas.filter((replica) => replica.inSync);
    const best = inSync[0]?.lagBytes;
    this.#recorder.event(
      'pre-checks passed',
      `primary ${target.primary.address}; ${inSync.length} of ${target.replicas.length} replicas in sync${best === undefined ? '' : ` (the best ${best} bytes behind)`}`,
    );

    const keys = this.#keys(target.slot);
    const streams = this.#startStreams(target, keys);
    await pause(BASELINE_MS, this.#stop);
    if (streams.writer.acked.length === 0 || this.#stop.aborted) {
      const endedAt = await streams.stop();
      const reason =
        streams.writer.acked.length === 0
          ? `no write was acknowledged in the ${BASELINE_MS} ms before the trigger: ${this.#firstWriteError()}`
          : this.#limit.signal.aborted
            ? 'the time limit was reached before the trigger'
            : 'interrupted before the trigger';
      await this.#cleanUp(target, keys, streams.writer, undefined);
      return this.#report(target, streams.writer, { recovered: false }, endedAt, reason);
    }

    const { outcome, fireError, endedAt } = await this.#fireAndWatch(
      target,
      streams,
      context,
      promoted,
    );
    await this.#cleanUp(target, keys, streams.writer, outcome.newPrimary);
    return this.#report(
      target,
      streams.writer,
      outcome,
      endedAt,
      fireError === undefined ? undefined : `the trigger failed before acting: ${fireError}`,
    );
  }

  /** The trigger's own check; a check that throws refuses with its error. */
  async #triggerRefusal(context: TriggerContext): Promise<string | undefined> {
    const { trigger, token } = this.#options;
    try {
      const verdict = await trigger.check(context);
      return verdict.ok ? undefined : verdict.reason;
    } catch (error) {
      return `the ${trigger.name} trigger could not check: ${describeError(error, token)}`;
    }
  }

  #startStreams(target: DrillTarget, keys: DrillKeys): Streams {
    const halt = new AbortController();
    const signal = AbortSignal.any([halt.signal, this.#end.signal]);
    const writer = new Writer(
      this.#route(target.slot, target.primary),
      target.primary.address,
      this.#streamOptions(keys, this.#options.writeIntervalMs),
    );
    const readOptions = this.#streamOptions(keys, this.#options.readIntervalMs);
    const nodePool = this.#pool();
    const shardNodes = [target.primary, ...target.replicas.map((replica) => replica.node)];
    const running = Promise.all([
      writer.run(signal),
      readViaPrimary(this.#route(target.slot, target.primary), writer, readOptions, signal),
      ...shardNodes.map((node) => readFromNode(nodePool, node, writer, readOptions, signal)),
    ]);
    return {
      writer,
      stop: async () => {
        halt.abort();
        await running;
        return this.#recorder.now();
      },
    };
  }

  /**
   * Fires the trigger and watches the shard until it recovers, the time limit passes, the drill
   * is interrupted, or the trigger fails. Then stops the streams and lets the trigger finish its
   * part (pause-primary resumes the old primary).
   */
  async #fireAndWatch(
    target: DrillTarget,
    streams: Streams,
    context: TriggerContext,
    promoted: { resolve: () => void },
  ): Promise<{ outcome: WatchOutcome; fireError?: string; endedAt: number }> {
    const { trigger, token } = this.#options;
    const fireAt = this.#recorder.now();
    let fired = false;
    let fireError: string | undefined;
    const triggerFailed = new AbortController();
    const firing = trigger.fire(context).then(
      () => {
        fired = true;
      },
      (error: unknown) => {
        fired = true;
        const cause = describeError(error, token);
        // A trigger that had acted (it logged 'trigger') set a failover going: keep watching it.
        if (this.#recorder.has('trigger')) {
          this.#recorder.event(
            'trigger',
            `the ${trigger.name} trigger failed after acting: ${cause}`,
          );
          return;
        }
        fireError = cause;
        triggerFailed.abort();
      },
    );
    const outcome = await watchRecovery({
      pool: this.#control,
      tls: this.#options.config.tls,
      send: this.#send,
      slot: target.slot,
      oldPrimary: target.primary,
      recorder: this.#recorder,
      writer: streams.writer,
      triggerDone: () => fired,
      sources: () => this.#sources(),
      onView: (topology) => {
        this.#known = topology.nodes;
      },
      onPromoted: () => promoted.resolve(),
      signal: AbortSignal.any([this.#stop, triggerFailed.signal]),
    });
    if (fireError !== undefined) {
      this.#recorder.event('aborted', `the trigger failed before acting: ${fireError}`);
    } else if (!outcome.recovered) {
      const interrupted = this.#options.signal?.aborted === true && !this.#limit.signal.aborted;
      if (interrupted) this.#recorder.event('aborted', 'interrupted');
      else this.#recorder.event('time limit reached');
    }
    const endedAt = await streams.stop();
    promoted.resolve();
    this.#end.abort();
    await settledWithin(firing, TRIGGER_SETTLE_MS);
    // A trigger that did not say when it acted, and did not fail, acted when it was fired.
    if (fireError === undefined && !this.#recorder.has('trigger')) {
      this.#recorder.event('trigger', trigger.name, fireAt);
    }
    return { outcome, endedAt, ...(fireError !== undefined && { fireError }) };
  }

  /** Reads back what was acknowledged, removes every drill key, releases the lock. */
  async #cleanUp(
    target: DrillTarget,
    keys: DrillKeys,
    writer: Writer,
    newPrimary: TopologyNode | undefined,
  ): Promise<void> {
    const { token } = this.#options;
    const route = this.#route(target.slot, newPrimary ?? target.primary, this.#control);
    const result = await readBack(route, keys, writer.acked, token);
    this.#readBack = result;
    const removal = await removeKeys(route, keys, writer.attempted, token);
    const lock = await this.#releaseLock();
    const problems = [
      removal,
      result.error === undefined
        ? undefined
        : `${result.unverified} writes not read back: ${result.error}`,
      lock,
    ].filter((problem) => problem !== undefined);
    this.#recorder.event(
      'keys removed',
      problems.length === 0
        ? `${writer.attempted} drill keys and the lock`
        : `not all: ${problems.join('; ')}`,
    );
  }

  /** Takes the lock (and, with `rotate`, records the shard's turn); a refusal says why. */
  async #takeLock(target: DrillTarget): Promise<string | undefined> {
    const route = this.#controlRoute(target.topology);
    const value = `drill ${this.#id}: ${this.#options.trigger.name} on shard ${target.shard.id}, from ${hostname()} pid ${process.pid}, started ${this.#recorder.startedAt.toISOString()}`;
    const ttlMs = this.#options.timeLimitMs + LOCK_MARGIN_MS;
    const taken = await takeLock(route, value, ttlMs, this.#options.token);
    if (!taken.ok) return taken.reason;
    this.#lock = { route, value, released: false };
    if (this.#options.rotate === true && this.#options.shard === undefined) {
      const shards = target.topology.shards.filter((shard) => shard.slots.length > 0);
      await recordDrilledShard(route, shards, target.shard);
    }
    return undefined;
  }

  async #releaseLock(): Promise<string | undefined> {
    const lock = this.#lock;
    if (lock === undefined || lock.released) return undefined;
    lock.released = true;
    return releaseLock(lock.route, lock.value, this.#options.token);
  }

  #report(
    target: DrillTarget,
    writer: Writer,
    outcome: Pick<WatchOutcome, 'recovered' | 'newPrimary'>,
    streamsEndedAt: number,
    aborted: string | undefined,
  ): DrillReport {
    const figures = outageFigures(
      this.#recorder.samples,
      target.replicas.map((replica) => replica.node.address),
      streamsEndedAt,
    );
    const { lost, unverified } = this.#readBack;
    if (aborted !== undefined && !this.#recorder.has('aborted')) {
      this.#recorder.event('aborted', aborted);
    }
    return {
      cluster: this.#options.config.clusterName,
      shard: target.shard.id,
      trigger: this.#options.trigger.name,
      oldPrimary: target.primary.address,
      newPrimary: outcome.newPrimary?.address ?? '',
      startedAt: this.#recorder.startedAt.toISOString(),
      recovered: outcome.recovered && aborted === undefined,
      ...figures,
      ackedWrites: writer.acked.length,
      lostWrites: lost,
      ...(unverified > 0 && { unverifiedWrites: unverified }),
      timeline: this.#recorder.timeline,
      ...(aborted !== undefined && { aborted }),
      durationMs: Math.round(this.#recorder.now()),
      samples: this.#recorder.samples,
    };
  }

  /** A drill that stopped before writing anything: the reason, and what was known by then. */
  #abortedReport(reason: string, shard = this.#shardId, oldPrimary = ''): DrillReport {
    this.#recorder.event('aborted', reason);
    return {
      cluster: this.#options.config.clusterName,
      shard,
      trigger: this.#options.trigger.name,
      oldPrimary,
      newPrimary: '',
      startedAt: this.#recorder.startedAt.toISOString(),
      recovered: false,
      writeOutageMs: 0,
      readOutageMs: 0,
      primaryReadOutageMs: 0,
      replicaReadOutageMs: 0,
      ackedWrites: 0,
      lostWrites: 0,
      timeline: this.#recorder.timeline,
      aborted: reason,
      durationMs: Math.round(this.#recorder.now()),
      samples: [],
    };
  }

  /** One command to one node over the control pool; the trigger and the checks use it. */
  readonly #send: TriggerContext['send'] = (target, command) =>
    this.#control.exec(target, (client) => client.call(...command));

  /** A pool of its own per client role, so one stream's timeout never drops another's connection. */
  #pool(): ConnectionPool {
    const { config, token, tokens } = this.#options;
    const settings: ConnectionSettings = {
      tls: config.tls,
      timeoutMs: config.timeoutMs,
      ...(config.caPem !== undefined && { caPem: config.caPem }),
      ...(config.username !== undefined && { username: config.username }),
      ...(token !== undefined && { token }),
    };
    const pool = new ConnectionPool(settings, { ...POOL_DEFAULTS, ...(tokens && { tokens }) });
    this.#pools.push(pool);
    return pool;
  }

  #route(slot: number, owner: NodeTarget, pool: ConnectionPool = this.#pool()): SlotRoute {
    const target = { host: owner.host, port: owner.port };
    return new SlotRoute(pool, slot, target, () => this.#sources(), this.#options.config.tls);
  }

  #controlRoute(topology: Topology): SlotRoute {
    const owner = ownerOf(topology, CONTROL_SLOT) ?? this.#options.config.endpoint;
    return this.#route(CONTROL_SLOT, owner, this.#control);
  }

  /** Known nodes, the drilled shard's first: they are the first to know of a promotion. */
  #sources(): readonly TopologyNode[] {
    const inShard = this.#known.filter((node) => node.shard === this.#shardId);
    return [...inShard, ...this.#known.filter((node) => node.shard !== this.#shardId)];
  }

  #keys(slot: number): DrillKeys {
    return {
      keyOf: (seq) => canaryKey(slot, `drill:${seq}`),
      valueOf: (seq) => canaryValue(this.#id, seq),
      // The keys must outlive the drill until they are read back, and not much longer.
      ttlMs: this.#options.timeLimitMs + LOCK_MARGIN_MS,
    };
  }

  #streamOptions(keys: DrillKeys, intervalMs: number): StreamOptions {
    return {
      recorder: this.#recorder,
      keys,
      intervalMs,
      ...(this.#options.token && { secret: this.#options.token }),
    };
  }

  #firstWriteError(): string {
    const failure = this.#recorder.samples.find(
      (sample) => sample.stream === 'write' && !sample.ok,
    );
    return failure?.error ?? 'no write completed';
  }
}

/** A promise and its resolver; resolving twice is harmless. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

/** Every drill key matches this pattern (for tests and operators: `SCAN MATCH`). */
export const DRILL_KEY_PATTERN = `${CANARY_PREFIX}*drill*`;

/** The report as printed and logged: the samples are for the picture only. */
export function withoutSamples(report: DrillReport): DrillReport {
  const { samples, ...summary } = report;
  void samples;
  return summary;
}
