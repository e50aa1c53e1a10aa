/**
 * The serial simulators emit the real formats: everything they send decodes back exactly, through
 * the profile's own framer and decoder, to the sample it was made from.
 */
import { describe, expect, it } from 'vitest';
import { datexS5Profile, decodeDatexBody } from '../../../devices/datex-s5/index.js';
import { decodeRadical7Line, masimoRadical7Profile } from '../../../devices/masimo-radical7/index.js';
import { decodeN595Line, nellcorN595Profile } from '../../../devices/nellcor-n595/index.js';
import { masimoLine, type MasimoVariant } from '../../../firmware-sim/encoders/masimo-radical7.js';
import { NELLCOR_HEADER, NELLCOR_HEADER_EVERY, nellcorLine } from '../../../firmware-sim/encoders/nellcor-n595.js';
import { createDriHostLink } from '../../../firmware-sim/encoders/datex-host-link.js';
import { DATEX_SIM_LEVEL } from '../../../firmware-sim/encoders/datex-s5.js';
import { driTransferRequests } from '../../../devices/datex-s5/index.js';
import { BATTERY_LOW_PERCENT } from '../../../firmware-sim/encoders/types.js';
import type { VitalSample } from '../../../firmware-sim/physiology.js';
import { run } from '../devices/harness.js';
import { bytesOf, device, splitDatexFrames, sum8 } from './helpers.js';

const SCENARIOS = ['desaturation', 'sensor-off', 'battery-drain', 'artifact-storm', 'brady'];

/** What a sample should decode to on an oximeter line (values rounded as the monitor shows them). */
function oximeterReadings(s: VitalSample, withPi: boolean) {
  if (s.sensor === 'off') return [];
  return [
    { metric: 'spo2', value: Math.round(s.spo2) },
    { metric: 'pr', value: Math.round(s.pr) },
    ...(withPi ? [{ metric: 'pi', value: Number(s.pi.toFixed(2)) }] : []),
  ];
}

describe('masimo ASCII 1 simulator', () => {
  for (const scenario of SCENARIOS) {
    it(`${scenario}: every line decodes back to the sample, sensor state and battery`, () => {
      const d = device('masimo-radical7', scenario, 2);
      const chunks = [...d.generate(0, 1800)].filter((c) => c.kind === 'data');
      expect(chunks.length).toBe(1800);
      const decoded = run(masimoRadical7Profile, chunks.map((c) => (c.kind === 'data' ? c.bytes : Buffer.alloc(0)))).outcomes;
      expect(decoded.length).toBe(1800);
      for (const [i, c] of chunks.entries()) {
        const s = d.patient.sample(c.t);
        const out = decoded[i];
        expect(out && 'decoded' in out, JSON.stringify(out)).toBe(true);
        if (!out || !('decoded' in out)) continue;
        expect(out.decoded.deviceTs).toBe(Math.floor(c.epochMs / 1000) * 1000);
        expect(out.decoded.readings).toEqual(oximeterReadings(s, true));
        const kinds = out.decoded.events.map((e) => e.kind);
        expect(kinds[0]).toBe(s.sensor === 'off' ? 'sensor_off' : s.sensor === 'poor' ? 'sensor_poor' : 'sensor_ok');
        expect(kinds[1]).toBe(s.battery < BATTERY_LOW_PERCENT ? 'battery_low' : 'battery_ok');
      }
    });
  }

  it.each<[MasimoVariant, '\r\n' | '\n\r', RegExp]>([
    ['rad8', '\r\n', /^\d\d\/\d\d\/\d\d \d\d:\d\d:\d\d SN=\d{10} SPO2=\d{3}% BPM=\d{3} PI=\d\d\.\d\d% SPCO=--\.-% SPMET=--\.-% DESAT=-- PIDELTA=\+-- ALARM=[0-9A-F]{4} EXC=[0-9A-F]{6}\r\n$/],
    ['radical5', '\n\r', /^\d\d\/\d\d\/\d\d \d\d:\d\d:\d\d SPO2=\d{3}% BPM=\d{3} PI=\d\d\.\d\d% ALARM=[0-9A-F]{2} EXC=[0-9A-F]{3}\n\r$/],
    ['radical7-newer', '\r\n', / PVI=--- ALARM=[0-9A-F]{6} EXC=[0-9A-F]{7} EXC1=00000000\r\n$/],
  ])('the %s line (%j) has the field widths of its firmware and decodes the same', (variant, lineEnd, shape) => {
    const d = device('masimo-radical7', 'desaturation', 5);
    const lines = Array.from({ length: 300 }, (_, t) => masimoLine(d.patient.sample(t), d.epochMsAt(t), 56661, { variant, lineEnd }));
    expect(lines[0]).toMatch(shape);
    const decoded = run(masimoRadical7Profile, [Buffer.from(lines.join(''), 'latin1')]).outcomes;
    // With LF CR the CR of each line end leads the next line; the last one is still held.
    expect(decoded.length).toBe(300);
    decoded.forEach((o, t) => {
      expect(o).toEqual({ decoded: decodeRadical7Line(Buffer.from(masimoLine(d.patient.sample(t), d.epochMsAt(t), 56661), 'latin1')) });
    });
  });
});

