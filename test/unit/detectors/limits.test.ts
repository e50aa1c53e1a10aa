import { describe, expect, it } from 'vitest';
import { Pipeline } from '../../../src/alarms/pipeline.js';
import type { PipelineInput, PipelineOutput } from '../../../src/alarms/pipeline.js';
import { ack, alarmsOf as allAlarms, at, defaultDetectorConfig, obs, run, series, settings, tech, tick, transitions as allTransitions } from './helpers.js';
import type { AlarmTransition, PatientSettings } from '../../../src/core/types.js';
import { VirtualClock } from '../../../src/detectors/clock.js';
import type { AlarmCondition, ConditionSink } from '../../../src/detectors/context.js';
import { LimitDetector } from '../../../src/detectors/limits.js';

// NEWS2 band and technical alarms run alongside; these tests look at limit alarms only.
const isLimit = (a: AlarmTransition): boolean => a.kind === 'limit';
const transitions = (out: readonly PipelineOutput[], f: (a: AlarmTransition) => boolean = () => true) =>
  allTransitions(out, (a) => isLimit(a) && f(a));
const alarmsOf = (out: readonly PipelineOutput[]) => allAlarms(out).filter(isLimit);

const LOW = 'P1:limit:spo2:low:1';
const LOW_HIGH = 'P1:limit:spo2:lowHigh:1';

