/**
 * `cluster-failover`: CLUSTER FAILOVER on the shard's replica most in sync, the coordinated
 * hand-over any self-managed cluster supports. The old primary stops its clients until the
 * replica has caught up, so no acknowledged write should be lost: a drill that loses one has
 * found something.
 */
import { describeProblems, replicaSync, type ReplicaSync } from '../replica-sync.js';
import type { Trigger, TriggerContext } from '../types.js';
import { shardNodes } from './shard-nodes.js';

async function chooseReplica(
  context: TriggerContext,
): Promise<{ ok: true; replica: ReplicaSync } | { ok: false; reason: string }> {
  const { primary, replicas } = shardNodes(context);
  if (primary === undefined) return { ok: false, reason: `shard ${context.shard} has no primary` };
  if (replicas.length === 0) return { ok: false, reason: `shard ${context.shard} has no replica` };
  const syncs = await replicaSync(context.send, primary, replicas);
  const best = syncs[0];
  if (best === undefined || !best.inSync) {
    return {
      ok: false,
      reason: `no replica of shard ${context.shard} has its link to the primary up: ${describeProblems(syncs)}`,
    };
  }
  return { ok: true, replica: best };
}

export const clusterFailoverTrigger: Trigger = {
  name: 'cluster-failover',

  async check(context) {
    const choice = await chooseReplica(context);
    return choice.ok ? { ok: true } : choice;
  },

  async fire(context) {
    const choice = await chooseReplica(context);
    if (!choice.ok) throw new Error(choice.reason);
    const { node } = choice.replica;
    const reply = await context.send(node, ['CLUSTER', 'FAILOVER']);
    if (reply !== 'OK')
      throw new Error(`CLUSTER FAILOVER on ${node.address} answered ${JSON.stringify(reply)}`);
    context.log('trigger', `CLUSTER FAILOVER on replica ${node.address}`);
  },
};
