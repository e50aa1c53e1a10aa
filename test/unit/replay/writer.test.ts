import { describe, expect, it } from 'vitest';
import type { PipelineInput } from '../../../src/alarms/pipeline.js';
import { parseLine } from '../../../src/replay/reader.js';
import { formatInput, inputsFromSpool } from '../../../src/replay/writer.js';
import { obs, settings, tech } from '../detectors/helpers.js';

describe('recording writer', () => {
  const inputs: PipelineInput[] = [
    obs(0, 'spo2', 93.5),
    obs(1, 'acvpu', 3, { device: 'nurse' }),
    obs(2, 'hr', 0, { quality: 'invalid', patient: null, device: 'ecg9' }),
    tech(3, 'sensor_off'),
    { type: 'tech', event: { ts: 4000, deviceId: 'ox1', kind: 'pulse_lost', patientId: 'P1', ward: 'W3', bed: '2', detail: 'LP' } },
    settings(5, { spo2Scale: 2, limits: { spo2: { low: 88 } } }),
    { type: 'ack', alarmId: 'P1:limit:spo2:low:1', by: 'kim', ts: 6000 },
    { type: 'silence', alarmId: 'P1:limit:spo2:low:1', by: 'kim', ts: 7000, seconds: 120 },
    { type: 'assign', ts: 8000, ward: 'W3', by: 'charge.smith', assignment: { charge: 'charge.smith', beds: { '2': { nurse: 'kim', buddy: 'ali' }, '3': { nurse: 'ali' } } } },
    {
      type: 'reading',
      obs: [
        { ts: 9000, rt: 9004, deviceId: 'mon1', metric: 'hr', value: 72, unit: '/min', quality: 'good', patientId: 'P1', ward: 'W3', bed: '2' },
        { ts: 9000, rt: 9004, deviceId: 'mon1', metric: 'spo2', value: 91, unit: '%', quality: 'poor', patientId: 'P1', ward: 'W3', bed: '2' },
        { ts: 9000, rt: 9004, deviceId: 'mon1', metric: 'acvpu', value: 0, unit: '{score}', quality: 'good', patientId: 'P1', ward: 'W3', bed: '2' },
      ],
    },
  ];

  it.each(inputs.map((i) => [i.type, i] as const))('round-trips a %s through the reader', (_t, i) => {
    const line = formatInput(i);
    expect(line).not.toBeNull();
    expect(parseLine(line!, 1)).toEqual(i);
  });

  it('writes ACVPU as letters and leaves ticks out', () => {
    expect(formatInput(obs(0, 'acvpu', 1))).toContain('"value":"C"');
    expect(formatInput({ type: 'tick', ts: 0 })).toBeNull();
  });

  it('writes a reading on one line, its qualities beside its values, and one of a single value as an observation', () => {
    const line = formatInput(inputs.at(-1)!);
    expect(JSON.parse(line!)).toEqual({ ts: '1970-01-01T00:00:09.000Z', patient: 'P1', ward: 'W3', bed: '2', values: { hr: 72, spo2: 91, acvpu: 'A' }, device: 'mon1', quality: { spo2: 'poor' }, rt: '1970-01-01T00:00:09.004Z' });
    const one = obs(0, 'spo2', 97);
    if (one.type !== 'obs') throw new Error('unreachable');
    expect(formatInput({ type: 'reading', obs: [one.obs] })).toBe(formatInput(one));
  });

  it('feeds spool device messages (a reading each), observation and technical records, not alarm records', () => {
    const o = obs(0, 'spo2', 97);
    if (o.type !== 'obs') throw new Error('unreachable');
    expect(inputsFromSpool({ t: 'obs', o: o.obs })).toEqual([o]);
    const m = { ts: o.obs.ts, rt: o.obs.ts + 5, deviceId: 'ox1', patientId: 'P1', v: { spo2: 97, hr: 72 }, q: { hr: 'poor' as const } };
    expect(inputsFromSpool({ t: 'msg', m })).toEqual([
      {
        type: 'reading',
        obs: [
          { ts: m.ts, rt: m.rt, deviceId: 'ox1', metric: 'spo2', value: 97, unit: '%', quality: 'good', patientId: 'P1' },
          { ts: m.ts, rt: m.rt, deviceId: 'ox1', metric: 'hr', value: 72, unit: '/min', quality: 'poor', patientId: 'P1' },
        ],
      },
    ]);
    expect(inputsFromSpool({ t: 'alarm', a: { ts: 0, id: 'x', kind: 'limit', priority: 'low', state: 'raised', reason: 'r' } })).toEqual([]);
  });
});