describe('limit alarms (SpO2 defaults: low 90 medium, 85 high, 15 s delay, hysteresis 2, clear delay 10 s)', () => {
  it('a dip shorter than the delay raises nothing', () => {
    const out = run([...series(0, 'spo2', 96, 5), ...series(5, 'spo2', 87, 14), ...series(19, 'spo2', 96, 60)]);
    expect(transitions(out)).toEqual([]);
  });

  it('a dip that lasts exactly the delay raises', () => {
    const out = run([...series(0, 'spo2', 96, 5), ...series(5, 'spo2', 87, 15), ...series(20, 'spo2', 96, 5)]);
    expect(transitions(out)[0]).toEqual([20, LOW, 'raised']);
  });

  it('a sustained breach raises exactly one alarm, at the end of the delay', () => {
    const out = run([...series(0, 'spo2', 96, 5), ...series(5, 'spo2', [88, 87, 89, 86, ...Array(40).fill(87)])]);
    const alarms = alarmsOf(out);
    expect(alarms).toHaveLength(1);
    expect(alarms[0]).toMatchObject({ id: LOW, kind: 'limit', metric: 'spo2', priority: 'medium', state: 'raised', value: 86, patientId: 'P1', deviceId: 'ox1' });
    expect(alarms[0]!.ts - at(0)).toBe(20_000);
    expect(alarms[0]!.reason).toBe('SpO2 below 90 % for 15 s (lowest 86)');
  });

  it('a value oscillating around the limit raises one alarm, not many, and clears once', () => {
    const wobble = Array.from({ length: 120 }, (_, i) => (i % 2 === 0 ? 89 : 91));
    const out = run([...series(0, 'spo2', 96, 5), ...series(5, 'spo2', wobble), ...series(125, 'spo2', 96, 60)]);
    // recovered at 125, clear delay 10 s → condition ends at 135, flap hold 10 s → resolved at 145
    expect(transitions(out)).toEqual([
      [20, LOW, 'raised'],
      [145, LOW, 'resolved'],
    ]);
  });

  it('clearing respects hysteresis: values between the limit and limit + 2 keep the alarm', () => {
    const out = run([...series(0, 'spo2', 85.5, 20), ...series(20, 'spo2', 91, 120)]);
    expect(transitions(out)).toEqual([[15, LOW, 'raised']]);
    const more = run([...series(0, 'spo2', 85.5, 20), ...series(20, 'spo2', 92, 30)]);
    expect(transitions(more)).toEqual([
      [15, LOW, 'raised'],
      [40, LOW, 'resolved'], // 92 recovers at 20; +10 s clear delay; +10 s flap hold
    ]);
  });

  it('clearing respects the clear delay: a relapse during it keeps the alarm and restarts the delay', () => {
    const out = run([
      ...series(0, 'spo2', 86, 20),
      ...series(20, 'spo2', 95, 9), // 20..28 recovered, not long enough
      obs(29, 'spo2', 89), // relapse cancels clearing
      ...series(30, 'spo2', 95, 40), // recovered from 30 → condition clears at 40, resolved at 50
    ]);
    expect(transitions(out)).toEqual([
      [15, LOW, 'raised'],
      [50, LOW, 'resolved'],
    ]);
    expect(alarmsOf(out)[1]!.reason).toBe('SpO2 back at or above 92 % for 10 s');
  });

  it('a high-priority alarm latches until acknowledged', () => {
    const p = new Pipeline(defaultDetectorConfig());
    const out = [...series(0, 'spo2', 96, 5), ...series(5, 'spo2', 80, 20), ...series(25, 'spo2', 97, 60)].flatMap((i) => p.push(i));
    expect(transitions(out, (a) => a.id === LOW_HIGH)).toEqual([
      [20, LOW_HIGH, 'raised'],
      [35, LOW_HIGH, 'cleared'], // recovered at 25 (≥ 87), clear delay 10 s; stays shown
      [80, LOW_HIGH, 'escalated'], // still not acknowledged 60 s after raising
    ]);
    expect(transitions(out, (a) => a.id === LOW)).toEqual([]); // the high-priority alarm covers the side
    expect(p.activeAlarms({ patientId: 'P1' }).filter((a) => a.kind === 'limit').map((a) => [a.id, a.state, a.conditionActive])).toEqual([[LOW_HIGH, 'escalated', false]]);
    const later = [ack(601, LOW_HIGH, 'nurse.kim')].flatMap((i) => p.push(i));
    expect(alarmsOf(later).map((a) => [a.state, a.by])).toEqual([
      ['acknowledged', 'nurse.kim'],
      ['resolved', 'nurse.kim'],
    ]);
    expect(p.activeAlarms().filter((a) => a.kind === 'limit')).toEqual([]);
  });

  it('one alarm per side: the high-priority alarm supersedes the medium one, which returns after it', () => {
    const out = run([...series(0, 'spo2', 88, 20), ...series(20, 'spo2', 80, 20), ...series(40, 'spo2', 88, 45), ...series(85, 'spo2', 95, 30)]);
    expect(transitions(out)).toEqual([
      [15, LOW, 'raised'],
      [35, LOW_HIGH, 'raised'],
      [45, LOW, 'resolved'], // superseded at 35, after the flap hold
      [50, LOW_HIGH, 'cleared'], // ≥ 87 since 40: latched
      [50, 'P1:limit:spo2:low:2', 'raised'], // still below 90
      [95, LOW_HIGH, 'escalated'],
      [105, 'P1:limit:spo2:low:2', 'resolved'],
    ]);
    const reasons = alarmsOf(out).map((a) => a.reason);
    expect(reasons[2]).toBe('superseded by the high-priority alarm (SpO2 below 85 %)');
    expect(reasons[4]).toBe('SpO2 still below 90 % (lowest 80)');
  });

  it('per-patient override: a COPD patient with SpO2 low limit 88 does not alarm at 89', () => {
    const desat = [...series(0, 'spo2', 96, 5), ...series(5, 'spo2', 89, 60)];
    expect(transitions(run(desat))).toEqual([[20, LOW, 'raised']]);
    expect(transitions(run([settings(-1, { limits: { spo2: { low: 88 } } }), ...desat]))).toEqual([]);
    const deeper = [settings(-1, { limits: { spo2: { low: 88 } } }), ...series(0, 'spo2', 87, 30)];
    expect(alarmsOf(run(deeper))[0]?.reason).toBe('SpO2 below 88 % for 15 s (lowest 87)');
  });

  it('patients on NEWS2 SpO2 scale 2 default to a low limit of 88', () => {
    const out = run([settings(-1, { spo2Scale: 2 }), ...series(0, 'spo2', 89, 30), ...series(30, 'spo2', 87, 30)]);
    expect(transitions(out)).toEqual([[45, LOW, 'raised']]);
  });

  it('high limits work the same way (heart rate > 130, 10 s delay)', () => {
    const out = run([...series(0, 'hr', 80, 5), ...series(5, 'hr', 135, 30), ...series(35, 'hr', 100, 30)]);
    expect(transitions(out)).toEqual([
      [15, 'P1:limit:hr:high:1', 'raised'],
      [55, 'P1:limit:hr:high:1', 'resolved'],
    ]);
  });

  it('a single spot value with no delay alarms at once (systolic BP)', () => {
    const out = run([obs(0, 'sbp', 85, { device: 'bp1' })]);
    expect(transitions(out)).toEqual([[0, 'P1:limit:sbp:low:1', 'raised']]);
  });

  it('poor-quality values and unassigned devices drive no alarm', () => {
    expect(transitions(run(series(0, 'spo2', 80, 60, { quality: 'poor' })))).toEqual([]);
    expect(run(series(0, 'spo2', 80, 60, { patient: null }))).toEqual([]);
  });

  it('the delay fires in data time even when the patient sends nothing more', () => {
    const out = run([obs(0, 'spo2', 84), obs(1, 'hr', 70, { patient: 'P2', device: 'x' }), tick(40)]);
    expect(transitions(out)).toEqual([[15, 'P1:limit:spo2:lowHigh:1', 'raised']]);
  });

  it('config changes the limits and the delay', () => {
    const out = run([...series(0, 'spo2', 89, 30)], { limits: { spo2: { low: 88, delaySeconds: 5 } } });
    expect(transitions(out)).toEqual([]);
    const out2 = run([...series(0, 'spo2', 87, 30)], { limits: { spo2: { low: 88, delaySeconds: 5 } } });
    expect(transitions(out2)).toEqual([[5, LOW, 'raised']]);
  });

  it('one rate, one alarm: the pulse rate alarms only while there is no fresh heart rate', () => {
    const both = run([...series(0, 'hr', 135, 30, { device: 'ecg1' }), ...series(0, 'pr', 135, 30)]);
    expect(transitions(both)).toEqual([[10, 'P1:limit:hr:high:1', 'raised']]);
    const prOnly = run(series(0, 'pr', 135, 30));
    expect(transitions(prOnly)).toEqual([[10, 'P1:limit:pr:high:1', 'raised']]);
  });
});

