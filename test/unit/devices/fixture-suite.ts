/**
 * The fixture-table tests every serial profile gets: each case alone, the cases as one stream,
 * that stream split at every byte position, byte by byte and in random chunks, all with the
 * framer's held bytes checked against its bound.
 */
import { describe, expect, it } from 'vitest';
import type { SerialProfile } from '../../../src/core/profile.js';
import { type Case, prng, randomChunks, run } from './harness.js';

export function fixtureSuite(profile: SerialProfile, cases: readonly Case[], bound: number): void {
  const stream = Buffer.concat(cases.map((c) => c.wire));
  const expected = cases.flatMap((c) => c.expect);

  describe(`${profile.name} fixture table`, () => {
    it('has valid frames, decode errors and framing errors to check', () => {
      expect(expected.some((o) => 'decoded' in o && o.decoded.readings.length > 0)).toBe(true);
      expect(expected.some((o) => 'decodeError' in o)).toBe(true);
      expect(expected.some((o) => 'framingError' in o)).toBe(true);
    });

    it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
      const result = run(profile, [c.wire]);
      expect(result.outcomes).toEqual(c.expect);
      expect(result.maxHeld).toBeLessThanOrEqual(bound);
    });

    it('gives the same results for all cases as one stream in one read', () => {
      expect(run(profile, [stream]).outcomes).toEqual(expected);
    });

    it('gives the same results with the stream split at every byte position', () => {
      for (let at = 1; at < stream.length; at++) {
        const result = run(profile, [stream.subarray(0, at), stream.subarray(at)]);
        // toEqual on every split is slow; compare a serialisation and report the position.
        if (JSON.stringify(result.outcomes) !== JSON.stringify(expected)) {
          expect({ at, outcomes: result.outcomes }).toEqual({ at, outcomes: expected });
        }
        expect(result.maxHeld).toBeLessThanOrEqual(bound);
      }
    });

    it('gives the same results one byte at a time', () => {
      const bytes = [...stream].map((b) => Buffer.from([b]));
      const result = run(profile, bytes);
      expect(result.outcomes).toEqual(expected);
      expect(result.maxHeld).toBeLessThanOrEqual(bound);
    });

    it.each([1, 2, 3, 4, 5])('gives the same results in random chunks (seed %i)', (seed) => {
      const result = run(profile, randomChunks(stream, prng(seed), 40));
      expect(result.outcomes).toEqual(expected);
      expect(result.maxHeld).toBeLessThanOrEqual(bound);
    });
  });
}
