import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../../src/core/errors.js';
import { checksum, createFlagFramer, datexS5Profile, decodeDatexBody } from '../../../devices/datex-s5/index.js';
import { fixtureSuite } from './fixture-suite.js';
import { type Outcome, decodedOnly, heldBytes, loadCases, prng, randomChunks, run } from './harness.js';

const cases = loadCases(new URL('../../../devices/datex-s5/fixtures/cases.json', import.meta.url), 'hex');

fixtureSuite(datexS5Profile, cases, 64);

/** A physiological body with the given int16 fields and a correct checksum. */
function body(deviceTime: number, fields: readonly number[]): Buffer {
  const b = Buffer.alloc(22);
  b[0] = 0x01;
  b.writeUInt32LE(deviceTime, 1);
  fields.forEach((v, i) => b.writeInt16LE(v, 5 + 2 * i));
  let sum = 0;
  for (let i = 0; i < 21; i++) sum += b[i]!;
  b[21] = sum % 256;
  return b;
}

describe('datex-s5 profile', () => {
  it('declares the factory line settings 19200 8E1', () => {
    expect(datexS5Profile.serial).toEqual({ baudRate: 19200, dataBits: 8, parity: 'even', stopBits: 1 });
    expect(datexS5Profile.name).toBe('datex-s5');
  });

  it('sums bytes mod 256', () => {
    expect(checksum(Buffer.from([0xff, 0x02]))).toBe(0x01);
    expect(checksum(Buffer.alloc(0))).toBe(0);
  });

  it.each([
    [-32768, 'hr reserved status -32768'],
    [-32765, 'hr reserved status -32765'],
    [-32001, 'hr reserved status -32001'],
  ])('never turns the status value %i into a number', (raw, note) => {
    const decoded = decodeDatexBody(body(0, [raw, 9700, 70, 12, 3700, -32766, -32766, -32766]));
    expect(decoded.readings.map((r) => r.metric)).toEqual(['spo2', 'pr', 'rr', 'temp']);
    expect(decoded.notes).toEqual([note]);
  });

  it('keeps -32000 and negative values above the status band as numbers', () => {
    const decoded = decodeDatexBody(body(0, [-32000, 0, 0, 0, -50, 0, 0, 0]));
    expect(decoded.readings.find((r) => r.metric === 'hr')?.value).toBe(-32000);
    expect(decoded.readings.find((r) => r.metric === 'temp')?.value).toBe(-0.5);
  });

  it.each([
    [Buffer.from([0x01]), 'truncated'],
    [Buffer.from([0x00, 0x00]), 'unknown_record'],
    [Buffer.from([0x03, 0x04]), 'bad_checksum'],
  ])('rejects the short body %s as %s', (b, reason) => {
    expect(() => decodeDatexBody(b)).toThrow(DecodeError);
    expect(() => decodeDatexBody(b)).toThrow(expect.objectContaining({ reason }));
  });
});

describe('datex-s5 flag framer', () => {
  it('reports bytes before the first flag as no_flag, then frames normally', () => {
    const framer = createFlagFramer();
    const b = body(1, [60, 9800, 60, 12, 3650, -32766, -32766, -32766]);
    const items = framer.push(Buffer.concat([Buffer.from([0x01, 0x02, 0x03, 0x7e]), b, Buffer.from([0x7e])]));
    expect(items).toEqual([{ error: 'no_flag', bytes: 3 }, { frame: b }]);
  });

  it('reports a flagless stream every 64 bytes and holds nothing', () => {
    const framer = createFlagFramer();
    const items = framer.push(Buffer.alloc(200, 0x55));
    expect(items).toEqual([
      { error: 'no_flag', bytes: 64 },
      { error: 'no_flag', bytes: 64 },
      { error: 'no_flag', bytes: 64 },
    ]);
    expect(heldBytes(framer)).toBe(0);
    expect(framer.push(Buffer.from([0x7e]))).toEqual([{ error: 'no_flag', bytes: 8 }]);
  });

  it('accepts a frame of exactly 64 raw bytes and rejects 65', () => {
    const framer = createFlagFramer();
    const ok = framer.push(Buffer.concat([Buffer.from([0x7e]), Buffer.alloc(64, 0x11), Buffer.from([0x7e])]));
    expect(ok).toEqual([{ frame: Buffer.alloc(64, 0x11) }]);
    const long = framer.push(Buffer.concat([Buffer.alloc(65, 0x11), Buffer.from([0x7e])]));
    expect(long).toEqual([
      { error: 'frame_too_long', bytes: 64 },
      { error: 'frame_too_long', bytes: 1 },
    ]);
  });

  it('counts escapes against the raw bound: 32 escaped bytes fit, 33 do not', () => {
    const framer = createFlagFramer();
    const escaped = (n: number) => Buffer.concat([Buffer.from([0x7e]), Buffer.alloc(2 * n, 0).fill(Buffer.from([0x7d, 0x5e])), Buffer.from([0x7e])]);
    expect(framer.push(escaped(32))).toEqual([{ frame: Buffer.alloc(32, 0x7e) }]);
    expect(framer.push(escaped(33))).toEqual([
      { error: 'frame_too_long', bytes: 64 },
      { error: 'frame_too_long', bytes: 2 },
    ]);
  });

  it.each([11, 12, 13])('keeps exactly the valid frames amid random garbage (seed %i)', (seed) => {
    const random = prng(seed);
    const valid = cases.filter((c) => c.expect.length === 1 && 'decoded' in c.expect[0]!);
    const parts: Buffer[] = [];
    const wanted: Outcome[] = [];
    let garbageStretches = 0;
    for (let i = 0; i < 150; i++) {
      if (random() < 0.5) {
        const c = valid[Math.floor(random() * valid.length)]!;
        parts.push(c.wire);
        wanted.push(...c.expect);
        continue;
      }
      // Any bytes, flags and escapes included; sometimes longer than the bound.
      const length = random() < 0.2 ? 65 + Math.floor(random() * 100) : 1 + Math.floor(random() * 40);
      const garbage = Buffer.alloc(length);
      for (let j = 0; j < length; j++) garbage[j] = random() < 0.05 ? 0x7e : random() < 0.05 ? 0x7d : Math.floor(random() * 256);
      if (garbage.every((b) => b === 0x7e)) garbage[0] = 0x00;
      parts.push(garbage);
      garbageStretches += 1;
    }
    const result = run(datexS5Profile, randomChunks(Buffer.concat(parts), random, 48));
    expect(decodedOnly(result.outcomes)).toEqual(decodedOnly(wanted));
    const errors = result.outcomes.filter((o) => !('decoded' in o));
    expect(errors.length).toBeGreaterThanOrEqual(garbageStretches);
    expect(result.maxHeld).toBeLessThanOrEqual(64);
  });
});
