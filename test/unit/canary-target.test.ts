import { describe, expect, it } from 'vitest';
import { CanaryTarget, isSlotRedirect, onCanary } from '../../lambda/probes/canary-target.js';

describe('isSlotRedirect', () => {
  it('recognises MOVED and ASK replies, nothing else', () => {
    expect(isSlotRedirect(new Error('MOVED 3999 127.0.0.1:6381'))).toBe(true);
    expect(isSlotRedirect(new Error('ASK 3999 127.0.0.1:6381'))).toBe(true);
    for (const other of [
      new Error('TRYAGAIN Multiple keys request during rehashing of slot'),
      new Error('CLUSTERDOWN The cluster is down'),
      new Error('timeout after 500 ms (reply)'),
      'MOVED 1 a:1',
    ])
      expect(isSlotRedirect(other)).toBe(false);
  });
});

describe('onCanary', () => {
  it('runs once on the canary key when the node serves it', async () => {
    // Prepare
    const target = new CanaryTarget('canary', 'fallback');
    const keys: string[] = [];

    // Act
    const result = await onCanary(target, (key) => {
      keys.push(key);
      return Promise.resolve(`read ${key}`);
    });

    // Assess
    expect(result).toBe('read canary');
    expect(keys).toEqual(['canary']);
    expect(target.key).toBe('canary');
  });

  it('moves to the fallback key once the canary slot redirects, and says so', async () => {
    // Prepare
    let moves = 0;
    const target = new CanaryTarget('canary', 'fallback', () => moves++);

    // Act
    const result = await onCanary(target, (key) =>
      key === 'canary'
        ? Promise.reject(new Error('ASK 12 127.0.0.1:7001'))
        : Promise.resolve(`read ${key}`),
    );

    // Assess: later probes of the node start on the fallback key.
    expect(result).toBe('read fallback');
    expect(target.key).toBe('fallback');
    expect(moves).toBe(1);
  });

  it('fails when the fallback redirects too, or there is no fallback, or the error is no redirect', async () => {
    const moved = () => Promise.reject(new Error('MOVED 12 127.0.0.1:7001'));
    await expect(onCanary(new CanaryTarget('canary', 'fallback'), moved)).rejects.toThrow(
      /^MOVED 12/,
    );
    await expect(onCanary(new CanaryTarget('canary', undefined), moved)).rejects.toThrow(
      /^MOVED 12/,
    );
    const target = new CanaryTarget('canary', 'fallback');
    await expect(
      onCanary(target, () => Promise.reject(new Error('timeout after 500 ms (reply)'))),
    ).rejects.toThrow(/timeout/);
    expect(target.key).toBe('canary');
  });
});
