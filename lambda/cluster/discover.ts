/**
 * Reads the topology from the cluster itself, every sweep: CLUSTER SHARDS, or CLUSTER NODES on
 * engines that lack it. The configured endpoint is asked first; if it does not answer promptly,
 * nodes known from the previous sweep are asked as well (hedged), so one paused or dead seed node
 * does not blind the probe.
 */
import { formatAddress, parseClusterNodes, parseClusterShards, type Topology } from './topology.js';
import { describeError, type NodeTarget } from './connect.js';
import type { ConnectionPool } from './pool.js';

export interface Discovery {
  readonly topology: Topology;
  /** `host:port` of the node that answered. */
  readonly from: string;
}

export interface DiscoverOptions {
  readonly tls: boolean;
  /** Start asking fallbacks when the seed has not answered after this long. */
  readonly hedgeAfterMs: number;
  /** How many known nodes to ask besides the seed. */
  readonly fallbacks: number;
}

export class DiscoveryError extends Error {}

export async function readTopology(
  pool: ConnectionPool,
  target: NodeTarget,
  tls: boolean,
): Promise<Topology> {
  return pool.exec(target, async (client) => {
    try {
      return parseClusterShards(await client.call('CLUSTER', 'SHARDS'), { tls });
    } catch (error) {
      // Redis before 7.0 does not know CLUSTER SHARDS, and an ACL user may be denied it.
      const fallBack =
        error instanceof Error && /unknown subcommand|unknown command|^NOPERM/i.test(error.message);
      if (!fallBack) throw error;
      return parseClusterNodes(String(await client.call('CLUSTER', 'NODES')), { tls });
    }
  });
}

export async function discoverTopology(
  pool: ConnectionPool,
  seed: NodeTarget,
  known: readonly NodeTarget[],
  options: DiscoverOptions,
): Promise<Discovery> {
  const ask = (target: NodeTarget): Promise<Discovery> =>
    readTopology(pool, target, options.tls).then((topology) => ({
      topology,
      from: formatAddress(target.host, target.port),
    }));
  const seedAnswer = ask(seed);
  const fallbacks = known
    .filter((node) => node.host !== seed.host || node.port !== seed.port)
    .slice(0, options.fallbacks);
  if (fallbacks.length === 0) return seedAnswer;

  let hedge: NodeJS.Timeout | undefined;
  const seedFailedOrSlow = new Promise<void>((resolve) => {
    hedge = setTimeout(resolve, options.hedgeAfterMs);
    seedAnswer.then(
      () => undefined,
      () => resolve(),
    );
  });
  const fallbackAnswers = seedFailedOrSlow.then(() => Promise.any(fallbacks.map(ask)));
  try {
    return await Promise.any([seedAnswer, fallbackAnswers]);
  } catch {
    // Every node failed: report the seed's own cause (auth, tls, refused…), which is what the
    // operator can act on, and how many other nodes failed with it.
    const seedError = await seedAnswer.then(
      () => undefined,
      (error: unknown) => error,
    );
    throw new DiscoveryError(
      `${describeError(seedError)} (and ${fallbacks.length} other known node(s) did not answer either)`,
      {
        cause: seedError,
      },
    );
  } finally {
    clearTimeout(hedge);
  }
}
