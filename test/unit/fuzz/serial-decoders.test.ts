/**
 * Fuzzing the bedside serial profiles: tens of thousands of mutated and random frames through
 * each profile's framer and decoder. Nothing may throw except DecodeError, nothing may vanish
 * uncounted, and the framer's buffer stays within its bound whatever arrives.
 */
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../../src/core/errors.js';
import type { SerialProfile } from '../../../src/core/profile.js';
import { findProfile } from '../../../devices/registry.js';
import type { SimProfile } from '../../../firmware-sim/device.js';
import { chunks, int, mutate, randomBytes, rng, validUnits } from './fuzz-support.js';

const INPUTS = 20_000;

interface Tally {
  decoded: number;
  decodeErrors: number;
  framingErrors: number;
}

/** Runs every framer item through the decoder; anything thrown that is not a DecodeError fails the test. */
function consume(profile: SerialProfile, items: ReturnType<ReturnType<SerialProfile['createFramer']>['push']>, t: Tally): void {
  for (const item of items) {
    if ('error' in item) {
      expect(item.bytes).toBeGreaterThan(0);
      t.framingErrors++;
      continue;
    }
    try {
      profile.decode(item.frame, { deviceId: 'fz-1', receivedAt: 0 });
      t.decoded++;
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      expect(err.reason).toMatch(/^[a-z_]+$/);
      t.decodeErrors++;
    }
  }
}

/** The bytes that close a unit so the framer must decide about it. */
function terminated(name: string, unit: Buffer): Buffer {
  if (name === 'datex-s5') return Buffer.concat([Buffer.from([0x7e]), unit, Buffer.from([0x7e])]);
  return Buffer.concat([unit, Buffer.from('\r\n')]);
}

/** A valid unit with its own delimiters removed (datex units carry their flags). */
function body(name: string, unit: Buffer): Buffer {
  if (name === 'datex-s5') return unit.subarray(1, unit.length - 1);
  return unit.subarray(0, unit.length - 2);
}

const PROFILES: ReadonlyArray<{ name: SimProfile & string; maxHeld: number }> = [
  { name: 'masimo-radical7', maxHeld: 512 },
  { name: 'nellcor-n595', maxHeld: 512 },
  { name: 'datex-s5', maxHeld: 3000 },
];

describe.each(PROFILES)('fuzzing $name', ({ name, maxHeld }) => {
  const profile = findProfile(name) as SerialProfile;
  const seeds = validUnits(name, 600);

  it('valid output of the simulator decodes', () => {
    expect(seeds.length).toBeGreaterThan(100);
    const t: Tally = { decoded: 0, decodeErrors: 0, framingErrors: 0 };
    const framer = profile.createFramer();
    for (const s of seeds) consume(profile, framer.push(s), t);
    expect(t).toEqual({ decoded: seeds.length, decodeErrors: 0, framingErrors: 0 });
  });

  it(`${INPUTS} mutated and random frames, one at a time: each decodes or is counted as bad`, () => {
    const r = rng(0x5eed + name.length);
    const t: Tally = { decoded: 0, decodeErrors: 0, framingErrors: 0 };
    let bad = 0;
    let counted = 0;
    for (let i = 0; i < INPUTS; i++) {
      const seed = body(name, seeds[int(r, seeds.length)]!);
      const unit = r() < 0.1 ? randomBytes(r, 1 + int(r, 300)) : mutate(seed, r);
      if (unit.length === 0) continue;
      // A fresh framer per input, closed by a delimiter, so every input's fate is known.
      const framer = profile.createFramer();
      const before = { ...t };
      consume(profile, framer.push(terminated(name, unit)), t);
      if (t.decoded > before.decoded) continue;
      bad++;
      if (t.decodeErrors + t.framingErrors > before.decodeErrors + before.framingErrors) counted++;
    }
    // Every input that gave no reading is counted as a framer or decoder error: none vanished.
    expect(bad).toBeGreaterThan(INPUTS / 4);
    expect(counted).toBe(bad);
  });

  it(`one long stream of ${INPUTS} good, mutated and random units in random reads: bounded buffer and heap`, () => {
    const r = rng(0xbad + name.length);
    const framer = profile.createFramer();
    const held = (): number => (framer as unknown as { buffered: number }).buffered;
    const t: Tally = { decoded: 0, decodeErrors: 0, framingErrors: 0 };
    let maxHeldSeen = 0;
    let goodSent = 0;
    const heapBefore = process.memoryUsage().heapUsed;
    for (let i = 0; i < INPUTS; i++) {
      const roll = r();
      const seed = seeds[int(r, seeds.length)]!;
      let unit: Buffer;
      if (roll < 0.5) {
        unit = seed;
        goodSent++;
      } else if (roll < 0.9) unit = mutate(seed, r);
      // a device that never sends a delimiter for a while
      else unit = Buffer.from(randomBytes(r, int(r, 2000)).map((b) => (b === 0x0a || b === 0x7e ? 0x41 : b)));
      for (const c of chunks(unit, r)) {
        consume(profile, framer.push(c), t);
        maxHeldSeen = Math.max(maxHeldSeen, held());
      }
    }
    expect(maxHeldSeen).toBeLessThanOrEqual(maxHeld);
    // Mutations can break a neighbour's framing, so only most of the good units survive.
    expect(t.decoded).toBeGreaterThan(goodSent * 0.5);
    expect(t.decodeErrors + t.framingErrors).toBeGreaterThan(0);
    // Holding on to inputs would show as tens of MB here; the parsers keep nothing per frame.
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024);
  });
});
