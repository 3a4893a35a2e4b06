/** The drilled shard's primary and replicas, as the trigger context's topology lists them. */
import type { TopologyNode } from '../../cluster/topology.js';
import type { TriggerContext } from '../types.js';

export function shardNodes(context: Pick<TriggerContext, 'topology' | 'shard'>): {
  primary?: TopologyNode;
  replicas: TopologyNode[];
} {
  const members = context.topology.nodes.filter((node) => node.shard === context.shard);
  const primary = members.find((node) => node.role === 'primary');
  return {
    ...(primary !== undefined && { primary }),
    replicas: members.filter((node) => node.role === 'replica'),
  };
}
