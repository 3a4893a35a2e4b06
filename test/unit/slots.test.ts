import { readFileSync } from 'node:fs';
import calculate from 'cluster-key-slot';
import { describe, expect, it } from 'vitest';
import {
  SLOT_COUNT,
  crc16,
  hashTagForSlot,
  hashedPart,
  keySlot,
} from '../../lambda/cluster/slots.js';

interface RecordedSlot {
  readonly key?: string;
  readonly hex?: string;
  readonly slot: number;
}

/** CLUSTER KEYSLOT answers from a real Redis 7.0.15 node (see the fixtures' README). */
const RECORDED = JSON.parse(
  readFileSync(new URL('../support/fixtures/redis-7.0/keyslot.json', import.meta.url), 'utf8'),
) as RecordedSlot[];

/** mulberry32: a seeded generator, so a failing random key is the same on every run. */
function randomSource(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Braces are over-represented so that most keys exercise some hash-tag rule; the rest covers
// one-, two-, three- and four-byte UTF-8 (the last as surrogate pairs in JavaScript).
const ALPHABET = [
  '{',
  '}',
  '{',
  '}',
  'a',
  'b',
  'z',
  '0',
  ':',
  ' ',
  'é',
  'ß',
  'ж',
  '键',
  '€',
  '🔑',
  '𝄞',
];

function randomKey(next: () => number): string {
  const length = Math.floor(next() * 12);
  let key = '';
  for (let i = 0; i < length; i++) key += ALPHABET[Math.floor(next() * ALPHABET.length)] ?? '';
  return key;
}

function randomBytes(next: () => number): Buffer {
  const bytes = Buffer.alloc(Math.floor(next() * 10));
  for (let i = 0; i < bytes.length; i++) {
    // One byte in four is a brace, so binary keys get hash tags too.
    const roll = next();
    bytes[i] = roll < 0.125 ? 0x7b : roll < 0.25 ? 0x7d : Math.floor(next() * 256);
  }
  return bytes;
}

describe('crc16', () => {
  it('gives the CRC-16/XMODEM check value', () => {
    expect(crc16(Buffer.from('123456789'))).toBe(0x31c3);
  });

  it('is 0 for no bytes', () => {
    expect(crc16(new Uint8Array())).toBe(0);
  });
});

/**
 * cluster-key-slot 1.1.2 (which ioredis routes with) hashes whatever follows an empty `{}` up to
 * the next `}`; Redis hashes the whole key then. The recorded server answers settle it for Redis,
 * so such keys are compared with the Redis rule instead of with the library.
 */
function hitsEmptyTagBug(key: Uint8Array): boolean {
  const open = key.indexOf(0x7b);
  return open !== -1 && key[open + 1] === 0x7d && key.indexOf(0x7d, open + 2) !== -1;
}

/** keySlot against cluster-key-slot, or against the whole-key CRC where the library is wrong. */
function disagreements(keys: readonly (string | Buffer)[]): (string | Buffer)[] {
  return keys.filter((key) => {
    const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
    const expected = hitsEmptyTagBug(bytes) ? crc16(bytes) % SLOT_COUNT : calculate(key);
    return keySlot(key) !== expected;
  });
}

describe('keySlot', () => {
  it.each(RECORDED.map((entry) => [entry.key ?? `0x${entry.hex ?? ''}`, entry] as const))(
    'matches CLUSTER KEYSLOT of a real server for %j',
    (_name, { key, hex, slot }) => {
      // Prepare
      const input = key ?? Buffer.from(hex ?? '', 'hex');

      // Act
      const computed = keySlot(input);

      // Assess
      expect(computed).toBe(slot);
    },
  );

  it('agrees with cluster-key-slot on the recorded keys, except after an empty {}', () => {
    // Prepare
    const inputs = RECORDED.map(({ key, hex }) => key ?? Buffer.from(hex ?? '', 'hex'));

    // Act
    const libraryWrong = inputs.filter((input, i) => calculate(input) !== RECORDED[i]?.slot);

    // Assess
    expect(libraryWrong).toEqual(['foo{}{bar}', 'x{}y{z}']);
    expect(calculate('foo{}{bar}')).toBe(keySlot('{bar'));
    expect(keySlot('foo{}{bar}')).toBe(8363);
  });

  it('matches cluster-key-slot for 10000 random keys with hash tags and unicode', () => {
    // Prepare
    const next = randomSource(0x5107);
    const keys = Array.from({ length: 10_000 }, () => randomKey(next));

    // Act
    const wrong = disagreements(keys);

    // Assess
    expect(wrong).toEqual([]);
    // The sample must exercise each rule: a real tag, and an empty {} with a later }.
    const tagged = keys.filter((key) => /^[^{]*\{[^}]+\}/u.test(key));
    const emptyTagThenBrace = keys.filter((key) => hitsEmptyTagBug(Buffer.from(key, 'utf8')));
    expect(tagged.length).toBeGreaterThan(1000);
    expect(emptyTagThenBrace.length).toBeGreaterThan(50);
  });

  it('matches cluster-key-slot for 2000 random binary keys', () => {
    // Prepare
    const next = randomSource(0xb17e5);
    const keys = Array.from({ length: 2000 }, () => randomBytes(next));

    // Act
    const wrong = disagreements(keys);

    // Assess
    expect(wrong.map((key) => key.toString('hex'))).toEqual([]);
  });

  it('hashes a lone surrogate as the UTF-8 bytes a client really sends', () => {
    // Node encodes an unpaired surrogate as U+FFFD (EF BF BD), and so does ioredis when it writes
    // the key; cluster-key-slot's own string encoder differs here, so compare with the bytes.
    const key = '\uD800x';

    expect(keySlot(key)).toBe(calculate(Buffer.from(key, 'utf8')));
    expect(keySlot(key)).toBe(keySlot(Buffer.from([0xef, 0xbf, 0xbd, 0x78])));
  });

  it('gives keys sharing a hash tag the same slot', () => {
    expect(keySlot('{user1000}.following')).toBe(keySlot('{user1000}.followers'));
    expect(keySlot('{user1000}.following')).toBe(keySlot('user1000'));
  });
});

describe('hashedPart', () => {
  it.each([
    ['', ''],
    ['plain', 'plain'],
    ['{user1000}.following', 'user1000'],
    ['{a}{b}', 'a'],
    ['x{a}y{b}z', 'a'],
    // An empty first tag means no tag: the whole key is hashed, later braces notwithstanding.
    ['{}', '{}'],
    ['foo{}{bar}', 'foo{}{bar}'],
    ['{', '{'],
    ['a{b', 'a{b'],
    ['}{a}', 'a'],
    ['{{a}}', '{a'],
    ['{键}值', '键'],
  ])('of %j is %j', (key, expected) => {
    // Act
    const part = hashedPart(Buffer.from(key, 'utf8'));

    // Assess
    expect(Buffer.from(part).toString('utf8')).toBe(expected);
  });
});

describe('hashTagForSlot', () => {
  it('gives, for every slot, a brace-free tag whose {tag} key lands in that slot', () => {
    // Prepare
    const slots = Array.from({ length: SLOT_COUNT }, (_, slot) => slot);

    // Act
    const tags = slots.map((slot) => hashTagForSlot(slot));

    // Assess
    const wrong = slots.filter((slot) => {
      const tag = tags[slot] ?? '';
      return (
        !/^[0-9a-z]+$/.test(tag) ||
        keySlot(`{${tag}}`) !== slot ||
        calculate(`slotwatch:{${tag}}:canary`) !== slot
      );
    });
    expect(wrong).toEqual([]);
    expect(Math.max(...tags.map((tag) => tag.length))).toBeLessThanOrEqual(4);
  });

  it('returns the same tag every time', () => {
    expect(hashTagForSlot(12182)).toBe(hashTagForSlot(12182));
    expect(keySlot(`{${hashTagForSlot(0)}}`)).toBe(0);
  });

  it.each([-1, SLOT_COUNT, 1.5, Number.NaN, Number.POSITIVE_INFINITY])(
    'rejects slot %d with a RangeError',
    (slot) => {
      expect(() => hashTagForSlot(slot)).toThrow(RangeError);
      expect(() => hashTagForSlot(slot)).toThrow(
        `slot must be an integer in [0, 16383], got ${slot}`,
      );
    },
  );
});
