/**
 * Waiting, bounded: every wait ends at its time or when the drill stops, and clears its timer
 * either way, so that a finished drill leaves nothing behind that keeps the process alive.
 */

/** Resolves after `ms`, or at once when `signal` aborts; never rejects. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Resolves when `signal` aborts (no timer: the signal is the only bound). */
export function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) =>
    signal.addEventListener('abort', () => resolve(), { once: true }),
  );
}

/**
 * Runs `body` every `intervalMs` (start to start) until `signal` aborts; a body that overruns
 * its slot is followed at once by the next, never by a burst of catch-up runs. `body` must bound
 * itself (every command here carries the probe timeout), so the loop ends within one body's time
 * after the abort.
 */
export async function every(
  intervalMs: number,
  signal: AbortSignal,
  body: () => Promise<void>,
): Promise<void> {
  let next = performance.now();
  while (!signal.aborted) {
    await body();
    next = Math.max(next + intervalMs, performance.now());
    await pause(next - performance.now(), signal);
  }
}

/** `work`, or `undefined` if it has not settled after `ms` (it is left to finish on its own). */
export async function settledWithin<T>(work: Promise<T>, ms: number): Promise<T | undefined> {
  const stop = new AbortController();
  try {
    return await Promise.race([work, pause(ms, stop.signal).then(() => undefined)]);
  } finally {
    stop.abort();
  }
}
