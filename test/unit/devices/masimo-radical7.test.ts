import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../../src/core/errors.js';
import { decodeRadical7Line, MASIMO_EXC_BITS, masimoRadical7Profile } from '../../../devices/masimo-radical7/index.js';
import { findProfile } from '../../../devices/registry.js';
import { fixtureSuite } from './fixture-suite.js';
import { asciiGarbageSuite } from './ascii-garbage.js';
import { loadCases } from './harness.js';

const cases = loadCases(new URL('../../../devices/masimo-radical7/fixtures/cases.json', import.meta.url), 'ascii');

fixtureSuite(masimoRadical7Profile, cases, 512);
asciiGarbageSuite(masimoRadical7Profile, cases, 512);

const line = (fields: string) => Buffer.from(`03/02/26 08:00:00 SPO2=097% BPM=072 ${fields}`);

describe('masimo-ascii1 profile', () => {
  it('declares the factory line settings 9600 8N1 and answers to its former name', () => {
    expect(masimoRadical7Profile.serial).toEqual({ baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 });
    expect(masimoRadical7Profile.name).toBe('masimo-ascii1');
    expect(findProfile('masimo-radical7')).toBe(masimoRadical7Profile);
    expect(findProfile('masimo-ascii1')).toBe(masimoRadical7Profile);
  });

  it('decodes a line the same with CR LF, LF CR, LF or nothing at its end', () => {
    const text = '02/22/16 22:47:45 SN=0000056661 SPO2=098% BPM=097 PI=03.60% ALARM=0000 EXC=000800';
    const bare = decodeRadical7Line(Buffer.from(text));
    for (const end of ['\r\n', '\n\r', '\n', '\r']) expect(decodeRadical7Line(Buffer.from(`${text}${end}`))).toEqual(bare);
    expect(decodeRadical7Line(Buffer.from(`\r${text}`))).toEqual(bare);
  });

  it.each([
    ['00/10/26 08:00:00', 'month 0'],
    ['13/10/26 08:00:00', 'month 13'],
    ['03/02/26 24:00:00', 'hour 24'],
    ['03/02/26 08:60:00', 'minute 60'],
    ['03/02/26 08:00:60', 'second 60'],
    ['3/2/26 08:00:00', 'one-digit fields'],
  ])('rejects %s (%s) as bad_line', (stamp) => {
    const decode = () => decodeRadical7Line(Buffer.from(`${stamp} SPO2=097% BPM=072`));
    expect(decode).toThrow(DecodeError);
    expect(decode).toThrow(expect.objectContaining({ reason: 'bad_line' }));
  });

  it.each([
    ['---', null],
    ['--.-%', null],
    ['--.--%', null],
    ['100%', 100],
    ['007', 7],
    ['00.55', 0.55],
  ])('reads PI=%s as %s', (raw, value) => {
    expect(decodeRadical7Line(line(`PI=${raw}`)).readings.find((r) => r.metric === 'pi')?.value ?? null).toBe(value);
  });

  it.each(['20', '0010', '000010', '00000010'])('reads ALARM of any width (%s) and reports no battery event but ok', (alarm) => {
    expect(decodeRadical7Line(line(`ALARM=${alarm}`)).events).toEqual([{ kind: 'battery_ok' }]);
  });

  it.each(['40', '0040', '000040'])('low battery 0x40 in ALARM=%s', (alarm) => {
    expect(decodeRadical7Line(line(`ALARM=${alarm}`)).events).toEqual([{ kind: 'battery_low', detail: `ALARM=${alarm}: low battery` }]);
  });

  it.each(MASIMO_EXC_BITS.map((b) => [b.bit, b.class, b.name] as const))('maps EXC bit 0x%s (%s, %s)', (bit, cls, name) => {
    for (const width of [3, 6, 7]) {
      const exc = bit.toString(16).toUpperCase().padStart(width, '0');
      if (exc.length > width) continue;
      const decoded = decodeRadical7Line(line(`EXC=${exc}`));
      const kind = cls === 'off' ? 'sensor_off' : cls === 'poor' ? 'sensor_poor' : 'sensor_ok';
      expect(decoded.events).toEqual([cls === 'info' ? { kind } : { kind, detail: `EXC=${exc}: ${name}` }]);
      // Values on a sensor-off line are kept, marked invalid, so nothing alarms on them.
      expect(decoded.readings.every((r) => (r.quality === 'invalid') === (cls === 'off'))).toBe(true);
    }
  });

  it('reads a SPO2 or BPM of 0 as no reading during pulse search (EXC 0x08), and as a value otherwise', () => {
    const at = (fields: string) => decodeRadical7Line(Buffer.from(`02/22/16 22:47:45 SN=0000056661 ${fields}`)).readings;
    expect(at('SPO2=000% BPM=000 PI=00.00% ALARM=0000 EXC=000808')).toEqual([{ metric: 'pi', value: 0 }]);
    expect(at('SPO2=093% BPM=000 PI=01.20% ALARM=0000 EXC=000808')).toEqual([{ metric: 'spo2', value: 93 }, { metric: 'pi', value: 1.2 }]);
    expect(at('SPO2=000% BPM=000 PI=00.00% ALARM=0000 EXC=000800')).toEqual([{ metric: 'spo2', value: 0 }, { metric: 'pr', value: 0 }, { metric: 'pi', value: 0 }]);
  });

  it('every EXC bit of the mdpnp table is known except the reserved 0x200 and 0x800000', () => {
    const known = MASIMO_EXC_BITS.reduce((m, b) => m | b.bit, 0);
    expect((0xffffff & ~known).toString(16)).toBe('800200');
  });
});