describe('alarm routing', () => {
  it('alarms carry the patient\'s ward and bed, and the snapshot filters by bed', () => {
    const p = new Pipeline(defaultDetectorConfig());
    const withBed = (s: number): PipelineInput => {
      const i = obs(s, 'spo2', 80);
      return i.type === 'obs' ? { type: 'obs', obs: { ...i.obs, ward: 'W3', bed: '12' } } : i;
    };
    const out = run([withBed(0), tech(5, 'battery_low', { device: 'w1' }), ...Array.from({ length: 20 }, (_, k) => withBed(k + 1))], {}, p);
    expect(allAlarms(out).map((a) => [a.id, a.ward, a.bed])).toEqual([
      ['P1:technical:w1:battery_low:1', 'W3', '12'], // the event did not know the bed
      ['P1:limit:spo2:lowHigh:1', 'W3', '12'],
    ]);
    expect(p.activeAlarms({ bed: '12' }).map((a) => a.id)).toEqual(['P1:technical:w1:battery_low:1', 'P1:limit:spo2:lowHigh:1']);
    expect(p.activeAlarms({ bed: '13' })).toEqual([]);
  });
});

describe('limits compare as the decimals they are written as', () => {
  // temperature: low 35.1, hysteresis 0.2, no delays
  const TEMP_LOW = 'P1:limit:temp:low:1';
  const cfg = { alarms: { flapHoldSeconds: 0 } };

  it('a limit whose hysteresis reaches past what the metric can be recovers at its bound: SpO2 low 99, hysteresis 2, back at 100', () => {
    const out = run([settings(0, { limits: { spo2: { low: 99 } } }), ...series(1, 'spo2', 97, 20), ...series(21, 'spo2', 100, 15)], { alarms: { flapHoldSeconds: 0 } });
    expect(transitions(out).map(([, id, state]) => [id, state])).toEqual([
      [LOW, 'raised'],
      [LOW, 'resolved'],
    ]);
    expect(alarmsOf(out).at(-1)!.reason).toBe('SpO2 back at or above 100 % for 10 s');
  });

  it('a value exactly at limit + hysteresis (35.3) has recovered', () => {
    const out = run([obs(0, 'temp', 35.0, { device: 't1' }), obs(60, 'temp', 35.3, { device: 't1' })], cfg);
    expect(transitions(out)).toEqual([
      [0, TEMP_LOW, 'raised'],
      [60, TEMP_LOW, 'resolved'],
    ]);
    expect(alarmsOf(out)[1]!.reason).toBe('Body temperature back at or above 35.3 Cel');
  });

  it('a value exactly at a high limit less hysteresis has recovered (39 − 0.2 = 38.8)', () => {
    const out = run([obs(0, 'temp', 39.5, { device: 't1' }), obs(60, 'temp', 38.8, { device: 't1' })], cfg);
    expect(transitions(out)).toEqual([
      [0, 'P1:limit:temp:high:1', 'raised'],
      [60, 'P1:limit:temp:high:1', 'resolved'],
    ]);
  });

  it('a value equal to a limit reached by arithmetic is no breach', () => {
    // a value converted or scaled by a decoder: 3.51 × 10 is 35.099999999999994 in floating point
    const computed = 3.51 * 10;
    expect(computed).toBeLessThan(35.1);
    expect(transitions(run([obs(0, 'temp', computed, { device: 't1' })], cfg))).toEqual([]);
    expect(transitions(run([obs(0, 'temp', 35.1, { device: 't1' })], cfg))).toEqual([]);
    expect(transitions(run([obs(0, 'temp', 35.09, { device: 't1' })], cfg))).toEqual([[0, TEMP_LOW, 'raised']]);
  });
});

