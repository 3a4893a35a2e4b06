/**
 * Forming the cluster from servers that each know only themselves, with plain CLUSTER commands
 * (no redis-cli): distinct epochs, slots to the primaries, every pair met, replicas attached.
 */
import type { Redis } from 'ioredis';
import { SLOT_COUNT } from '../../lambda/cluster/slots.js';
import { at, type ManagedNode, type NodeRole } from './cluster-plan.js';
import { reply } from './node-client.js';

/**
 * Learns each node's id, gives every node its own epoch, each primary its shard's slots, and has
 * every pair meet. `clients` is in node order.
 */
export async function assignSlotsAndMeet(
  nodes: readonly ManagedNode[],
  clients: readonly Redis[],
  shardCount: number,
): Promise<void> {
  const ids = await Promise.all(
    clients.map(async (client) => reply(await client.call('CLUSTER', 'MYID'))),
  );
  nodes.forEach((node, index) => (node.id = ids[index] ?? ''));
  // Distinct epochs up front, so that no epoch collision has to be resolved while forming.
  await Promise.all(
    clients.map((client, index) => client.call('CLUSTER', 'SET-CONFIG-EPOCH', String(index + 1))),
  );
  await Promise.all(
    withClients(nodes, clients, 'primary').map(({ node, client }) => {
      const { start, end } = slotRangeOf(node.shard, shardCount);
      return client.call('CLUSTER', 'ADDSLOTSRANGE', String(start), String(end));
    }),
  );
  // Every pair meets directly: waiting for gossip to spread one MEET takes seconds.
  await Promise.all(
    clients.map(async (client, index) => {
      for (const node of nodes.slice(index + 1)) {
        await client.call('CLUSTER', 'MEET', '127.0.0.1', String(node.port), String(node.busPort));
      }
    }),
  );
}

/** Makes each replica replicate its shard's primary; needs the ids from assignSlotsAndMeet. */
export async function attachReplicas(
  nodes: readonly ManagedNode[],
  clients: readonly Redis[],
): Promise<void> {
  await Promise.all(
    withClients(nodes, clients, 'replica').map(({ node, client }) => {
      const primary = nodes.find((p) => p.role === 'primary' && p.shard === node.shard);
      return client.call('CLUSTER', 'REPLICATE', primary?.id ?? '');
    }),
  );
}

/** Shard `shard` of `count` owns an even, contiguous share of the slots. */
export function slotRangeOf(shard: number, count: number): { start: number; end: number } {
  return {
    start: Math.floor((shard * SLOT_COUNT) / count),
    end: Math.floor(((shard + 1) * SLOT_COUNT) / count) - 1,
  };
}

/** The nodes with `role`, each with its client (`clients` is in node order). */
function withClients(
  nodes: readonly ManagedNode[],
  clients: readonly Redis[],
  role: NodeRole,
): { node: ManagedNode; client: Redis }[] {
  return nodes.flatMap((node, index) =>
    node.role === role ? [{ node, client: at(clients, index) }] : [],
  );
}
