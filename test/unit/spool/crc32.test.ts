import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { crc32 } from '../../../src/spool/crc32.js';

/** Bit-at-a-time CRC-32, the definition zlib's must match. */
function reference(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of buf) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

describe('crc32', () => {
  it('matches the standard check values', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(Buffer.alloc(0))).toBe(0);
    expect(crc32(Buffer.from('The quick brown fox jumps over the lazy dog'))).toBe(0x414fa339);
  });

  it('matches the bitwise definition for every length from 0 to 64 and random data', () => {
    for (let n = 0; n <= 64; n++) {
      const b = randomBytes(n);
      expect(crc32(b)).toBe(reference(b));
    }
    const big = randomBytes(10_007);
    expect(crc32(big)).toBe(reference(big));
  });

  it('gives the same result fed in pieces or over a sub-range', () => {
    const b = randomBytes(1000);
    const whole = crc32(b);
    for (const cut of [0, 1, 3, 4, 5, 499, 999, 1000]) {
      expect(crc32(b, crc32(b, 0, 0, cut), cut, b.length)).toBe(whole);
    }
    expect(crc32(b, 0, 10, 20)).toBe(reference(b.subarray(10, 20)));
  });
});
