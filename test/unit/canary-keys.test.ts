import { describe, expect, it } from 'vitest';
import {
  CANARY_PREFIX,
  canaryKey,
  canaryValue,
  isCanaryValue,
  pickCanarySlot,
  pickFallbackSlot,
} from '../../lambda/cluster/canary-keys.js';
import { keySlot } from '../../lambda/cluster/slots.js';

describe('canary keys', () => {
  it.each([0, 1, 5460, 5461, 12182, 16383])(
    'pins the key for slot %i to that slot, under the prefix',
    (slot) => {
      const key = canaryKey(slot, 'canary');
      expect(key.startsWith(CANARY_PREFIX)).toBe(true);
      expect(keySlot(key)).toBe(slot);
      expect(key.length).toBeLessThan(32);
    },
  );

  it('recognises its own values only', () => {
    expect(isCanaryValue(canaryValue('k3x9a1b2c', 41))).toBe(true);
    expect(canaryValue('abc', 35)).toBe('sw:abc:z');
    for (const foreign of ['', 'hello', 'sw:abc', 'sw:ABC:1', 'sw:a:b:c', 42, null])
      expect(isCanaryValue(foreign)).toBe(false);
  });
});

describe('pickCanarySlot', () => {
  it('takes the highest slot of the shard', () => {
    expect(pickCanarySlot([{ start: 0, end: 5460 }])).toBe(5460);
    expect(
      pickCanarySlot([
        { start: 100, end: 200 },
        { start: 10, end: 20 },
      ]),
    ).toBe(200);
  });

  it('skips slots being migrated', () => {
    expect(pickCanarySlot([{ start: 0, end: 5460 }], new Set([5460, 5459]))).toBe(5458);
    expect(
      pickCanarySlot(
        [
          { start: 0, end: 3 },
          { start: 9, end: 9 },
        ],
        new Set([9]),
      ),
    ).toBe(3);
  });

  it('falls back to a migrating slot when the shard has nothing else, and to none without slots', () => {
    expect(pickCanarySlot([{ start: 7, end: 7 }], new Set([7]))).toBe(7);
    expect(pickCanarySlot([])).toBeUndefined();
  });
});

describe('pickFallbackSlot', () => {
  it('takes the middle of the shard, away from both ends', () => {
    expect(pickFallbackSlot([{ start: 0, end: 5460 }], new Set([5460]))).toBe(2730);
    // The middle by slot count, across ranges in any order.
    expect(
      pickFallbackSlot(
        [
          { start: 100, end: 109 },
          { start: 0, end: 9 },
        ],
        new Set(),
      ),
    ).toBe(100);
  });

  it('steps outwards from the middle past slots to avoid', () => {
    expect(pickFallbackSlot([{ start: 0, end: 10 }], new Set([5]))).toBe(4);
    expect(pickFallbackSlot([{ start: 0, end: 10 }], new Set([5, 4]))).toBe(6);
  });

  it('has none when every slot is to be avoided', () => {
    expect(pickFallbackSlot([{ start: 7, end: 7 }], new Set([7]))).toBeUndefined();
    expect(pickFallbackSlot([], new Set())).toBeUndefined();
  });
});