describe('a limit change judges the latest value at once', () => {
  const SBP_LOW = 'P1:limit:sbp:low:1';

  it('a manual SBP inside the old limit but beyond the new one alarms when the limit changes, not at the next reading', () => {
    // SBP delay 0 s; ward low 91: 95 is fine, until the limit becomes 100
    const out = run([obs(0, 'sbp', 95, { device: 'bp1' }), settings(60, { limits: { sbp: { low: 100 } } }), tick(120)]);
    expect(transitions(out)).toEqual([[60, SBP_LOW, 'raised']]);
    expect(alarmsOf(out)[0]).toMatchObject({ reason: 'Systolic BP below 100 mm[Hg] (lowest 95)', value: 95, deviceId: 'bp1' });
  });

  it('the delay starts at the change, as for a new breach (SpO2, 15 s)', () => {
    const out = run([obs(0, 'spo2', 93), settings(10, { limits: { spo2: { low: 94 } } }), tick(24), tick(25), tick(60)]);
    expect(transitions(out)).toEqual([[25, LOW, 'raised']]);
    // a good value back inside the new limit before the delay runs out: a short dip, nothing
    const dip = run([obs(0, 'spo2', 93), settings(10, { limits: { spo2: { low: 94 } } }), obs(20, 'spo2', 97), tick(60)]);
    expect(transitions(dip)).toEqual([]);
  });

  it('a value that is no longer fresh is not judged again (SBP stale after 4 h)', () => {
    const out = run([obs(0, 'sbp', 95, { device: 'bp1' }), settings(4 * 3600, { limits: { sbp: { low: 100 } } }), tick(5 * 3600)]);
    expect(transitions(out)).toEqual([]);
  });

  it('a breach that no longer holds under the new limits ends; the high-priority level is judged too', () => {
    const out = run([obs(0, 'sbp', 85, { device: 'bp1' }), settings(60, { limits: { sbp: { low: 80 } } })], { alarms: { flapHoldSeconds: 0 } });
    expect(transitions(out)).toEqual([
      [0, SBP_LOW, 'raised'],
      [60, SBP_LOW, 'resolved'],
    ]);
    const severe = run([obs(0, 'sbp', 85, { device: 'bp1' }), settings(60, { limits: { sbp: { lowHigh: 88 } } })], { alarms: { flapHoldSeconds: 0 } });
    expect(transitions(severe)).toEqual([
      [0, SBP_LOW, 'raised'],
      [60, 'P1:limit:sbp:lowHigh:1', 'raised'],
      [60, SBP_LOW, 'resolved'], // superseded by the high-priority alarm
    ]);
  });

  it('values from a sensor whose technical alarm is up, and a discharged patient\'s values, are not judged again', () => {
    const off = run([obs(0, 'spo2', 93), tech(1, 'sensor_off'), tick(20), settings(30, { limits: { spo2: { low: 95 } } }), tick(120)]);
    expect(transitions(off)).toEqual([]);
    const gone = run([obs(0, 'sbp', 95, { device: 'bp1' }), { type: 'census', ts: at(10), patientId: 'P1' }, settings(20, { limits: { sbp: { low: 100 } } })]);
    expect(transitions(gone)).toEqual([]);
  });

  it('the latest values survive a snapshot and restore', () => {
    const cfg = defaultDetectorConfig();
    const before = new Pipeline(cfg);
    run([obs(0, 'sbp', 95, { device: 'bp1' })], cfg, before);
    const after = Pipeline.restore(cfg, JSON.parse(JSON.stringify(before.snapshot())));
    expect(transitions(run([settings(60, { limits: { sbp: { low: 100 } } })], cfg, after))).toEqual([[60, SBP_LOW, 'raised']]);
  });
});

