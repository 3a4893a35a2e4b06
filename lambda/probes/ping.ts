import type { Redis } from 'ioredis';
import { expect, failed, passed, timed, type Probe } from './types.js';

/**
 * Quiet round trips per node; the median is reported, so one GC pause or stray wake-up does not
 * count. Three, not more: the quiet window takes them one node after another, so each sample
 * costs a round trip per node of sweep time (500 nodes at 0.5 ms: 250 ms a sample).
 */
export const PING_SAMPLES = 3;

/**
 * PING: the node answers at all (one PING, sent alongside every other node's), then its latency:
 * the median of PING_SAMPLES round trips taken in the sweep's quiet window, each from the moment
 * the command is written to the socket to the moment the reply's bytes arrive on it.
 */
export const ping: Probe = async (context) => {
  try {
    const { value } = await timed(context, (client) => client.ping());
    expect(value === 'PONG', `ping: unexpected reply ${JSON.stringify(value)}`);
    const samples = await context.quietly(() =>
      context.exec(async (client) => {
        const taken: number[] = [];
        for (let i = 0; i < PING_SAMPLES; i++) taken.push(await roundTrip(client));
        return taken;
      }),
    );
    return passed(median(samples));
  } catch (error) {
    return failed(error, context);
  }
};

/**
 * One PING, timed from the moment ioredis hands it to the socket to the arrival of its reply on
 * the socket, rather than from the call to the settling of ioredis's promise: encoding the
 * command, parsing the reply and the promise machinery are the probe's own cost, not the node's.
 */
async function roundTrip(client: Redis): Promise<number> {
  const stream = client.stream;
  let sentAt: number | undefined;
  let arrivedAt: number | undefined;
  const unwatch = watchWrites(stream, () => {
    sentAt ??= performance.now();
  });
  const onData = (): void => {
    arrivedAt ??= performance.now();
  };
  // Before ioredis's own listener, which parses the reply and settles the command's promise.
  stream.prependListener('data', onData);
  try {
    const start = performance.now();
    const reply = await client.ping();
    const end = performance.now();
    expect(reply === 'PONG', `ping: unexpected reply ${JSON.stringify(reply)}`);
    return (arrivedAt ?? end) - (sentAt ?? start);
  } finally {
    stream.off('data', onData);
    unwatch();
  }
}

/** Calls `onWrite` before each write to `stream` until the returned function is called. */
function watchWrites(stream: Redis['stream'], onWrite: () => void): () => void {
  const own = Object.getOwnPropertyDescriptor(stream, 'write');
  const write = stream.write.bind(stream);
  stream.write = ((...args: Parameters<typeof write>) => {
    onWrite();
    return write(...args);
  }) as typeof stream.write;
  return () => {
    if (own) Object.defineProperty(stream, 'write', own);
    else Reflect.deleteProperty(stream, 'write');
  };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const upper = sorted[mid] ?? Number.NaN;
  return sorted.length % 2 === 1 ? upper : ((sorted[mid - 1] ?? upper) + upper) / 2;
}
