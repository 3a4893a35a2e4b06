import { describe, expect, it } from 'vitest';
import { parseRedirect } from '../../lambda/cluster/routing.js';
import { groupBySlot } from '../../lambda/probes/cross-slot.js';
import { canaryKey } from '../../lambda/cluster/canary-keys.js';
import { keySlot } from '../../lambda/cluster/slots.js';

describe('parseRedirect', () => {
  it.each([
    [
      'MOVED 3999 127.0.0.1:6381',
      { kind: 'MOVED', slot: 3999, target: { host: '127.0.0.1', port: 6381 } },
    ],
    [
      'ASK 12 cache-0001-002.abc.use1.cache.amazonaws.com:6379',
      {
        kind: 'ASK',
        slot: 12,
        target: { host: 'cache-0001-002.abc.use1.cache.amazonaws.com', port: 6379 },
      },
    ],
    ['MOVED 1 :6380', { kind: 'MOVED', slot: 1, target: { host: 'current-host', port: 6380 } }],
    ['MOVED 7 ::1:7001', { kind: 'MOVED', slot: 7, target: { host: '::1', port: 7001 } }],
    ['MOVED 7 [::1]:7001', { kind: 'MOVED', slot: 7, target: { host: '::1', port: 7001 } }],
  ])('parses %s', (message, expected) => {
    expect(parseRedirect(message, 'current-host')).toEqual(expected);
  });

  it.each([
    'ERR unknown command',
    'MOVED',
    'MOVED x 1.2.3.4:5',
    'TRYAGAIN Multiple keys request during rehashing of slot',
  ])('ignores %s', (message) => {
    expect(parseRedirect(message, 'h')).toBeUndefined();
  });
});

describe('groupBySlot', () => {
  it('groups keys by slot and keeps every key position once', () => {
    // Prepare: two keys in each of three slots, interleaved.
    const keys = [
      canaryKey(1, 'xs:0'),
      canaryKey(9000, 'xs:0'),
      canaryKey(1, 'xs:1'),
      canaryKey(16383, 'xs:0'),
      canaryKey(9000, 'xs:1'),
      canaryKey(16383, 'xs:1'),
    ];

    // Act
    const groups = groupBySlot(keys);

    // Assess
    expect([...groups]).toEqual([
      [1, [0, 2]],
      [9000, [1, 4]],
      [16383, [3, 5]],
    ]);
    for (const [slot, positions] of groups)
      for (const p of positions) expect(keySlot(keys[p] ?? '')).toBe(slot);
  });
});
