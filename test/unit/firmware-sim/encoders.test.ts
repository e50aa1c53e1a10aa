import { describe, expect, it } from 'vitest';
import { DATEX_SPECIAL, datexFrame } from '../../../firmware-sim/encoders/datex-s5.js';
import { NELLCOR_HEADER, NELLCOR_HEADER_EVERY } from '../../../firmware-sim/encoders/nellcor-n595.js';
import { BATTERY_LOW_PERCENT } from '../../../firmware-sim/encoders/types.js';
import { createRng } from '../../../firmware-sim/rng.js';
import { bytesOf, device, splitDatexFrames, sum8 } from './helpers.js';

const MASIMO_LINE =
  /^(\d{2})\/(\d{2})\/(\d{2}) (\d{2}):(\d{2}):(\d{2}) SN=\d{10} SPO2=(\d{3}|---)% BPM=(\d{3}|---) PI=(\d{2}\.\d{2}|--\.--)% SPCO=--\.-% SPMET=--\.-% DESAT=-- PIDELTA=\+-- ALARM=([0-9A-F]{4}) EXC=([0-9A-F]{6})\r\n$/;
const NELLCOR_LINE = /^(\d{2})-(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)-(\d{2}) (\d{2}):(\d{2}):(\d{2})( {3}---|\s+\d{1,3})( {3}---|\s+\d{1,3})( {3}---|\s+\d{1,3})((?: {2}[A-Z]{2})(?: [A-Z]{2})*)?\r\n$/;

function lines(bytes: Buffer): string[] {
  return bytes.toString('latin1').split(/(?<=\r\n)/).filter((l) => l.length > 0);
}

describe('masimo-radical7 encoder', () => {
  for (const scenario of ['desaturation', 'sensor-off', 'battery-drain', 'artifact-storm']) {
    it(`${scenario}: one well-formed line a second carrying the sample's values`, () => {
      const d = device('masimo-radical7', scenario, 2);
      const chunks = [...d.generate(0, 1800)].filter((c) => c.kind === 'data');
      expect(chunks.length).toBe(1800);
      for (const [i, c] of chunks.entries()) {
        const line = c.bytes.toString('latin1');
        const m = MASIMO_LINE.exec(line);
        expect(m, line).not.toBeNull();
        if (!m) continue;
        expect(c.t).toBe(i);
        const when = new Date(c.epochMs);
        expect(Number(m[2])).toBe(when.getUTCDate());
        expect(Number(m[6])).toBe(when.getUTCSeconds());
        const s = d.patient.sample(c.t);
        const exc = parseInt(m[11] ?? '', 16);
        const alarm = parseInt(m[10] ?? '', 16);
        if (s.sensor === 'off') {
          expect(m[7]).toBe('---');
          expect(m[8]).toBe('---');
          expect(exc & 0x20).toBe(0x20);
        } else {
          expect(Number(m[7])).toBe(Math.round(s.spo2));
          expect(Number(m[8])).toBe(Math.round(s.pr));
          expect(Number(m[9])).toBeCloseTo(s.pi, 2);
          expect(exc === 0).toBe(s.sensor === 'ok');
        }
        expect((alarm & 0x10) !== 0).toBe(s.battery < BATTERY_LOW_PERCENT);
      }
    });
  }
});

