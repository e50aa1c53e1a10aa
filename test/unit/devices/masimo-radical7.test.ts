import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../../src/core/errors.js';
import { decodeRadical7Line, masimoRadical7Profile } from '../../../devices/masimo-radical7/index.js';
import { fixtureSuite } from './fixture-suite.js';
import { asciiGarbageSuite } from './ascii-garbage.js';
import { loadCases } from './harness.js';

const cases = loadCases(new URL('../../../devices/masimo-radical7/fixtures/cases.json', import.meta.url), 'ascii');

fixtureSuite(masimoRadical7Profile, cases, 512);
asciiGarbageSuite(masimoRadical7Profile, cases, 512);

describe('masimo-radical7 profile', () => {
  it('declares the factory line settings 9600 8N1', () => {
    expect(masimoRadical7Profile.serial).toEqual({ baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 });
    expect(masimoRadical7Profile.transport).toBe('serial');
    expect(masimoRadical7Profile.name).toBe('masimo-radical7');
  });

  it('decodes a line passed with its CR LF the same as without', () => {
    const line = '03/02/26 08:00:01 SPO2=097% BPM=072 PI=02.10% ALARM=0000 EXC=000000';
    expect(decodeRadical7Line(Buffer.from(`${line}\r\n`))).toEqual(decodeRadical7Line(Buffer.from(line)));
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
    ['.', null],
    ['100%', 100],
    ['007', 7],
    ['2.50%', 2.5],
  ])('reads PI=%s as %s', (raw, value) => {
    const decoded = decodeRadical7Line(Buffer.from(`03/02/26 08:00:00 SPO2=097% BPM=072 PI=${raw}`));
    expect(decoded.readings.find((r) => r.metric === 'pi')?.value ?? null).toBe(value);
  });

  it.each([
    [0x000001, 'sensor_off', 'no sensor'],
    [0x000002, 'sensor_off', 'defective sensor'],
    [0x000004, 'sensor_poor', 'low perfusion'],
    [0x000008, 'sensor_poor', 'pulse search'],
    [0x000010, 'sensor_poor', 'interference'],
    [0x000020, 'sensor_off', 'sensor off patient'],
    [0x000040, 'sensor_poor', 'ambient light'],
    [0x000080, 'sensor_off', 'unrecognised sensor'],
    [0x000200, 'sensor_poor', 'low signal IQ'],
  ])('maps EXC bit 0x%s to %s', (bit, kind, name) => {
    const exc = bit.toString(16).padStart(6, '0');
    const decoded = decodeRadical7Line(Buffer.from(`03/02/26 08:00:00 SPO2=097% BPM=072 EXC=${exc}`));
    expect(decoded.events).toEqual([{ kind, detail: `EXC=${exc}: ${name}` }]);
  });

  it('reports battery_ok once the low-battery bit clears, ignoring the limit-alarm bits', () => {
    const events = (alarm: string) => decodeRadical7Line(Buffer.from(`03/02/26 08:00:00 SPO2=097% BPM=072 ALARM=${alarm}`)).events;
    expect(events('0010')).toEqual([{ kind: 'battery_low', detail: 'ALARM=0010 low battery' }]);
    expect(events('0003')).toEqual([{ kind: 'battery_ok' }]);
    expect(events('0000')).toEqual([{ kind: 'battery_ok' }]);
  });
});
