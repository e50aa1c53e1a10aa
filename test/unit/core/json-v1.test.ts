import { describe, expect, it } from 'vitest';
import { jsonV1Profile } from '../../../devices/json-v1/index.js';
import { DecodeError } from '../../../src/core/errors.js';

const ctx = { deviceId: 'wb-01', receivedAt: Date.UTC(2026, 2, 2, 8, 0, 0) };
const decode = (text: string) => jsonV1Profile.decode(Buffer.from(text), ctx);

describe('json-v1 profile', () => {
  it.each([
    ['vitals', '{"obs":{"hr":72,"spo2":97,"rr":14,"temp":36.8}}', [['hr', 72], ['spo2', 97], ['rr', 14], ['temp', 36.8]], []],
    ['battery and sensor state', '{"obs":{"hr":60},"battery":55,"sensor":"ok"}', [['hr', 60], ['battery', 55]], ['sensor_ok']],
    ['ACVPU as a letter', '{"obs":{"acvpu":"V"}}', [['acvpu', 2]], []],
    ['state only', '{"sensor":"off"}', [], ['sensor_off']],
  ])('%s', (_name, text, readings, events) => {
    const d = decode(text);
    expect(d.readings.map((r) => [r.metric, r.value])).toEqual(readings);
    expect(d.events.map((e) => e.kind)).toEqual(events);
  });

  it('marks values taken while the sensor is off or poor, but not the battery', () => {
    const off = decode('{"obs":{"spo2":80},"battery":40,"sensor":"off"}');
    expect(off.readings).toEqual([{ metric: 'spo2', value: 80, quality: 'invalid' }, { metric: 'battery', value: 40 }]);
    const poor = decode('{"obs":{"spo2":80},"sensor":"poor"}');
    expect(poor.readings[0]?.quality).toBe('poor');
  });

  it('reads ts as epoch ms or ISO 8601 with a zone', () => {
    expect(decode('{"ts":1772438401000,"obs":{"hr":1}}').deviceTs).toBe(1772438401000);
    expect(decode('{"ts":"2026-03-02T08:00:01Z","obs":{"hr":1}}').deviceTs).toBe(Date.UTC(2026, 2, 2, 8, 0, 1));
    expect(decode('{"ts":"2026-03-02T09:00:01+01:00","obs":{"hr":1}}').deviceTs).toBe(Date.UTC(2026, 2, 2, 8, 0, 1));
    expect(decode('{"obs":{"hr":1}}').deviceTs).toBeUndefined();
  });

  it('reads a null value as no reading: the frame\'s other values stand', () => {
    expect(decode('{"obs":{"hr":72,"spo2":null},"sensor":"ok"}').readings).toEqual([{ metric: 'hr', value: 72 }]);
  });

  it.each([
    ['not JSON', '{"obs":', 'malformed_json'],
    ['an array', '[1,2]', 'malformed_json'],
    ['obs not an object', '{"obs":[72]}', 'malformed_json'],
    ['unknown metric', '{"obs":{"glucose":5}}', 'unknown_metric'],
    ['unknown key', '{"obs":{"hr":5},"extra":1}', 'unknown_key'],
    ['string value', '{"obs":{"hr":"72"}}', 'bad_value'],
    ['only null values (no reading at all)', '{"obs":{"hr":null}}', 'empty'],
    ['a null value of an unknown metric', '{"obs":{"hr":70,"glucose":null}}', 'unknown_metric'],
    ['bad ACVPU', '{"obs":{"acvpu":"X"}}', 'bad_value'],
    ['bad sensor state', '{"obs":{"hr":1},"sensor":"meh"}', 'bad_value'],
    ['seconds instead of ms', '{"ts":1772438401,"obs":{"hr":1}}', 'bad_timestamp'],
    ['ISO without zone', '{"ts":"2026-03-02T08:00:01","obs":{"hr":1}}', 'bad_timestamp'],
    ['an impossible date (not rolled over to 2 March)', '{"ts":"2026-02-30T10:00:00Z","obs":{"hr":1}}', 'bad_timestamp'],
    ['an ISO year out of range', '{"ts":"0001-01-01T00:00:00Z","obs":{"hr":1}}', 'bad_timestamp'],
    ['epoch ms out of range', '{"ts":4102444800000,"obs":{"hr":1}}', 'bad_timestamp'],
    ['nothing in it', '{}', 'empty'],
  ])('refuses %s with reason %s', (_name, text, reason) => {
    let err: unknown;
    try {
      decode(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DecodeError);
    expect((err as DecodeError).reason).toBe(reason);
  });
});