describe('nellcor N-595/N-560 simulator', () => {
  for (const scenario of SCENARIOS) {
    it(`${scenario}: a data line every 2 s, headers before every 25th, all decoding back`, () => {
      const d = device('nellcor-n595', scenario, 3);
      const bytes = bytesOf('nellcor-n595', scenario, 3, 0, 1800);
      const lines = bytes.toString('latin1').split(/(?<=\r\n)/);
      const outcomes = run(nellcorN595Profile, [bytes]).outcomes;
      expect(outcomes.length).toBe(lines.length);
      let data = 0;
      for (const [i, line] of lines.entries()) {
        const out = outcomes[i];
        if (!out || !('decoded' in out)) throw new Error(`line ${i} did not decode: ${JSON.stringify(line)} → ${JSON.stringify(out)}`);
        if (NELLCOR_HEADER.some((h) => line === `${h}\r\n`)) {
          expect(out.decoded).toEqual({ readings: [], events: [] });
          continue;
        }
        const t = data * 2;
        const s = d.patient.sample(t);
        expect(out.decoded.deviceTs).toBe(d.epochMsAt(t));
        expect(out.decoded.readings).toEqual(oximeterReadings(s, false));
        const kinds = out.decoded.events.map((e) => e.kind);
        expect(kinds[0]).toBe(s.sensor === 'off' ? 'sensor_off' : s.sensor === 'poor' ? 'sensor_poor' : 'sensor_ok');
        expect(kinds.at(-1)).toBe(s.battery < BATTERY_LOW_PERCENT ? 'battery_low' : 'battery_ok');
        data++;
      }
      expect(data).toBe(900);
    });
  }

  it('stars a value whose limit alarm is on, in the columns of the real capture', () => {
    const d = device('nellcor-n595', 'desaturation', 3);
    const low = Array.from({ length: 900 }, (_, k) => k * 2).map((t) => d.patient.sample(t)).find((s) => s.sensor === 'ok' && Math.round(s.spo2) < 85 && s.pr >= 50 && s.pr <= 120);
    expect(low).toBeDefined();
    const line = nellcorLine(low!, Date.UTC(2017, 11, 29, 7, 18, 57));
    // 29-Dec-17 07:18:57    89*     66     201    MO SL  (konz/cosmopusher demo_stream.py)
    expect(line).toMatch(/^29-Dec-17 07:18:57 {3,4}\d{2}\* {5,6}\d{2,3} {5,7}\d{1,3} {4}SL/);
    expect(decodeN595Line(Buffer.from(line, 'latin1')).readings[0]).toEqual({ metric: 'spo2', value: Math.round(low!.spo2) });
  });
});