describe('an alarm that goes on under a changed limit', () => {
  /** A limit detector on its own, its conditions recorded as `[s, call, condition name, reason]`. */
  function detector() {
    const calls: Array<[number, string, string, string]> = [];
    const shown = new Set<string>();
    const sink: ConditionSink = {
      raise: (c: AlarmCondition, ts, reason) => (shown.add(c.name), calls.push([(ts - at(0)) / 1000, 'raise', c.name, reason])),
      clear: (c: AlarmCondition, ts, reason) => (shown.delete(c.name), calls.push([(ts - at(0)) / 1000, 'clear', c.name, reason])),
      suppress: () => undefined,
      restate: (c: AlarmCondition, ts, reason) => calls.push([(ts - at(0)) / 1000, 'restate', c.name, reason]),
      isShown: (c: AlarmCondition) => shown.has(c.name),
    };
    let settingsNow: PatientSettings = {};
    const clock = new VirtualClock((key, t) => d.due(key, t));
    const d: LimitDetector = new LimitDetector({ config: defaultDetectorConfig(), clock, alarms: sink, settings: () => settingsNow, placement: (id) => ({ patientId: id }), sensorFlagged: () => false });
    const value = (s: number, metric: 'spo2' | 'hr', v: number) => {
      clock.advanceTo(at(s));
      d.onValue({ ts: at(s), patientId: 'P1', deviceId: 'ox1', metric, value: v, unit: '%', quality: 'good' }, at(s));
    };
    const change = (s: number, st: PatientSettings) => {
      clock.advanceTo(at(s));
      settingsNow = st;
      d.limitsChanged('P1', at(s));
    };
    return { calls, value, change };
  }

  it('says the new limit: "SpO2 below 89 %", not the old 90', () => {
    const { calls, value, change } = detector();
    for (let s = 0; s <= 20; s++) value(s, 'spo2', 88);
    change(30, { limits: { spo2: { low: 89 } } });
    change(40, { limits: { spo2: { low: 89 } } }); // unchanged: nothing to say
    change(50, { limits: { spo2: { low: 92 } } });
    expect(calls).toEqual([
      [15, 'raise', 'limit:spo2:low', 'SpO2 below 90 % for 15 s (lowest 88)'],
      [30, 'restate', 'limit:spo2:low', 'SpO2 below 89 % (limit changed from 90; lowest 88)'],
      [50, 'restate', 'limit:spo2:low', 'SpO2 below 92 % (limit changed from 89; lowest 88)'],
    ]);
  });

  it('an alarm clearing by the old limit but beyond the new one is an alarm again', () => {
    // SpO2 93 has recovered from low 90 (hysteresis 2): clearing for 10 s; the limit becomes 95
    const out = run([...series(0, 'spo2', 87, 20), obs(20, 'spo2', 93), settings(22, { limits: { spo2: { low: 95 } } }), tick(60)]);
    // restated under the new limit: the same alarm, in the same state, no second annunciation
    expect(transitions(out)).toEqual([[15, LOW, 'raised'], [22, LOW, 'raised']]);
  });
});
