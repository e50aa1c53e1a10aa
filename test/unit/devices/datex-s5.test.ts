import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DRI_LEVEL, createFlagFramer, datexS5Profile, decodeDatexBody, driChecksum, driTransferRequests } from '../../../devices/datex-s5/index.js';
import { findProfile } from '../../../devices/registry.js';
import { fixtureSuite } from './fixture-suite.js';
import { type Outcome, decodedOnly, heldBytes, loadCases, prng, randomChunks, run } from './harness.js';
import { splitDatexFrames } from '../firmware-sim/helpers.js';

const cases = loadCases(new URL('../../../devices/datex-s5/fixtures/cases.json', import.meta.url), 'hex');

fixtureSuite(datexS5Profile, cases, 3000);

describe('ge-datex-s5-dri profile', () => {
  it('declares the factory line settings 19200 8E1 and answers to its former name', () => {
    expect(datexS5Profile.serial).toEqual({ baudRate: 19200, dataBits: 8, parity: 'even', stopBits: 1 });
    expect(datexS5Profile.name).toBe('ge-datex-s5-dri');
    expect(findProfile('datex-s5')).toBe(datexS5Profile);
  });

  it('decodes the real frame as the published bytes: 1,153 bytes of record and checksum but 19 extra zeros', () => {
    const text = readFileSync(new URL('../../../devices/datex-s5/fixtures/wei2374-monitor_serial-result.hex', import.meta.url), 'latin1');
    const wire = Buffer.from(text.split('\n').filter((l) => !l.startsWith('#')).join(' ').trim().split(/\s+/).map((h) => Number.parseInt(h, 16)));
    const outcomes = run(datexS5Profile, [wire]).outcomes;
    expect(outcomes).toEqual([{ decoded: { deviceTs: Date.UTC(2021, 0, 2, 15, 35, 56), readings: [], events: [], notes: ['19 byte(s) after r_len 1152 ignored', '3 more basic subrecord(s) ignored'] } }]);
  });

  it('asks for displayed values every 5 s, basic class, once per DRI level (VSCaptureWave RequestTransfer)', () => {
    const requests = datexS5Profile.host?.onOpen() ?? [];
    expect(requests).toHaveLength(5);
    const bodies = requests.map((f) => splitDatexFrames(f)[0]!);
    expect(bodies.map((b) => b[3])).toEqual([DRI_LEVEL.l2015, DRI_LEVEL.l2009, DRI_LEVEL.l2005, DRI_LEVEL.l2003, DRI_LEVEL.l2001]);
    for (const b of bodies) {
      expect(b.length).toBe(50);
      // r_len 49; main type 0; descriptor 0: offset 0, type 0 (request); descriptor 1 ends the list.
      expect(b.readInt16LE(0)).toBe(49);
      expect(b.readInt16LE(14)).toBe(0);
      expect([...b.subarray(16, 22)]).toEqual([0, 0, 0, 0, 0, 0xff]);
      // dri_phdb_req: type 1 (displayed), interval 5 s, classes 0 (basic).
      expect(b[40]).toBe(1);
      expect(b.readInt16LE(41)).toBe(5);
      expect(b.readUInt32LE(43)).toBe(0);
      expect(b[49]).toBe(driChecksum(b.subarray(0, 49)));
    }
    expect(datexS5Profile.host?.resendAfterSilenceMs).toBe(30_000);
    expect(driTransferRequests(0).every((f) => splitDatexFrames(f)[0]!.readInt16LE(41) === 0)).toBe(true);
  });

  it('never turns a marker at or below -32001 into a number; -32000 is a number', () => {
    const frame = cases[1]!.wire;
    const body = splitDatexFrames(frame)[0]!;
    const record = Buffer.from(body.subarray(0, -1));
    for (const [raw, expectHr] of [[-32001, undefined], [-32000, -32000], [-32768, undefined]] as const) {
      record.writeInt16LE(raw, 40 + 4 + 6);
      const decoded = decodeDatexBody(Buffer.concat([record, Buffer.from([driChecksum(record)])]));
      expect(decoded.readings.find((r) => r.metric === 'hr')?.value).toBe(expectHr);
    }
  });
});

describe('S/5 DRI flag framer', () => {
  it('reports bytes before the first flag as no_flag, then frames normally', () => {
    const framer = createFlagFramer();
    const b = Buffer.from([0x01, 0x02, 0x03, 0x04]);
    const items = framer.push(Buffer.concat([Buffer.from([0x01, 0x02, 0x03, 0x7e]), b, Buffer.from([0x7e])]));
    expect(items).toEqual([{ error: 'no_flag', bytes: 3 }, { frame: b }]);
  });

  it('reports a flagless stream every 3,000 bytes and holds nothing', () => {
    const framer = createFlagFramer();
    const items = framer.push(Buffer.alloc(9008, 0x55));
    expect(items).toEqual([
      { error: 'no_flag', bytes: 3000 },
      { error: 'no_flag', bytes: 3000 },
      { error: 'no_flag', bytes: 3000 },
    ]);
    expect(heldBytes(framer)).toBe(0);
    expect(framer.push(Buffer.from([0x7e]))).toEqual([{ error: 'no_flag', bytes: 8 }]);
  });

  it('accepts a frame of exactly 3,000 raw bytes and rejects 3,001', () => {
    const framer = createFlagFramer();
    const ok = framer.push(Buffer.concat([Buffer.from([0x7e]), Buffer.alloc(3000, 0x11), Buffer.from([0x7e])]));
    expect(ok).toEqual([{ frame: Buffer.alloc(3000, 0x11) }]);
    const long = framer.push(Buffer.concat([Buffer.alloc(3001, 0x11), Buffer.from([0x7e])]));
    expect(long).toEqual([
      { error: 'frame_too_long', bytes: 3000 },
      { error: 'frame_too_long', bytes: 1 },
    ]);
  });

  it('counts escapes against the raw bound: 1,500 escaped bytes fit, 1,501 do not', () => {
    const framer = createFlagFramer();
    const escaped = (n: number) => Buffer.concat([Buffer.from([0x7e]), Buffer.alloc(2 * n, 0).fill(Buffer.from([0x7d, 0x5e])), Buffer.from([0x7e])]);
    expect(framer.push(escaped(1500))).toEqual([{ frame: Buffer.alloc(1500, 0x7e) }]);
    expect(framer.push(escaped(1501))).toEqual([
      { error: 'frame_too_long', bytes: 3000 },
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
      const length = random() < 0.1 ? 3001 + Math.floor(random() * 100) : 1 + Math.floor(random() * 40);
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
    expect(result.maxHeld).toBeLessThanOrEqual(3000);
  });
});