describe('GE/Datex S/5 DRI simulator', () => {
  it('records decode back to the sample: ECG HR and impedance RR, SpO2 and PR, T1, the last NIBP', () => {
    const d = device('datex-s5', 'sensor-off', 4);
    const chunks = [...d.generate(0, 1800)].filter((c) => c.kind === 'data');
    const outcomes = run(datexS5Profile, chunks.map((c) => (c.kind === 'data' ? c.bytes : Buffer.alloc(0)))).outcomes;
    expect(outcomes.length).toBe(chunks.length);
    let escaped = 0;
    for (const [i, c] of chunks.entries()) {
      if (c.kind !== 'data') continue;
      if (c.bytes.includes(0x7d)) escaped++;
      const body = splitDatexFrames(c.bytes)[0]!;
      // 40-byte header, one 278-byte subrecord, checksum: a basic-class displayed-values record.
      expect(body.length).toBe(40 + 278 + 1);
      expect(body[body.length - 1]).toBe(sum8(body.subarray(0, -1)));
      const s = d.patient.sample(c.t);
      const cuffAt = c.t >= 30 ? 30 + Math.floor((c.t - 30) / 300) * 300 : undefined;
      const cuff = cuffAt === undefined ? undefined : d.patient.sample(cuffAt);
      const expected = [
        { metric: 'hr', value: Math.round(s.hr) },
        ...(s.sensor === 'off' ? [] : [{ metric: 'spo2', value: Math.round(s.spo2) }, { metric: 'pr', value: Math.round(s.pr) }]),
        { metric: 'rr', value: Math.round(s.rr) },
        { metric: 'temp', value: Math.round(s.temp * 100) / 100 },
        ...(cuff ? [{ metric: 'sbp', value: Math.round(cuff.sbp) }, { metric: 'dbp', value: Math.round(cuff.dbp) }, { metric: 'map', value: Math.round(cuff.map) }] : []),
      ];
      expect(outcomes[i]).toEqual({ decoded: { deviceTs: Math.floor(c.epochMs / 1000) * 1000, readings: expected, events: [], notes: [] } });
    }
    // Over half an hour the time and checksum bytes hit 0x7D/0x7E, so escaping is exercised for real.
    expect(escaped).toBeGreaterThan(0);
  });

  it('sends nothing until a transfer request of its level, then at the interval asked, until asked to stop', () => {
    const link = createDriHostLink(DATEX_SIM_LEVEL);
    expect([0, 5, 10].map((t) => link.sends(t))).toEqual([false, false, false]);
    // A request at another level is not for this monitor.
    link.receive(driTransferRequests(5, 0, [0x0b])[0]!);
    expect(link.sends(15)).toBe(false);
    // The gateway's requests, split across reads.
    const all = Buffer.concat(driTransferRequests(10));
    link.receive(all.subarray(0, 60));
    link.receive(all.subarray(60));
    expect(link.requests).toBe(1);
    expect([20, 25, 30, 35, 40].map((t) => link.sends(t))).toEqual([true, false, true, false, true]);
    for (const f of driTransferRequests(0)) link.receive(f);
    expect(link.sends(50)).toBe(false);
    expect(link.requests).toBe(2);
  });

  it('garbage: damaged frames fail the checksum or length; most still decode', () => {
    const outcomes = run(datexS5Profile, [bytesOf('datex-s5', 'garbage', 5, 0, 3600)]).outcomes;
    const good = outcomes.filter((o) => 'decoded' in o).length;
    expect(good).toBeGreaterThan(720 * 0.6);
    expect(outcomes.length - good).toBeGreaterThan(20);
    expect(decodeDatexBody).toBeTypeOf('function');
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
    const outcomes = run(masimoRadical7Profile, [bytesOf('masimo-radical7', 'garbage', 9, 0, 1800)]).outcomes;
    const valid = outcomes.filter((o) => 'decoded' in o && o.decoded.readings.length > 0).length;
    expect(valid).toBeGreaterThan(1800 * 0.6);
    expect(outcomes.length - valid).toBeGreaterThan(100);
  });
});
