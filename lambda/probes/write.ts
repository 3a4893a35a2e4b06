import { CANARY_TTL_MS, canaryValue } from '../cluster/canary-keys.js';
import { expect, failed, passed, timed, type Probe } from './types.js';

let sequence = 0;

/**
 * On primaries: SET of the canary key with a TTL, timed, then read back. The value becomes the
 * shard's fresh write, which the replicas' replication probes wait to see.
 */
export const write: Probe = async (context) => {
  const value = canaryValue(context.sweepId, sequence++);
  try {
    const { value: reply, latencyMs } = await timed(context, (client) =>
      client.set(context.canaryKey, value, 'PX', CANARY_TTL_MS),
    );
    const ackedAt = performance.now();
    expect(reply === 'OK', `write: SET answered ${JSON.stringify(reply)}`);
    const readBack = await context.exec((client) => client.get(context.canaryKey));
    expect(readBack === value, 'write: the value read back differs from the value written');
    context.shardWrite.resolve({ value, ackedAt });
    return passed(latencyMs);
  } catch (error) {
    const result = failed(error, context);
    context.shardWrite.reject(`the primary's write failed (${result.ok ? '' : result.error})`);
    return result;
  }
};
