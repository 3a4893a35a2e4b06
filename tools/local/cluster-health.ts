/**
 * Readiness of the local cluster, as pure checks over what each node says about it (CLUSTER INFO,
 * CLUSTER NODES, INFO replication). Each returns the first thing that is still wrong, or undefined.
 */

/** What one node said, raw. */
export interface NodeView {
  readonly port: number;
  readonly clusterInfo: string;
  readonly clusterNodes: string;
  readonly replication: string;
}

export interface Expectation {
  readonly nodeCount: number;
  readonly shardCount: number;
  /** Ids of the nodes that should be up (not paused or killed). */
  readonly upIds: ReadonlySet<string>;
  readonly portOf: (id: string) => string;
}

interface NodesEntry {
  readonly id: string;
  readonly flags: readonly string[];
  /** '-' for a primary. */
  readonly primaryId: string;
  readonly slotRanges: number;
}

/** Whether the node on `port` knows all `nodeCount` nodes, none of them still in handshake. */
export function knownNodesProblem(
  port: number,
  clusterNodes: string,
  nodeCount: number,
): string | undefined {
  return membershipProblem(port, parseClusterNodes(clusterNodes), nodeCount);
}

/**
 * Every viewing node says cluster_state:ok, lists all nodes (none in handshake), and flags none of
 * the up ones as failing; each shard's slots are served by an up primary; every replica has
 * master_link_status:up; and all agree on who replicates whom.
 */
export function clusterProblem(
  views: readonly NodeView[],
  expected: Expectation,
): string | undefined {
  for (const view of views) {
    const problem = viewProblem(view, expected);
    if (problem !== undefined) return problem;
  }
  const roleMaps = new Set(views.map((view) => roleMap(parseClusterNodes(view.clusterNodes))));
  return roleMaps.size > 1 ? 'the nodes do not agree yet on who replicates whom' : undefined;
}

function viewProblem(view: NodeView, expected: Expectation): string | undefined {
  const { port } = view;
  const state = infoField(view.clusterInfo, 'cluster_state');
  if (state !== 'ok') return `node ${port} says cluster_state:${state ?? '?'}`;
  const members = parseClusterNodes(view.clusterNodes);
  const unmet = membershipProblem(port, members, expected.nodeCount);
  if (unmet !== undefined) return unmet;
  const failing = members.find(
    (entry) =>
      expected.upIds.has(entry.id) &&
      entry.flags.some((flag) => flag === 'fail' || flag === 'fail?' || flag === 'noaddr'),
  );
  if (failing !== undefined) {
    return `node ${port} flags node ${expected.portOf(failing.id)} as ${failing.flags.join(',')}`;
  }
  const serving = members.filter((entry) => entry.flags.includes('master') && entry.slotRanges > 0);
  const servingDown = serving.find((entry) => !expected.upIds.has(entry.id));
  if (serving.length !== expected.shardCount || servingDown !== undefined) {
    const down =
      servingDown === undefined ? '' : `, one on down node ${expected.portOf(servingDown.id)}`;
    return `node ${port} sees ${serving.length} primaries serving slots${down}; expected ${expected.shardCount}`;
  }
  const idle = members.find(
    (entry) =>
      expected.upIds.has(entry.id) && entry.flags.includes('master') && entry.slotRanges === 0,
  );
  if (idle !== undefined) {
    return `node ${port} sees node ${expected.portOf(idle.id)} as a primary without slots`;
  }
  const link = infoField(view.replication, 'master_link_status');
  if (infoField(view.replication, 'role') === 'slave' && link !== 'up') {
    return `replica ${port} has master_link_status:${link ?? '?'}`;
  }
  return undefined;
}

function membershipProblem(
  port: number,
  entries: readonly NodesEntry[],
  nodeCount: number,
): string | undefined {
  const known = entries.filter((entry) => !isHandshake(entry)).length;
  if (known === nodeCount && entries.length === known) return undefined;
  return `node ${port} knows ${known} of ${nodeCount} nodes`;
}

/** `id role primary` per node, sorted: equal strings mean the same view of replication. */
function roleMap(entries: readonly NodesEntry[]): string {
  return entries
    .map((entry) => `${entry.id} ${entry.flags.includes('master') ? 'm' : 's'} ${entry.primaryId}`)
    .sort()
    .join('\n');
}

function parseClusterNodes(text: string): NodesEntry[] {
  return text
    .split('\n')
    .map((line) => line.trim().split(' '))
    .filter((fields) => fields.length >= 8)
    .map((fields) => ({
      id: fields[0] ?? '',
      flags: (fields[2] ?? '').split(','),
      primaryId: fields[3] ?? '-',
      // Slot fields follow the link state; `[slot->-id]` entries are migrations, not ownership.
      slotRanges: fields.slice(8).filter((field) => !field.startsWith('[')).length,
    }));
}

function isHandshake(entry: NodesEntry): boolean {
  return entry.flags.includes('handshake') || entry.flags.includes('noaddr');
}

function infoField(info: string, name: string): string | undefined {
  const prefix = `${name}:`;
  const line = info.split('\n').find((candidate) => candidate.startsWith(prefix));
  return line?.slice(prefix.length).trim();
}
