import type { Redis } from 'ioredis';
import { expect, failed, passed, timed, type Probe } from './types.js';

/** Quiet round trips per node; the median is reported, so one GC pause or stray wake-up does not count. */
export const PING_SAMPLES = 5;

/**
 * PING: the node answers at all (one PING, sent alongside every other node's), then its latency:
 * the median of PING_SAMPLES round trips taken in the sweep's quiet window, each from just before
 * the command is written to the moment the reply's bytes arrive on the socket.
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
 * One PING, timed to the arrival of its reply on the socket rather than to the settling of
 * ioredis's promise: the reply parser and the promise machinery are the probe's own cost, not
 * the node's.
 */
async function roundTrip(client: Redis): Promise<number> {
  const stream = client.stream;
  let arrivedAt: number | undefined;
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
    return (arrivedAt ?? end) - start;
  } finally {
    stream.off('data', onData);
  }
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const upper = sorted[mid] ?? Number.NaN;
  return sorted.length % 2 === 1 ? upper : ((sorted[mid - 1] ?? upper) + upper) / 2;
}
