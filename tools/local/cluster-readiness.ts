/**
 * The I/O half of readiness: asks the nodes what they see and hands the answers to the pure checks
 * in cluster-health. Each returns what is still wrong, or undefined, for `waitFor` to poll; a server
 * that has exited is an error, not something to wait for.
 */
import type { Redis } from 'ioredis';
import { clusterProblem, knownNodesProblem, type NodeView } from './cluster-health.js';
import type { ManagedNode } from './cluster-plan.js';
import { errorMessage, reply } from './node-client.js';
import { assertAlive } from './server-process.js';

export interface NodeAccess {
  /** The server binary, named when a server has exited. */
  readonly binary: string;
  /** A TLS + AUTH admin connection to the node on `port`; the caller disconnects it. */
  readonly connect: (port: number) => Promise<Redis>;
}

export async function servingProblem(
  node: ManagedNode,
  access: NodeAccess,
): Promise<string | undefined> {
  assertAlive(node, access.binary);
  try {
    await withNode(access, node.port, (client) => client.ping());
    return undefined;
  } catch (error) {
    return errorMessage(error);
  }
}

/** Every node knows every other one. */
export async function meetProblem(
  nodes: readonly ManagedNode[],
  access: NodeAccess,
): Promise<string | undefined> {
  for (const node of nodes) {
    assertAlive(node, access.binary);
    const text = reply(
      await withNode(access, node.port, (client) => client.call('CLUSTER', 'NODES')),
    );
    const problem = knownNodesProblem(node.port, text, nodes.length);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

/** The cluster is healthy as seen from every node this manager has not paused or killed. */
export async function healthProblem(
  nodes: readonly ManagedNode[],
  shardCount: number,
  access: NodeAccess,
): Promise<string | undefined> {
  const up = nodes.filter((node) => node.state === 'running');
  for (const node of up) assertAlive(node, access.binary);
  const views = await Promise.all(up.map((node) => viewOf(node, access)));
  const unanswered = views.find((view) => typeof view === 'string');
  if (unanswered !== undefined) return unanswered;
  return clusterProblem(
    views.filter((view) => typeof view !== 'string'),
    {
      nodeCount: nodes.length,
      shardCount,
      upIds: new Set(up.map((node) => node.id)),
      portOf: (id) => String(nodes.find((node) => node.id === id)?.port ?? id),
    },
  );
}

async function viewOf(node: ManagedNode, access: NodeAccess): Promise<NodeView | string> {
  try {
    return await withNode(access, node.port, async (client) => ({
      port: node.port,
      clusterInfo: reply(await client.call('CLUSTER', 'INFO')),
      clusterNodes: reply(await client.call('CLUSTER', 'NODES')),
      replication: await client.info('replication'),
    }));
  } catch (error) {
    return `node ${node.port} did not answer: ${errorMessage(error)}`;
  }
}

async function withNode<T>(
  access: NodeAccess,
  port: number,
  use: (client: Redis) => Promise<T>,
): Promise<T> {
  const client = await access.connect(port);
  try {
    return await use(client);
  } finally {
    client.disconnect();
  }
}
