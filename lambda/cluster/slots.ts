/** Redis Cluster key-slot maths: CRC16 (XMODEM) of the key or of its hash tag, modulo 16384. */

export const SLOT_COUNT = 16384;

const CRC16_TABLE = (() => {
  const table = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    }
    table[byte] = crc;
  }
  return table;
})();

export function crc16(data: Uint8Array): number {
  let crc = 0;
  for (const byte of data) {
    crc = ((crc << 8) & 0xffff) ^ (CRC16_TABLE[((crc >> 8) ^ byte) & 0xff] ?? 0);
  }
  return crc;
}

/** The part of a key that is hashed: the first non-empty `{...}` section, else the whole key. */
export function hashedPart(key: Uint8Array): Uint8Array {
  const open = key.indexOf(0x7b);
  if (open === -1) return key;
  const close = key.indexOf(0x7d, open + 1);
  if (close === -1 || close === open + 1) return key;
  return key.subarray(open + 1, close);
}

export function keySlot(key: string | Uint8Array): number {
  const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
  return crc16(hashedPart(bytes)) % SLOT_COUNT;
}

let tagsBySlot: string[] | undefined;

/**
 * The shortest base-36 string whose CRC16 lands in `slot`, so that `{tag}` pins a key to it.
 * The table for all 16384 slots is built once per process (about 150k CRCs, a few milliseconds).
 */
export function hashTagForSlot(slot: number): string {
  if (!Number.isInteger(slot) || slot < 0 || slot >= SLOT_COUNT) {
    throw new RangeError(`slot must be an integer in [0, ${SLOT_COUNT - 1}], got ${slot}`);
  }
  tagsBySlot ??= buildTagTable();
  const tag = tagsBySlot[slot];
  if (tag === undefined) throw new Error(`no hash tag found for slot ${slot}`);
  return tag;
}

function buildTagTable(): string[] {
  const table = new Array<string>(SLOT_COUNT);
  let missing = SLOT_COUNT;
  // Every slot is reached well before a million candidates; the bound only guards the loop.
  for (let n = 0; missing > 0 && n < 1_000_000; n++) {
    const tag = n.toString(36);
    const slot = crc16(Buffer.from(tag, 'latin1')) % SLOT_COUNT;
    if (table[slot] === undefined) {
      table[slot] = tag;
      missing--;
    }
  }
  return table;
}
