import { describe, expect, it } from 'vitest';
import {
  encodeEntries,
  escapeKey,
  escapeMeasurement,
  quoteString,
  recordToLine,
} from '../../../src/sinks/line-protocol.js';
import type { SpoolRecord } from '../../../src/core/types.js';

const entry = (seq: number, value: unknown) => ({
  seq,
  payload: Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
});

describe('escaping', () => {
  it.each([
    ['plain', 'plain'],
    ['a b', 'a\\ b'],
    ['a,b', 'a\\,b'],
    ['a=b', 'a\\=b'],
    ['Bed 3, ward=A', 'Bed\\ 3\\,\\ ward\\=A'],
    ['line\nbreak', 'line\\ break'],
    ['a\\b', 'a\\\\b'],
    ['ends with \\', 'ends\\ with\\ \\\\'],
    ['P\\,ward=x', 'P\\\\\\,ward\\=x'],
  ])('tag key/value %j → %j', (input, expected) => {
    expect(escapeKey(input)).toBe(expected);
  });

  it.each([
    ['vitals', 'vitals'],
    ['my vitals,x=1', 'my\\ vitals\\,x=1'],
    ['back\\slash', 'back\\\\slash'],
  ])('measurement %j → %j', (input, expected) => {
    expect(escapeMeasurement(input)).toBe(expected);
  });

  it.each([
    ['plain', '"plain"'],
    ['say "hi"', '"say \\"hi\\""'],
    ['C:\\path', '"C:\\\\path"'],
    ['a=b, c', '"a=b, c"'],
    ['two\nlines', '"two lines"'],
    ['ends with \\', '"ends with \\\\"'],
  ])('string field %j → %j', (input, expected) => {
    expect(quoteString(input)).toBe(expected);
  });
});

describe('recordToLine', () => {
  const cases: Array<[string, SpoolRecord, string]> = [
    [
      'assigned observation',
      { t: 'obs', o: { ts: 1700000000123, deviceId: 'ox-1', patientId: 'p-7', ward: 'W3', bed: '12', metric: 'hr', value: 72, unit: '/min', quality: 'good' } },
      'vitals,device=ox-1,patient=p-7,ward=W3,bed=12 hr=72 1700000000123',
    ],
    [
      'unassigned observation has no patient tags',
      { t: 'obs', o: { ts: 5, deviceId: 'ox 2', metric: 'spo2', value: 97.5, unit: '%', quality: 'good' } },
      'vitals,device=ox\\ 2 spo2=97.5 5',
    ],
    [
      'poor quality becomes a tag',
      { t: 'obs', o: { ts: 6, deviceId: 'd', metric: 'temp', value: 36.6, unit: 'Cel', quality: 'poor' } },
      'vitals,device=d,quality=poor temp=36.6 6',
    ],
    [
      'technical event with detail',
      { t: 'tech', e: { ts: 7, deviceId: 'd', patientId: 'p', ward: 'W', bed: 'B 1', kind: 'sensor_off', detail: 'status "SO", port=/dev/ttyS0' } },
      'device_events,device=d,patient=p,ward=W,bed=B\\ 1,kind=sensor_off count=1i,detail="status \\"SO\\", port=/dev/ttyS0" 7',
    ],
    [
      'technical event without detail',
      { t: 'tech', e: { ts: 8, deviceId: 'd', kind: 'battery_low' } },
      'device_events,device=d,kind=battery_low count=1i 8',
    ],
    [
      'alarm with every field',
      { t: 'alarm', a: { ts: 9, id: 'a-1', kind: 'limit', priority: 'high', state: 'acknowledged', patientId: 'p', ward: 'W', bed: '3', metric: 'spo2', deviceId: 'ox', reason: 'SpO2 85 < 88', by: 'nurse\\jo', value: 85 } },
      'alarms,patient=p,ward=W,bed=3,device=ox,kind=limit,priority=high,state=acknowledged,metric=spo2 count=1i,id="a-1",reason="SpO2 85 < 88",by="nurse\\\\jo",value=85 9',
    ],
    [
      'alarm without optional fields',
      { t: 'alarm', a: { ts: 10, id: 'a-2', kind: 'news2', priority: 'medium', state: 'raised', patientId: 'p', reason: 'NEWS2 5' } },
      'alarms,patient=p,kind=news2,priority=medium,state=raised count=1i,id="a-2",reason="NEWS2 5" 10',
    ],
  ];
  it.each(cases)('%s', (_name, record, expected) => {
    expect(recordToLine(record)).toBe(expected);
  });
});

