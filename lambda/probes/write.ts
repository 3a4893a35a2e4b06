import { CANARY_TTL_MS, canaryValue } from '../cluster/canary-keys.js';
import { onCanary } from './canary-target.js';
import { expect, failed, passed, type Probe } from './types.js';

let sequence = 0;

/**
 * On primaries: SET of the canary key with a TTL, timed to its reply, and a GET that reads it
 * back, sent in the same write (one round trip, not two: on a large cluster the probe's CPU time
 * goes mostly to socket writes). The value becomes the shard's fresh write, which the replicas'
 * replication probes wait to see.
 */
export const write: Probe = async (context) => {
  const value = canaryValue(context.sweepId, sequence++);
  try {
    const { key, reply, start, ackedAt, readBack } = await onCanary(context.canary, (key) =>
      context.exec(async (client) => {
        let ackedAt: number | undefined;
        const start = performance.now();
        const replies = await client
          .pipeline()
          .set(key, value, 'PX', CANARY_TTL_MS, () => {
            ackedAt = performance.now();
          })
          .get(key)
          .exec();
        const [set, get] = replies ?? [];
        if (set?.[0]) throw set[0];
        if (get?.[0]) throw get[0];
        const acked = ackedAt ?? performance.now();
        return { key, reply: set?.[1], start, ackedAt: acked, readBack: get?.[1] };
      }),
    );
    expect(reply === 'OK', `write: SET answered ${JSON.stringify(reply)}`);
    expect(readBack === value, 'write: the value read back differs from the value written');
    context.shardWrite.resolve({ value, key, ackedAt });
    return passed(ackedAt - start);
  } catch (error) {
    const result = failed(error, context);
    context.shardWrite.reject(`the primary's write failed (${result.ok ? '' : result.error})`);
    return result;
  }
};
