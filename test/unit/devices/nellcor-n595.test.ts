import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeN595Line, nellcorN595Profile } from '../../../devices/nellcor-n595/index.js';
import { findProfile } from '../../../devices/registry.js';
import { fixtureSuite } from './fixture-suite.js';
import { asciiGarbageSuite } from './ascii-garbage.js';
import { loadCases } from './harness.js';

const cases = loadCases(new URL('../../../devices/nellcor-n595/fixtures/cases.json', import.meta.url), 'ascii');

fixtureSuite(nellcorN595Profile, cases, 512);
asciiGarbageSuite(nellcorN595Profile, cases, 512);

const line = (codes: string) => Buffer.from(`02-Mar-26 08:00:01    97    72    45  ${codes}`);

describe('nellcor-n595-n560 profile', () => {
  it('declares the factory line settings 9600 8N1 and answers to its former name', () => {
    expect(nellcorN595Profile.serial).toEqual({ baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 });
    expect(nellcorN595Profile.name).toBe('nellcor-n595-n560');
    expect(findProfile('nellcor-n595')).toBe(nellcorN595Profile);
  });

  it('decodes the real N-560 capture (konz/cosmopusher) without one rejection: 76 data lines, 9 header lines', () => {
    const text = readFileSync(new URL('../../../devices/nellcor-n595/fixtures/cosmopusher-n560.txt', import.meta.url), 'latin1');
    const lines = text.split('\n').filter((l) => l.length > 0);
    const decoded = lines.map((l) => decodeN595Line(Buffer.from(l, 'latin1')));
    const data = decoded.filter((d) => d.deviceTs !== undefined);
    expect(data).toHaveLength(76);
    expect(decoded.length - data.length).toBe(9);
    // The desaturation episode: 16 starred lines, each a reading.
    const starred = lines.filter((l) => /\d\*/.test(l));
    expect(starred).toHaveLength(16);
    expect(data.filter((d) => d.readings.some((r) => r.metric === 'spo2' && r.value < 90))).toHaveLength(16);
    // Pulse search with 0 0 stores nothing.
    expect(data.flatMap((d) => d.readings).some((r) => r.value === 0)).toBe(false);
  });

  it.each([
    ['SD', 'sensor_off'],
    ['SO', 'sensor_off'],
    ['MO', 'sensor_poor'],
    ['PS', 'sensor_poor'],
    ['LM', 'pulse_lost'],
    ['LP', 'pulse_lost'],
  ])('maps status code %s to %s', (code, kind) => {
    expect(decodeN595Line(line(code)).events[0]).toMatchObject({ kind, detail: expect.stringMatching(new RegExp(`^${code} `)) });
  });

  it.each(['AO', 'AS', 'SL', 'SH', 'PL', 'PH'])('ignores informational code %s', (code) => {
    expect(decodeN595Line(line(code)).events).toEqual([{ kind: 'sensor_ok' }, { kind: 'battery_ok' }]);
  });

  it.each(['PS', 'LP', 'LM', 'LP MO'])('reads a 0 as no reading while the monitor has found no pulse (%s); a value it shows is kept', (codes) => {
    const zeros = decodeN595Line(Buffer.from(`02-Mar-26 08:00:01     0     0   ---  ${codes}`));
    expect(zeros.readings).toEqual([]);
    const shown = decodeN595Line(Buffer.from(`02-Mar-26 08:00:01    91     0   ---  ${codes}`));
    expect(shown.readings).toEqual([{ metric: 'spo2', value: 91 }]);
  });

  it.each(['SO', 'SD', 'SO LP'])('marks what the monitor shows with its sensor off (%s) invalid, zeros included', (codes) => {
    expect(decodeN595Line(Buffer.from(`02-Mar-26 08:00:01    95    70   ---  ${codes}`)).readings).toEqual([
      { metric: 'spo2', value: 95, quality: 'invalid' },
      { metric: 'pr', value: 70, quality: 'invalid' },
    ]);
    const zeros = decodeN595Line(Buffer.from(`02-Mar-26 08:00:01     0     0   ---  ${codes}`)).readings;
    expect(zeros.every((r) => r.quality === 'invalid')).toBe(true);
  });

  it('stores the values of a line with no sensor code, or with motion alone, as good', () => {
    expect(decodeN595Line(line('')).readings).toEqual([{ metric: 'spo2', value: 97 }, { metric: 'pr', value: 72 }]);
    expect(decodeN595Line(line('MO')).readings).toEqual([{ metric: 'spo2', value: 97 }, { metric: 'pr', value: 72 }]);
  });

  it('puts the unknown-code note on pulse_lost when LP is the only sensor code', () => {
    expect(decodeN595Line(line('LP QQ')).events).toEqual([
      { kind: 'pulse_lost', detail: 'LP loss of pulse; unknown status code QQ' },
      { kind: 'battery_ok' },
    ]);
  });

  it('names several unknown codes in the sensor detail', () => {
    expect(decodeN595Line(line('MO QQ XY')).events[0]).toEqual({
      kind: 'sensor_poor',
      detail: 'MO interference (motion); unknown status codes QQ XY',
    });
  });

  it.each(['Jan', 'FEB', 'mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'])('reads month %s', (month) => {
    const decoded = decodeN595Line(Buffer.from(`01-${month}-26 00:00:00    97    72    45`));
    const expected = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'].indexOf(month.toLowerCase());
    expect(new Date(decoded.deviceTs ?? 0).getUTCMonth()).toBe(expected);
  });

  it('decodes a line passed with its CR LF the same as without', () => {
    const text = '02-Mar-26 08:00:05    93   128    30  PS MO';
    expect(decodeN595Line(Buffer.from(`${text}\r\n`))).toEqual(decodeN595Line(Buffer.from(text)));
  });
});