describe('encodeEntries', () => {
  it('keeps good records in order and rejects bad ones with a reason, without throwing', () => {
    const good = { t: 'obs', o: { ts: 1, deviceId: 'd', metric: 'rr', value: 16, unit: '/min', quality: 'good' } };
    const result = encodeEntries([
      entry(1, good),
      entry(2, '{not json'),
      entry(3, { t: 'obs', o: { ...good.o, metric: 'glucose' } }),
      entry(4, { t: 'obs', o: { ...good.o, value: null } }),
      entry(5, { t: 'obs', o: { ...good.o, ts: 1.5 } }),
      entry(6, { t: 'what' }),
      entry(7, { t: 'tech', e: { ts: 1, deviceId: 'd', kind: 'exploded' } }),
      entry(8, { t: 'alarm', a: { ts: 1, kind: 'limit', priority: 'high', state: 'raised', reason: 'x' } }),
      entry(9, { t: 'obs', o: { ...good.o, patientId: 42 } }),
      entry(10, 'null'),
      entry(11, { ...good, o: { ...good.o, ts: 2 } }),
    ]);
    expect(result.items).toEqual([
      { seq: 1, line: 'vitals,device=d rr=16 1' },
      { seq: 11, line: 'vitals,device=d rr=16 2' },
    ]);
    expect(result.rejected.map((r) => [r.seq, r.reason])).toEqual([
      [2, 'malformed JSON'],
      [3, 'obs.metric: unknown metric "glucose"'],
      [4, 'obs.value: not a finite number'],
      [5, 'obs.ts: expected epoch milliseconds as a non-negative integer'],
      [6, 'record.t: unknown record type "what"'],
      [7, 'tech.kind: unknown kind "exploded"'],
      [8, 'alarm.id: expected a non-empty string'],
      [9, 'obs.patientId: expected a string'],
      [10, 'record: expected an object'],
    ]);
    expect(result.rejected[0]?.raw).toBe('{not json');
  });
});

describe('device messages', () => {
  const msg = (extra: object = {}): SpoolRecord => ({ t: 'msg', m: { ts: 1_700_000_000_000, deviceId: 'wb-1', patientId: 'P 1', ward: 'W1', bed: '4', v: { hr: 72, spo2: 97, temp: 36.8 }, ...extra } });

  it('is one point with a field per good value, the same series an observation a line would give', () => {
    expect(recordToLine(msg())).toBe('vitals,device=wb-1,patient=P\\ 1,ward=W1,bed=4 hr=72,spo2=97,temp=36.8 1700000000000');
  });

  it('puts values of another quality on a line of their own, tagged with it', () => {
    expect(recordToLine(msg({ q: { spo2: 'invalid', temp: 'poor' } })).split('\n')).toEqual([
      'vitals,device=wb-1,patient=P\\ 1,ward=W1,bed=4 hr=72 1700000000000',
      'vitals,device=wb-1,patient=P\\ 1,ward=W1,bed=4,quality=invalid spo2=97 1700000000000',
      'vitals,device=wb-1,patient=P\\ 1,ward=W1,bed=4,quality=poor temp=36.8 1700000000000',
    ]);
  });

  it('rejects a message with a bad value, naming it, and one with no values', () => {
    const { items: lines, rejected } = encodeEntries([entry(1, msg({ v: { hr: 'fast' } })), entry(2, msg({ v: {} })), entry(3, msg())]);
    expect(rejected.map((r) => [r.seq, r.reason])).toEqual([[1, 'msg.v.hr: not a finite number'], [2, 'msg.v: no values']]);
    expect(lines.map((l) => l.seq)).toEqual([3]);
  });
});
