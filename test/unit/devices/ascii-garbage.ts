/**
 * Random garbage lines interleaved with valid lines, for the ASCII line profiles: the valid
 * lines' results come through unchanged, every short garbage line is one DecodeError, and every
 * byte of an over-long garbage line is accounted for in a framing error.
 */
import { describe, expect, it } from 'vitest';
import type { SerialProfile } from '../../../src/core/profile.js';
import { type Case, type Outcome, decodedOnly, prng, randomChunks, run } from './harness.js';

export function asciiGarbageSuite(profile: SerialProfile, cases: readonly Case[], bound: number): void {
  // Lines ended LF CR carry their CR into the next line, which would change a garbage line's
  // length; the fixture table covers them.
  const valid = cases.filter((c) => c.expect.length === 1 && 'decoded' in c.expect[0]! && c.wire.at(-1) === 0x0a);

  describe(`${profile.name} with garbage lines`, () => {
    it.each([11, 12, 13])('keeps exactly the valid lines (seed %i)', (seed) => {
      const random = prng(seed);
      const parts: Buffer[] = [];
      const wanted: Outcome[] = [];
      let shortGarbage = 0;
      let longGarbageBytes = 0;
      let longGarbage = 0;
      for (let i = 0; i < 120; i++) {
        if (random() < 0.5) {
          const c = valid[Math.floor(random() * valid.length)]!;
          parts.push(c.wire);
          wanted.push(...c.expect);
          continue;
        }
        // '#' first: never a date, a header or a blank line. The rest is any byte but LF.
        const length = random() < 0.15 ? bound + 1 + Math.floor(random() * 700) : 1 + Math.floor(random() * 200);
        const line = Buffer.alloc(length + 1);
        line[0] = 0x23;
        for (let j = 1; j < length; j++) {
          let b = Math.floor(random() * 256);
          if (b === 0x0a) b = 0x0b;
          line[j] = b;
        }
        line[length] = 0x0a;
        parts.push(line);
        if (length > bound) {
          longGarbage += 1;
          longGarbageBytes += length;
        } else {
          shortGarbage += 1;
        }
      }
      expect(shortGarbage).toBeGreaterThan(10);
      expect(longGarbage).toBeGreaterThan(2);

      const result = run(profile, randomChunks(Buffer.concat(parts), random, 64));
      expect(decodedOnly(result.outcomes)).toEqual(decodedOnly(wanted));
      const decodeErrors = result.outcomes.filter((o) => 'decodeError' in o);
      const framing = result.outcomes.flatMap((o) => ('framingError' in o ? [o] : []));
      expect(decodeErrors).toHaveLength(shortGarbage);
      expect(framing.length).toBeGreaterThanOrEqual(longGarbage);
      expect(framing.reduce((n, o) => n + o.bytes, 0)).toBe(longGarbageBytes);
      expect(result.maxHeld).toBeLessThanOrEqual(bound);
    });
  });
}