describe('nellcor-n595 encoder', () => {
  it('a data line every 2 s and both header lines before every 25th data line', () => {
    for (const scenario of ['desaturation', 'sensor-off', 'battery-drain']) {
      const d = device('nellcor-n595', scenario, 3);
      const all = lines(bytesOf('nellcor-n595', scenario, 3, 0, 1800));
      let data = 0;
      for (let i = 0; i < all.length; i++) {
        const line = all[i] ?? '';
        if (line === `${NELLCOR_HEADER[0]}\r\n`) {
          expect(all[i + 1]).toBe(`${NELLCOR_HEADER[1]}\r\n`);
          expect(data % NELLCOR_HEADER_EVERY).toBe(0);
          i++;
          continue;
        }
        const m = NELLCOR_LINE.exec(line);
        expect(m, JSON.stringify(line)).not.toBeNull();
        if (!m) continue;
        const t = data * 2;
        expect(Number(m[6])).toBe(new Date(d.epochMsAt(t)).getUTCSeconds());
        // Column widths: time, then three right-aligned 6-character columns.
        expect(line.slice(18, 36)).toMatch(/^[ \d-]{18}$/);
        const s = d.patient.sample(t);
        const codes = (m[10] ?? '').trim().split(' ').filter(Boolean);
        if (s.sensor === 'off') {
          expect([m[7], m[8], m[9]].map((v) => v?.trim())).toEqual(['---', '---', '---']);
          expect(codes).toContain('SO');
        } else {
          expect(Number(m[7])).toBe(Math.round(s.spo2));
          expect(Number(m[8])).toBe(Math.round(s.pr));
        }
        expect(codes.includes('LB')).toBe(s.battery < BATTERY_LOW_PERCENT);
        expect(codes.includes('MO')).toBe(s.sensor === 'poor');
        data++;
      }
      expect(data).toBe(900);
    }
  });
});

describe('datex-s5 encoder', () => {
  it('escaping round-trips any body, and no flag byte appears inside a frame', () => {
    const rng = createRng(99);
    for (let n = 0; n < 500; n++) {
      const body = Buffer.from(Array.from({ length: 22 }, () => (rng.next() < 0.2 ? (rng.next() < 0.5 ? 0x7e : 0x7d) : rng.int(0, 255))));
      const frame = datexFrame(body);
      expect(frame[0]).toBe(0x7e);
      expect(frame[frame.length - 1]).toBe(0x7e);
      expect(frame.subarray(1, -1).includes(0x7e)).toBe(false);
      expect(splitDatexFrames(frame)).toEqual([body]);
    }
  });

  it('frames carry the sample with a valid checksum; NIBP only right after a cuff measurement', () => {
    const d = device('datex-s5', 'sensor-off', 4);
    const chunks = [...d.generate(0, 1800)].filter((c) => c.kind === 'data');
    const frames = splitDatexFrames(Buffer.concat(chunks.map((c) => (c.kind === 'data' ? c.bytes : Buffer.alloc(0)))));
    expect(frames.length).toBe(chunks.length);
    let escapedSeen = 0;
    let nibpFrames = 0;
    for (const [i, c] of chunks.entries()) {
      if (c.kind !== 'data') continue;
      const body = frames[i] as Buffer;
      if (c.bytes.includes(0x7d)) escapedSeen++;
      expect(body.length).toBe(22);
      expect(body[0]).toBe(0x01);
      expect(body[21]).toBe(sum8(body.subarray(0, 21)));
      expect(body.readUInt32LE(1)).toBe(Math.floor(c.epochMs / 1000));
      const v = Array.from({ length: 8 }, (_, k) => body.readInt16LE(5 + 2 * k));
      const s = d.patient.sample(c.t);
      expect(v[0]).toBe(Math.round(s.hr));
      expect(v[3]).toBe(Math.round(s.rr));
      expect(v[4]).toBe(Math.round(s.temp * 100));
      if (s.sensor === 'off') expect([v[1], v[2]]).toEqual([DATEX_SPECIAL.invalid, DATEX_SPECIAL.invalid]);
      else expect([v[1], v[2]]).toEqual([Math.round(s.spo2) * 100, Math.round(s.pr)]);
      // Cuff cycles every 300 s from t = 30 s; the frame at or after each one carries it.
      const cuff = c.t >= 30 && (c.t - 30) % 300 < 5;
      if (cuff) {
        nibpFrames++;
        const m = d.patient.sample(30 + Math.floor((c.t - 30) / 300) * 300);
        expect([v[5], v[6], v[7]]).toEqual([Math.round(m.sbp) * 100, Math.round(m.dbp) * 100, Math.round(m.map) * 100]);
      } else {
        expect([v[5], v[6], v[7]]).toEqual([DATEX_SPECIAL.notUpdated, DATEX_SPECIAL.notUpdated, DATEX_SPECIAL.notUpdated]);
      }
    }
    expect(nibpFrames).toBe(6);
    // Over half an hour the time and checksum bytes hit 0x7D/0x7E, so escaping is exercised for real.
    expect(escapedSeen).toBeGreaterThan(0);
  });

  it('garbage: damaged frames fail the checksum or length; the rest still decode', () => {
    const stream = bytesOf('datex-s5', 'garbage', 5, 0, 3600);
    const frames = splitDatexFrames(stream);
    const good = frames.filter((f) => f.length === 22 && f[0] === 1 && f[21] === sum8(f.subarray(0, 21)));
    const bad = frames.length - good.length;
    expect(good.length).toBeGreaterThan(600 * 0.6);
    expect(bad).toBeGreaterThan(20);
    expect(frames.some((f) => f.length > 64)).toBe(true); // an over-long run to resync from
  });
});

