/**
 * Admin connections to single nodes of the local cluster (TLS + AUTH, not cluster-aware), with
 * short timeouts and no retries: a node that does not answer is something to report, not to wait on.
 */
import { Redis } from 'ioredis';
import { LocalClusterError } from '../../lambda/errors.js';

const CONNECT_TIMEOUT_MS = 2_000;
/**
 * Forming a 36-node cluster has every node open TLS bus links to 35 others at once; on a loaded
 * two-core machine a node can then take more than 3 s to answer a CLUSTER MEET. A hung node is
 * still found out, just a few seconds later.
 */
const COMMAND_TIMEOUT_MS = 10_000;

export async function connectNode(port: number, ca: string, token?: string): Promise<Redis> {
  const client = new Redis({
    host: '127.0.0.1',
    port,
    tls: { ca, servername: 'localhost' },
    password: token,
    lazyConnect: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    commandTimeout: COMMAND_TIMEOUT_MS,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
  });
  // Failures reach the caller as rejected commands; without a listener ioredis also prints them.
  client.on('error', () => undefined);
  try {
    await client.connect();
    return client;
  } catch (error) {
    client.disconnect();
    throw error;
  }
}

/** Like Promise.all, but lets every promise settle before rejecting, so no work is left behind. */
export async function settleAll<T>(promises: readonly Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(promises);
  const failure = results.find((result) => result.status === 'rejected');
  if (failure !== undefined) {
    for (const result of results) {
      if (result.status === 'fulfilled' && result.value instanceof Redis) result.value.disconnect();
    }
    throw failure.reason;
  }
  return results.map((result) => (result as PromiseFulfilledResult<T>).value);
}

/** A bulk-string reply as text. */
export function reply(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  throw new LocalClusterError(`unexpected reply ${JSON.stringify(value)}`);
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
