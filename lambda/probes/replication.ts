import { CheckFailed, failed, passed, type Probe } from './types.js';
import { TimeoutError, withTimeout } from '../cluster/connect.js';

/** Polls stop after this many reads even if the timeout is long; they run back to back. */
const MAX_POLLS = 10_000;

/**
 * On replicas: the time from the primary acknowledging this sweep's write until this replica
 * serves it (GET after READONLY), bounded by the probe timeout. Polls back to back, so the figure
 * is at most one round trip later than the moment the value arrived.
 */
export const replication: Probe = async (context) => {
  let write;
  try {
    write = await withTimeout(
      context.shardWrite.written,
      context.timeoutMs,
      'waiting for the primary',
    );
  } catch (error) {
    const reason =
      error instanceof TimeoutError ? 'the primary did not write in time' : String(error);
    return { ok: false, latencyMs: null, error: `not measured: ${reason}`, skipped: true };
  }
  const remaining = Math.max(1, context.timeoutMs - (performance.now() - write.ackedAt));
  try {
    const seenAt = await context.exec(async (client) => {
      for (let poll = 0; poll < MAX_POLLS; poll++) {
        if ((await client.get(write.key)) === write.value) return performance.now();
      }
      throw new CheckFailed(`replication: the write was not visible after ${MAX_POLLS} reads`);
    }, remaining);
    return passed(Math.max(0, seenAt - write.ackedAt));
  } catch (error) {
    if (error instanceof TimeoutError) {
      return failed(
        new CheckFailed(
          `replication: the primary's write was not visible within ${context.timeoutMs} ms`,
        ),
        context,
      );
    }
    return failed(error, context);
  }
};
