/** Bounded waits: every one ends, and a timeout says what did not happen. */
import { setTimeout as sleep } from 'node:timers/promises';
import { LocalClusterError } from '../../lambda/errors.js';

const POLL_INTERVAL_MS = 100;

/** Polls `check` (which returns what is still wrong, or undefined) until it passes or time is up. */
export async function waitFor(
  what: string,
  timeoutMs: number,
  check: () => Promise<string | undefined>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const problem = await check();
    if (problem === undefined) return;
    if (Date.now() >= deadline) {
      throw new LocalClusterError(
        `timed out after ${timeoutMs} ms waiting for ${what}: ${problem}`,
      );
    }
    await sleep(POLL_INTERVAL_MS);
  }
}

/** Polls a synchronous `done` until it holds (true) or `timeoutMs` passes (false). */
export async function pollUntil(timeoutMs: number, done: () => boolean): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() >= deadline) return false;
    await sleep(POLL_INTERVAL_MS);
  }
  return true;
}