describe('json-v1 encoders', () => {
  it('wearable payloads follow the schema and omit readings while the sensor is off', () => {
    const d = device('json-v1', 'sensor-off', 6);
    expect(d.topic).toBe('vigil/v1/dev/sim-json-v1/obs');
    const chunks = [...d.generate(0, 1800)];
    expect(chunks.length).toBe(1800 / 5);
    for (const c of chunks) {
      if (c.kind !== 'data') continue;
      const p = JSON.parse(c.bytes.toString('utf8')) as { ts: number; obs: Record<string, number>; battery: number; sensor: string };
      const s = d.patient.sample(c.t);
      expect(p.ts).toBe(c.epochMs);
      expect(p.sensor).toBe(s.sensor);
      expect(p.battery).toBe(Math.round(s.battery));
      if (s.sensor === 'off') expect(p.obs).toEqual({});
      else expect(p.obs).toEqual({ hr: Math.round(s.pr), spo2: Math.round(s.spo2), rr: Math.round(s.rr), temp: Math.round(s.temp * 10) / 10 });
    }
  });

  it('the cuff publishes sbp/dbp/map once per NIBP interval', () => {
    const d = device('json-v1-nibp', 'stable', 7);
    const chunks = [...d.generate(0, 3600)].filter((c) => c.kind === 'data');
    expect(chunks.map((c) => c.t)).toEqual(Array.from({ length: 12 }, (_, i) => 30 + 300 * i));
    for (const c of chunks) {
      if (c.kind !== 'data') continue;
      const p = JSON.parse(c.bytes.toString('utf8')) as { obs: Record<string, number> };
      const s = d.patient.sample(c.t);
      expect(p.obs).toEqual({ sbp: Math.round(s.sbp), dbp: Math.round(s.dbp), map: Math.round(s.map) });
    }
  });

  it('garbage: some payloads are not valid readings, most still are', () => {
    const d = device('json-v1', 'garbage', 8);
    let valid = 0;
    let invalid = 0;
    for (const c of d.generate(0, 3600)) {
      if (c.kind !== 'data') continue;
      try {
        const p = JSON.parse(c.bytes.toString('utf8')) as { obs?: Record<string, unknown> };
        if (p.obs && Object.values(p.obs).every((v) => typeof v === 'number')) valid++;
        else invalid++;
      } catch {
        invalid++;
      }
    }
    expect(valid).toBeGreaterThan(invalid * 2);
    expect(invalid).toBeGreaterThan(50);
  });
});

describe('serial garbage', () => {
  it('masimo: corrupted lines are interleaved with valid ones', () => {
    const all = lines(bytesOf('masimo-radical7', 'garbage', 9, 0, 1800));
    const valid = all.filter((l) => MASIMO_LINE.test(l)).length;
    expect(valid).toBeGreaterThan(1800 * 0.6);
    expect(all.length - valid).toBeGreaterThan(100);
  });
});
