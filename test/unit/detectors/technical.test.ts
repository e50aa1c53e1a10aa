import { describe, expect, it } from 'vitest';
import { Pipeline } from '../../../src/alarms/pipeline.js';
import { alarmsOf, at, defaultDetectorConfig, obs, run, series, tech, tick, transitions } from './helpers.js';

describe('technical alarms and sensor gating', () => {
  it('sensor off during a desaturation: a technical alarm, no physiological one', () => {
    const p = new Pipeline(defaultDetectorConfig());
    const out = run([
      ...series(0, 'spo2', 96, 5),
      ...series(5, 'spo2', 82, 5), // the probe slipping reads low for 5 s
      tech(10, 'sensor_off'),
      ...series(10, 'spo2', 0, 50, { quality: 'invalid' }),
      ...series(0, 'hr', 72, 60, { device: 'ecg1' }), // other sensor keeps going
      tick(80),
    ], {}, p);
    const alarms = alarmsOf(out);
    expect(alarms.filter((a) => a.kind !== 'technical')).toEqual([]);
    // [IEC 60601-1-8] the sensor-off alarm after its 10 s condition delay; the limit delay that ran
    // out at 20 s meanwhile waits for good data, which does not come
    expect(transitions(out)).toEqual([[20, 'P1:technical:ox1:sensor_off:1', 'raised']]);
    expect(alarms[0]).toMatchObject({ priority: 'medium', deviceId: 'ox1', reason: 'sensor off on ox1 for 10 s' });
    // the doubtful SpO2 is forgotten for NEWS2 rather than scored
    expect(p.news2Of('P1')?.missing).toEqual(['rr', 'spo2', 'o2', 'sbp', 'acvpu', 'temp']);
    expect(p.news2Of('P1')?.parts).toEqual({ pulse: { value: 72, points: 0 } });
  });

  it('an alarm already raised from a sensor that stays off is held while the technical alarm shows', () => {
    const p = new Pipeline(defaultDetectorConfig());
    const out = run([...series(0, 'spo2', 88, 30), tech(30, 'sensor_off'), tick(55)], {}, p);
    expect(transitions(out, (a) => a.kind !== 'news2')).toEqual([
      [15, 'P1:limit:spo2:low:1', 'raised'],
      [40, 'P1:technical:ox1:sensor_off:1', 'raised'],
    ]);
    const held = p.activeAlarms().find((a) => a.id === 'P1:limit:spo2:low:1');
    expect(held).toMatchObject({ conditionActive: false, suppressed: 'suppressed: sensor off on ox1 for 10 s' });
  });

  it('a brief poor signal raises nothing; good data alarms as usual', () => {
    const out = run([tech(0, 'sensor_poor'), tech(5, 'sensor_ok'), ...series(6, 'spo2', 84, 30), tick(60)]);
    expect(transitions(out, (a) => a.kind !== 'news2')).toEqual([[21, 'P1:limit:spo2:lowHigh:1', 'raised']]);
  });

  it('a flapping sensor gives one technical alarm', () => {
    // off long enough to alarm, then flapping every 4 s: each return continues the shown alarm
    const flaps = Array.from({ length: 11 }, (_, i) => tech(12 + i * 4, i % 2 === 0 ? 'sensor_ok' : 'sensor_off'));
    const out = run([tech(0, 'sensor_off'), ...flaps, tick(100)]);
    expect(transitions(out)).toEqual([
      [10, 'P1:technical:ox1:sensor_off:1', 'raised'],
      [62, 'P1:technical:ox1:sensor_off:1', 'resolved'], // last sensor_ok at 52, + flap hold
    ]);
  });

  it('signal loss fires in data time when a device stops sending, and resolves when data returns', () => {
    const out = run([
      ...series(0, 'spo2', 97, 10),
      obs(20, 'hr', 70, { patient: 'P2', device: 'other' }),
      tick(45),
      ...series(60, 'spo2', 97, 3),
      tick(90),
    ]);
    expect(transitions(out, (a) => a.patientId === 'P1')).toEqual([
      [39, 'P1:technical:ox1:signal_loss:1', 'raised'],
      [70, 'P1:technical:ox1:signal_loss:1', 'resolved'],
    ]);
    expect(alarmsOf(out)[0]?.reason).toBe('no data from ox1 for 30 s');
  });

  it('low battery from a reading or an event; device offline until data', () => {
    const out = run([
      obs(0, 'battery', 15, { device: 'w1' }),
      obs(10, 'battery', 22, { device: 'w1' }), // not 5 above the limit yet
      obs(20, 'battery', 30, { device: 'w1' }),
      tech(30, 'device_offline', { device: 'bp1' }),
      obs(50, 'sbp', 120, { device: 'bp1' }),
      tick(100),
    ]);
    expect(transitions(out, (a) => a.kind === 'technical')).toEqual([
      [0, 'P1:technical:w1:battery_low:1', 'raised'],
      [30, 'P1:technical:w1:battery_low:1', 'resolved'], // flap hold ends at 30, before the input at 30
      [30, 'P1:technical:bp1:device_offline:1', 'raised'],
      [60, 'P1:technical:bp1:device_offline:1', 'resolved'],
    ]);
    expect(alarmsOf(out)[0]).toMatchObject({ priority: 'low', value: 15 });
  });

  it('an unassigned device raises a technical notice only', () => {
    const p = new Pipeline(defaultDetectorConfig());
    const out = [
      { type: 'tech' as const, event: { ts: at(0), deviceId: 'ox9', kind: 'unassigned_device' as const } },
      ...series(0, 'spo2', 70, 60, { patient: null, device: 'ox9' }),
    ].flatMap((i) => p.push(i));
    expect(alarmsOf(out).map((a) => [a.id, a.kind, a.priority, a.state])).toEqual([['device:ox9:technical:ox9:unassigned_device:1', 'technical', 'low', 'raised']]);
  });
});
