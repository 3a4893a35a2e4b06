import { randomBytes } from 'node:crypto';
import { isCanaryValue } from '../cluster/canary-keys.js';
import { onCanary } from './canary-target.js';
import { CheckFailed, expect, failed, passed, timed, type Probe } from './types.js';

/**
 * Five read-only commands to this node in one round trip (what a pipelining client sends), every
 * reply checked: PING, ECHO of a nonce, and GET / PTTL / EXISTS of the canary key, which must agree
 * with each other and show a TTL.
 */
export const pipeline: Probe = async (context) => {
  const nonce = randomBytes(6).toString('hex');
  try {
    const { values, latencyMs } = await onCanary(context.canary, async (key) => {
      const { value: replies, latencyMs } = await timed(
        context,
        async (client) =>
          (await client.pipeline().ping().echo(nonce).get(key).pttl(key).exists(key).exec()) ?? [],
      );
      // A reply error (a redirect above all) fails the attempt; onCanary decides what next.
      const values = replies.map(([error, value], index) => {
        if (error) throw error;
        if (value === undefined) throw new CheckFailed(`pipeline: reply ${index + 1} missing`);
        return value;
      });
      return { values, latencyMs };
    });
    const [pong, echo, got, pttl, exists] = values;
    expect(values.length === 5, `pipeline: ${values.length} replies to 5 commands`);
    expect(pong === 'PONG', 'pipeline: PING did not answer PONG');
    expect(echo === nonce, 'pipeline: ECHO answered another value (replies out of order?)');
    expect(
      got === null || isCanaryValue(got),
      'pipeline: the canary key holds a value slotwatch did not write',
    );
    expect(pttl !== -1, 'pipeline: the canary key has no TTL');
    expect((exists === 1) === (got !== null), 'pipeline: GET and EXISTS disagree');
    return passed(latencyMs);
  } catch (error) {
    return failed(error, context);
  }
};
