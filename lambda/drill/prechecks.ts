/**
 * What must hold before a drill may touch anything: the cluster is whole (every node answers and
 * says cluster_state:ok), the shard exists with a primary and a replica that is in sync. Each
 * check returns the reason it refused, worded for the operator; nothing here writes.
 */
import { pickCanarySlot } from '../cluster/canary-keys.js';
import { describeError, type NodeTarget } from '../cluster/connect.js';
import { readTopology } from '../cluster/discover.js';
import type { ConnectionPool } from '../cluster/pool.js';
import type { Shard, Topology, TopologyNode } from '../cluster/topology.js';
import type { Secret } from '../secret.js';
import { describeProblems, parseInfo, replicaSync, type ReplicaSync } from './replica-sync.js';
import type { TriggerContext } from './types.js';

export interface PrecheckInput {
  readonly pool: ConnectionPool;
  readonly endpoint: NodeTarget;
  readonly tls: boolean;
  /** Shard id to drill; absent: the first shard in slot order. */
  readonly shard?: string;
  /** Picks the shard when `shard` is absent (the Lambda's rotation); gets the slot-owning shards. */
  readonly pickShard?: (shards: readonly Shard[], topology: Topology) => Promise<Shard | undefined>;
  readonly send: TriggerContext['send'];
  readonly secret?: Secret;
}

export interface DrillTarget {
  readonly topology: Topology;
  readonly shard: Shard;
  readonly primary: TopologyNode;
  /** Every replica of the shard, most in sync first; at least the first is in sync. */
  readonly replicas: readonly ReplicaSync[];
  /** The slot the drill's keys live in. */
  readonly slot: number;
}

export type Prechecked =
  | ({ readonly ok: true } & DrillTarget)
  | {
      readonly ok: false;
      readonly reason: string;
      readonly topology?: Topology;
      readonly shard?: Shard;
      readonly primary?: TopologyNode;
    };

export async function precheck(input: PrecheckInput): Promise<Prechecked> {
  let topology: Topology;
  try {
    topology = await readTopology(input.pool, input.endpoint, input.tls);
  } catch (error) {
    const where = `${input.endpoint.host}:${input.endpoint.port}`;
    return {
      ok: false,
      reason: `cannot read the topology from ${where}: ${describeError(error, input.secret)}`,
    };
  }
  const whole = await wholeClusterProblem(topology, input);
  if (whole !== undefined) return { ok: false, reason: whole, topology };

  const withSlots = topology.shards.filter((shard) => shard.slots.length > 0);
  const shard =
    input.shard !== undefined
      ? withSlots.find((candidate) => candidate.id === input.shard)
      : ((await input.pickShard?.(withSlots, topology)) ?? withSlots[0]);
  if (shard === undefined) {
    const known = withSlots.map((candidate) => candidate.id).join(', ');
    return {
      ok: false,
      reason: `no shard ${JSON.stringify(input.shard ?? '')} serves slots in this cluster; its shards are ${known}`,
      topology,
    };
  }
  const primary = topology.nodes.find((node) => node.id === shard.primaryId);
  if (primary === undefined) {
    return { ok: false, reason: `shard ${shard.id} has no primary`, topology, shard };
  }
  const replicaNodes = topology.nodes.filter(
    (node) => node.shard === shard.id && node.role === 'replica',
  );
  if (replicaNodes.length === 0) {
    return {
      ok: false,
      reason: `shard ${shard.id} has no replica: a failover needs one to promote`,
      topology,
      shard,
      primary,
    };
  }
  const replicas = await replicaSync(input.send, primary, replicaNodes);
  if (!replicas[0]?.inSync) {
    return {
      ok: false,
      reason: `no replica of shard ${shard.id} is in sync with its primary: ${describeProblems(replicas)}`,
      topology,
      shard,
      primary,
    };
  }
  const slot = pickCanarySlot(
    shard.slots,
    new Set(topology.migrations.map((migration) => migration.slot)),
  );
  if (slot === undefined)
    return { ok: false, reason: `shard ${shard.id} serves no slot`, topology };
  return { ok: true, topology, shard, primary, replicas, slot };
}

/** Every node listed, with an address, not flagged failing, answering, and in cluster_state:ok. */
async function wholeClusterProblem(
  topology: Topology,
  input: PrecheckInput,
): Promise<string | undefined> {
  const unusable = topology.nodes.find((node) => node.host === '' || node.health === 'failed');
  if (unusable !== undefined) {
    return `node ${unusable.address} (${unusable.id.slice(0, 8)}) is ${unusable.host === '' ? 'without an address' : 'flagged as failing'}: the cluster is not whole`;
  }
  const states = await Promise.all(
    topology.nodes.map(async (node) => {
      try {
        const state = parseInfo(String(await input.send(node, ['CLUSTER', 'INFO']))).get(
          'cluster_state',
        );
        return state === 'ok'
          ? undefined
          : `node ${node.address} says cluster_state:${state ?? '?'}`;
      } catch (error) {
        return `node ${node.address} does not answer: ${describeError(error, input.secret)}`;
      }
    }),
  );
  const problems = states.filter((problem) => problem !== undefined);
  return problems.length === 0 ? undefined : `the cluster is not healthy: ${problems.join('; ')}`;
}
