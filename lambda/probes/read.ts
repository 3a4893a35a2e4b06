import { isCanaryValue } from '../cluster/canary-keys.js';
import { onCanary } from './canary-target.js';
import { expect, failed, passed, timed, type Probe } from './types.js';

/**
 * GET of the shard's canary key on this very node (replicas serve it after READONLY). A redirect
 * for the fallback key too means the node does not think its shard owns its slots; any value
 * that slotwatch did not write means the key is not ours any more. Either fails the probe.
 */
export const read: Probe = async (context) => {
  try {
    const { value, latencyMs } = await onCanary(context.canary, (key) =>
      timed(context, (client) => client.get(key)),
    );
    expect(
      value === null || isCanaryValue(value),
      'read: the canary key holds a value slotwatch did not write',
    );
    return passed(latencyMs);
  } catch (error) {
    return failed(error, context);
  }
};
