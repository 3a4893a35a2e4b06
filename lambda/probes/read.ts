import { isCanaryValue } from '../cluster/canary-keys.js';
import { expect, failed, passed, timed, type Probe } from './types.js';

/**
 * GET of the shard's canary key on this very node (replicas serve it after READONLY). A redirect
 * means the node does not think its shard owns the slot; any value that slotwatch did not write
 * means the key is not ours any more. Either fails the probe.
 */
export const read: Probe = async (context) => {
  try {
    const { value, latencyMs } = await timed(context, (client) => client.get(context.canaryKey));
    expect(
      value === null || isCanaryValue(value),
      'read: the canary key holds a value slotwatch did not write',
    );
    return passed(latencyMs);
  } catch (error) {
    return failed(error, context);
  }
};
