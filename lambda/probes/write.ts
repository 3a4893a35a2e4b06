import { CANARY_TTL_MS, canaryValue } from '../cluster/canary-keys.js';
import { onCanary } from './canary-target.js';
import { expect, failed, passed, timed, type Probe } from './types.js';

let sequence = 0;

/**
 * On primaries: SET of the canary key with a TTL, timed, then read back. The value becomes the
 * shard's fresh write, which the replicas' replication probes wait to see.
 */
export const write: Probe = async (context) => {
  const value = canaryValue(context.sweepId, sequence++);
  try {
    const { key, set } = await onCanary(context.canary, async (key) => ({
      key,
      set: await timed(context, (client) => client.set(key, value, 'PX', CANARY_TTL_MS)),
    }));
    const ackedAt = performance.now();
    expect(set.value === 'OK', `write: SET answered ${JSON.stringify(set.value)}`);
    const readBack = await context.exec((client) => client.get(key));
    expect(readBack === value, 'write: the value read back differs from the value written');
    context.shardWrite.resolve({ value, key, ackedAt });
    return passed(set.latencyMs);
  } catch (error) {
    const result = failed(error, context);
    context.shardWrite.reject(`the primary's write failed (${result.ok ? '' : result.error})`);
    return result;
  }
};
