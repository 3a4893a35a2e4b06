/**
 * The failover drill's shared types: its report (CONTRACT section 5, plus additions), its
 * timeline, and the shape every trigger has. The engine (engine.ts) runs the writer and readers,
 * calls one trigger, watches the shard recover, and builds the report.
 */
import type { NodeTarget } from '../cluster/connect.js';
import type { Topology } from '../cluster/topology.js';

export const TRIGGERS = ['cluster-failover', 'pause-primary', 'elasticache'] as const;
export type TriggerName = (typeof TRIGGERS)[number];

export const TIMELINE_EVENTS = [
  'drill started',
  'pre-checks passed',
  'trigger',
  'first failed write',
  'first failed read',
  'new primary observed',
  'first successful write',
  'first successful read',
  'old primary resumed',
  'old primary back as replica',
  'cluster ok',
  'recovered',
  'time limit reached',
  'keys removed',
  'aborted',
] as const;
export type TimelineEventName = (typeof TIMELINE_EVENTS)[number];

export interface TimelineEvent {
  /** Milliseconds since the drill started. */
  readonly t: number;
  readonly event: TimelineEventName;
  /** Extra words: which node, which error, which sequence number. */
  readonly detail?: string;
}

/** One sample of the writer or a reader, for the picture (`--report`) and the outage maths. */
export interface Sample {
  readonly t: number;
  readonly ok: boolean;
  /** `write`, `read:primary` (routed to whoever is primary) or `read:<address>` (that node). */
  readonly stream: string;
  readonly latencyMs?: number;
  readonly error?: string;
}

export interface DrillReport {
  readonly cluster: string;
  readonly shard: string;
  readonly trigger: TriggerName;
  readonly oldPrimary: string;
  /** Empty when no new primary was observed. */
  readonly newPrimary: string;
  readonly startedAt: string;
  readonly recovered: boolean;
  /** First failed write to first successful write after it; 0 when no write failed. */
  readonly writeOutageMs: number;
  /** The same for reads of the shard where any of its nodes (replicas included) may answer. */
  readonly readOutageMs: number;
  /** Addition: reads routed to the shard's current primary only. */
  readonly primaryReadOutageMs: number;
  /** Addition: reads served by the shard's replicas (a client reading from replicas). */
  readonly replicaReadOutageMs: number;
  readonly ackedWrites: number;
  readonly lostWrites: number;
  /** Addition: acknowledged writes that could not be read back (the shard never answered). */
  readonly unverifiedWrites?: number;
  readonly timeline: readonly TimelineEvent[];
  /** Addition: why the drill stopped before triggering anything (a pre-check or the trigger refused). */
  readonly aborted?: string;
  /** Addition: wall time of the whole drill. */
  readonly durationMs: number;
  /** Addition: the samples behind the outage figures (left out of `--json` unless asked). */
  readonly samples?: readonly Sample[];
}

/** What a trigger gets to work with. */
export interface TriggerContext {
  readonly topology: Topology;
  /** The shard being drilled (its `shard` id in the topology). */
  readonly shard: string;
  /** Resolves when the engine has seen a replica of the shard promoted (or the drill ended). */
  readonly promoted: Promise<void>;
  /** Aborts when the drill's time limit is reached. */
  readonly signal: AbortSignal;
  /** Addition: when the time limit is reached, in `Date.now()` milliseconds. */
  readonly limitAt: number;
  readonly log: (event: TimelineEventName, detail?: string) => void;
  /**
   * Addition: one command to one node (not routed), over the drill's authenticated connections,
   * bounded by the probe timeout; rejects with the server's error or a timeout.
   */
  readonly send: (target: NodeTarget, command: readonly [string, ...string[]]) => Promise<unknown>;
}

/**
 * A way to make the shard fail over. `check` runs with the pre-checks and refuses (with a reason)
 * before anything is touched; `fire` causes the failover and resolves once its own part is done
 * (for pause-primary: once the old primary was resumed).
 */
export interface Trigger {
  readonly name: TriggerName;
  check(context: TriggerContext): Promise<{ ok: true } | { ok: false; reason: string }>;
  fire(context: TriggerContext): Promise<void>;
}
