/**
 * How well each replica of a shard follows its primary, as the nodes themselves say in
 * `INFO replication`: the pre-checks need one in sync before anything is touched, and the
 * cluster-failover trigger hands over to the one most in sync.
 */
import { describeError } from '../cluster/connect.js';
import type { TopologyNode } from '../cluster/topology.js';
import type { TriggerContext } from './types.js';

/**
 * A replica further behind than this is not "in sync". Offsets of two nodes are read a moment
 * apart, so a busy primary is always a little ahead; a megabyte is milliseconds of a heavy write
 * load, yet far more than a healthy replica ever trails by.
 */
export const MAX_REPLICA_LAG_BYTES = 1_048_576;

/** `INFO` text -> field map (`# Section` headers and blank lines skipped). Pure. */
export function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    if (line === '' || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return fields;
}

const infoText = (reply: unknown): string =>
  Buffer.isBuffer(reply) ? reply.toString('utf8') : String(reply);

export interface ReplicaSync {
  readonly node: TopologyNode;
  readonly inSync: boolean;
  /** Bytes behind the primary, when both offsets were read. */
  readonly lagBytes?: number;
  /** Why it is not in sync. */
  readonly problem?: string;
}

/** A node's view of its own replication, from `INFO replication`. Pure. */
export function replicationOf(info: Map<string, string>): {
  role?: string;
  linkUp: boolean;
  offset?: number;
} {
  const role = info.get('role');
  const offset = Number(info.get(role === 'master' ? 'master_repl_offset' : 'slave_repl_offset'));
  return {
    ...(role !== undefined && { role }),
    linkUp: info.get('master_link_status') === 'up',
    ...(Number.isFinite(offset) && { offset }),
  };
}

/** Every replica of `primary`, most in sync first. Never throws: a silent node is a problem. */
export async function replicaSync(
  send: TriggerContext['send'],
  primary: TopologyNode,
  replicas: readonly TopologyNode[],
): Promise<ReplicaSync[]> {
  const read = async (node: TopologyNode) =>
    replicationOf(parseInfo(infoText(await send(node, ['INFO', 'replication']))));
  // The primary first: a replica read after it can only have caught up further.
  let primaryOffset: number | undefined;
  try {
    primaryOffset = (await read(primary)).offset;
  } catch {
    // Judged on the replicas' own link status alone; the pre-checks catch a silent primary.
  }
  const results = await Promise.all(
    replicas.map(async (node): Promise<ReplicaSync> => {
      try {
        const { role, linkUp, offset } = await read(node);
        if (role !== 'slave') return { node, inSync: false, problem: `role is ${role ?? '?'}` };
        if (!linkUp) return { node, inSync: false, problem: 'master_link_status is not up' };
        if (primaryOffset === undefined || offset === undefined) return { node, inSync: true };
        const lagBytes = Math.max(0, primaryOffset - offset);
        return lagBytes <= MAX_REPLICA_LAG_BYTES
          ? { node, inSync: true, lagBytes }
          : { node, inSync: false, lagBytes, problem: `${lagBytes} bytes behind the primary` };
      } catch (error) {
        return { node, inSync: false, problem: describeError(error) };
      }
    }),
  );
  return results.sort(
    (a, b) =>
      Number(b.inSync) - Number(a.inSync) ||
      (a.lagBytes ?? Number.MAX_SAFE_INTEGER) - (b.lagBytes ?? Number.MAX_SAFE_INTEGER),
  );
}

/** `127.0.0.1:7004 (timeout after 1000 ms (reply)), …` for a refusal message. */
export function describeProblems(syncs: readonly ReplicaSync[]): string {
  return syncs.map((sync) => `${sync.node.address} (${sync.problem ?? 'in sync'})`).join(', ');
}
