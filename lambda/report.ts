/** The sweep report of CONTRACT section 3, plus slotwatch's additions (marked). */
import type { NodeHealth, NodeRole } from './cluster/topology.js';

export const PROBE_NAMES = ['ping', 'read', 'pipeline', 'write', 'replication'] as const;
export type ProbeName = (typeof PROBE_NAMES)[number];

export type ProbeResult =
  | { readonly ok: true; readonly latencyMs: number }
  | {
      readonly ok: false;
      readonly latencyMs: null;
      readonly error: string;
      /** Addition: the probe could not be run for a reason outside this node (it does not fail the node). */
      readonly skipped?: true;
    };

export interface NodeReport {
  readonly id: string;
  readonly address: string;
  readonly role: NodeRole;
  readonly shard: string;
  readonly ok: boolean;
  readonly probes: Partial<Record<ProbeName, ProbeResult>>;
  /** Addition: what the cluster's gossip says about this node. */
  readonly health: NodeHealth;
  /** Addition: time to dial, TLS and AUTH when this sweep had to connect; 0 when reused; null when it failed. */
  readonly connectMs: number | null;
  /** Addition: stale connections to this node replaced during this sweep. */
  readonly reconnects: number;
  /** Addition: `cluster_state` as this node sees it, when it answered. */
  readonly clusterState?: string;
  /** Addition: whether this node's slot map matches the majority's, when it answered. */
  readonly slotMapAgrees?: boolean;
}

export type CrossSlotCheck =
  | {
      readonly ok: true;
      readonly latencyMs: number;
      readonly shards: number;
      /** Addition: keys written and read back. */
      readonly keys: number;
      /** Addition: MOVED/ASK redirects followed. */
      readonly redirects: number;
    }
  | {
      readonly ok: false;
      readonly latencyMs: null;
      readonly shards: number;
      readonly error: string;
    };

export interface SlotsCheck {
  readonly ok: boolean;
  readonly covered: number;
  /** Addition: slot ranges with no reachable primary, e.g. "0-5460". */
  readonly uncovered?: string;
}

/** Addition: nodes whose `cluster_state` is not ok. */
export interface ClusterStateCheck {
  readonly ok: boolean;
  readonly failing: readonly string[];
}

/** Addition: nodes whose slot map differs from the majority's. */
export interface SlotMapCheck {
  readonly ok: boolean;
  /** Nodes that have reported the same differing map for longer than gossip needs to settle. */
  readonly disagreeing: readonly string[];
  /** Nodes whose differing map is newer than that: slots that just moved, not yet known there. */
  readonly settling?: readonly string[];
}

export interface SweepReport {
  readonly cluster: string;
  readonly ok: boolean;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly nodes: readonly NodeReport[];
  readonly checks: {
    readonly crossSlot: CrossSlotCheck;
    readonly slots: SlotsCheck;
    readonly clusterState: ClusterStateCheck;
    readonly slotMap: SlotMapCheck;
  };
  /** Addition: where the topology came from. */
  readonly topology: {
    readonly source: string | null;
    readonly from: string | null;
    readonly shards: number;
  };
  /** Addition: stale connections replaced during this sweep, all nodes together. */
  readonly reconnects: number;
  /** Addition: set when the sweep could not even read the topology. */
  readonly error?: string;
}

/** Rounds a latency to microseconds, as reports carry it. */
export const roundMs = (ms: number): number => Math.round(ms * 1000) / 1000;

/**
 * The report of a sweep that could not probe anything (no topology, no token): every check
 * failed, with `error` saying why. `nodes` are the nodes known from earlier, if any.
 */
export function failedSweepReport(
  cluster: string,
  startedAt: Date,
  durationMs: number,
  error: string,
  nodes: readonly NodeReport[] = [],
): SweepReport {
  return {
    cluster,
    ok: false,
    startedAt: startedAt.toISOString(),
    durationMs: roundMs(durationMs),
    nodes,
    checks: {
      crossSlot: { ok: false, latencyMs: null, shards: 0, error: `crossSlot: not run: ${error}` },
      slots: { ok: false, covered: 0, uncovered: '0-16383' },
      clusterState: { ok: false, failing: [] },
      slotMap: { ok: false, disagreeing: [] },
    },
    topology: { source: null, from: null, shards: 0 },
    reconnects: 0,
    error,
  };
}
