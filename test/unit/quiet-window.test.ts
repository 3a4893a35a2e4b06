import { afterEach, describe, expect, it, vi } from 'vitest';
import { median } from '../../lambda/probes/ping.js';
import { QuietWindow } from '../../lambda/probes/quiet-window.js';
import { quietGraceMs } from '../../lambda/sweep.js';

/** An operation that records when it started and ended, and finishes when told to. */
function tracked(log: string[], name: string): { op: () => Promise<string>; finish: () => void } {
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return {
    op: async () => {
      log.push(`start ${name}`);
      await done;
      log.push(`end ${name}`);
      return name;
    },
    finish: () => finish(),
  };
}

const flush = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

afterEach(() => {
  vi.useRealTimers();
});

describe('QuietWindow', () => {
  it('opens only when every member has arrived, then runs their work one at a time', async () => {
    // Prepare
    const window = new QuietWindow(['a', 'b', 'c']);
    window.start(10_000);
    const log: string[] = [];
    const a = tracked(log, 'a');
    const b = tracked(log, 'b');

    // Act
    const ranA = window.run('a', a.op);
    const ranB = window.run('b', b.op);
    await flush();
    const beforeC = [...log];
    window.arrive('c');
    await flush();
    const afterC = [...log];
    a.finish();
    await flush();
    b.finish();

    // Assess
    expect(beforeC).toEqual([]);
    expect(afterC).toEqual(['start a']);
    expect(await Promise.all([ranA, ranB])).toEqual(['a', 'b']);
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b']);
  });

  it('closes once its queue is empty, and runs later work at once', async () => {
    // Prepare
    const window = new QuietWindow(['a', 'b']);
    window.start(10_000);
    let closed = false;
    void window.closed.then(() => (closed = true));

    // Act
    const first = window.run('a', () => Promise.resolve(1));
    await flush();
    const closedWithOneWaiting = closed;
    window.arrive('b');
    await first;
    await flush();
    const late = await window.run('b', () => Promise.resolve(2));

    // Assess
    expect(closedWithOneWaiting).toBe(false);
    expect(closed).toBe(true);
    expect(late).toBe(2);
  });

  it('opens after the grace period without a member that never arrives', async () => {
    // Prepare
    vi.useFakeTimers();
    const window = new QuietWindow(['live', 'hung']);
    window.start(100);
    const log: string[] = [];
    const live = tracked(log, 'live');

    // Act
    const ran = window.run('live', live.op);
    await vi.advanceTimersByTimeAsync(99);
    const beforeGrace = [...log];
    await vi.advanceTimersByTimeAsync(1);
    live.finish();

    // Assess
    expect(beforeGrace).toEqual([]);
    expect(await ran).toBe('live');
    await expect(window.closed).resolves.toBeUndefined();
  });

  it('passes a failure of the work back to its caller and carries on with the next', async () => {
    // Prepare
    const window = new QuietWindow(['a', 'b']);
    window.start(10_000);

    // Act
    const failing = window.run('a', () => Promise.reject(new Error('timeout after 5 ms (reply)')));
    const next = window.run('b', () => Promise.resolve('b'));

    // Assess
    await expect(failing).rejects.toThrow('timeout after 5 ms (reply)');
    await expect(next).resolves.toBe('b');
    await expect(window.closed).resolves.toBeUndefined();
  });

  it('closes at once when abandoned (the sweep hit its deadline)', async () => {
    // Prepare
    const window = new QuietWindow(['a', 'never']);
    window.start(10_000);

    // Act
    window.abandon();

    // Assess
    await expect(window.closed).resolves.toBeUndefined();
    await expect(window.run('a', () => Promise.resolve('ran'))).resolves.toBe('ran');
  });
});

describe('quietGraceMs', () => {
  it.each([
    [6, 1000, 112],
    [36, 1000, 172],
    [500, 1000, 500],
    [6, 100, 50],
  ])('waits for %i nodes with a %i ms timeout: %i ms', (nodes, timeoutMs, expected) => {
    expect(quietGraceMs(nodes, timeoutMs)).toBe(expected);
  });
});

describe('median', () => {
  it.each([
    [[5], 5],
    [[3, 1, 2], 2],
    [[0.2, 9.5, 0.1, 0.3, 0.15], 0.2],
    [[4, 1, 3, 2], 2.5],
  ])('of %j is %d', (values, expected) => {
    expect(median(values)).toBe(expected);
  });
});
