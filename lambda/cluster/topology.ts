/**
 * The cluster's own description of itself, parsed from CLUSTER SHARDS (Redis 7+ / Valkey) or
 * CLUSTER NODES (older engines). Pure: replies in, typed topology out, TopologyParseError on
 * anything that does not have the documented shape.
 */
import { TopologyParseError } from '../errors.js';
import { SLOT_COUNT } from './slots.js';

export type NodeRole = 'primary' | 'replica';

/** What the cluster believes about a node: `failed` covers `fail` and `fail?` (PFAIL). */
export type NodeHealth = 'online' | 'failed' | 'loading';

export interface SlotRange {
  readonly start: number;
  readonly end: number;
}

export interface TopologyNode {
  /** The node's 40-character cluster id. */
  readonly id: string;
  /** Host to dial: the announced endpoint / hostname, else the IP; '' when the cluster has no address (noaddr). */
  readonly host: string;
  /** Client port to dial: the TLS port when TLS is on and the node announces one. */
  readonly port: number;
  /** `host:port` as announced (`[v6]:port` for IPv6 hosts); ':0' for a noaddr node. */
  readonly address: string;
  readonly role: NodeRole;
  /** Same value for a primary and its replicas (see `shardIdFor`). */
  readonly shard: string;
  /** For replicas: the id of the primary they replicate. */
  readonly primaryId?: string;
  readonly health: NodeHealth;
  /** Raw CLUSTER NODES flags (`master`, `slave`, `fail?`, `noaddr`, …); derived for CLUSTER SHARDS. */
  readonly flags: readonly string[];
  /** Replication offset when the reply carries it. */
  readonly replicationOffset?: number;
}

export interface Shard {
  /** See `shardIdFor`. */
  readonly id: string;
  readonly slots: readonly SlotRange[];
  /** Node id of the shard's primary (absent if the reply names none). */
  readonly primaryId?: string;
  /** Ids of every node in the shard, primary first. */
  readonly nodeIds: readonly string[];
}

export interface SlotMigration {
  readonly slot: number;
  readonly state: 'migrating' | 'importing';
  /** The node that reported it. */
  readonly nodeId: string;
  /** The other side of the migration. */
  readonly peerId: string;
}

export interface Topology {
  readonly source: 'CLUSTER SHARDS' | 'CLUSTER NODES';
  /** In slot order: the shard owning slot 0 first; slotless shards last. */
  readonly shards: readonly Shard[];
  /** Every member node, in shard order, primary before its replicas. Handshake nodes excluded. */
  readonly nodes: readonly TopologyNode[];
  /** Slots that CLUSTER NODES shows as migrating or importing (CLUSTER SHARDS does not show them). */
  readonly migrations: readonly SlotMigration[];
  /** Nodes in the handshake state (not members yet, so not probed). */
  readonly handshakeNodes: number;
}

export interface ParseOptions {
  /** Prefer the TLS port when a node announces both. */
  readonly tls: boolean;
}
