import { expect, failed, passed, timed, type Probe } from './types.js';

/** PING: the node answers at all. */
export const ping: Probe = async (context) => {
  try {
    const { value, latencyMs } = await timed(context, (client) => client.ping());
    expect(value === 'PONG', `ping: unexpected reply ${JSON.stringify(value)}`);
    return passed(latencyMs);
  } catch (error) {
    return failed(error, context);
  }
};
