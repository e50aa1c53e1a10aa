/**
 * Sensor conditions and what they do to physiological alarms: a condition delay before the
 * technical alarm, brief flags that change nothing, suppression only once the technical alarm is
 * up, resumption without a second annunciation, and signal loss only for a silent device.
 */
import { describe, expect, it } from 'vitest';
import { Pipeline, type PipelineInput } from '../../../src/alarms/pipeline.js';
import { alarmsOf, defaultDetectorConfig, obs, run, series, tech, tick, transitions } from './helpers.js';

/** A wearable payload every 5 s from `from` to `to` (exclusive): HR, SpO2, battery and sensor state. */
function wearable(from: number, to: number, v: { hr: number; spo2: number }, sensor: 'ok' | 'poor' | 'off' = 'ok'): PipelineInput[] {
  const out: PipelineInput[] = [];
  const quality = sensor === 'ok' ? 'good' : sensor === 'poor' ? 'poor' : 'invalid';
  for (let s = from; s < to; s += 5) {
    if (sensor !== 'off') out.push(obs(s, 'hr', v.hr, { quality }), obs(s, 'spo2', v.spo2, { quality }));
    out.push(obs(s, 'battery', 80), tech(s, sensor === 'ok' ? 'sensor_ok' : sensor === 'off' ? 'sensor_off' : 'sensor_poor'));
  }
  return out;
}

const technical = (out: ReturnType<typeof run>) => transitions(out, (a) => a.kind === 'technical' && a.state !== 'escalated');
const physiological = (out: ReturnType<typeof run>) => transitions(out, (a) => a.kind !== 'technical');

describe('sensor condition delay [IEC 60601-1-8]', () => {
  it('poor signal shorter than 30 s raises nothing; held 30 s it raises one low-priority alarm', () => {
    const brief = run([...wearable(0, 60, { hr: 72, spo2: 97 }), ...wearable(60, 85, { hr: 72, spo2: 80 }, 'poor'), ...wearable(85, 200, { hr: 72, spo2: 97 })]);
    expect(technical(brief)).toEqual([]);
    const held = run([...wearable(0, 60, { hr: 72, spo2: 97 }), ...wearable(60, 100, { hr: 72, spo2: 80 }, 'poor'), ...wearable(100, 200, { hr: 72, spo2: 97 })]);
    expect(technical(held)).toEqual([
      [90, 'P1:technical:ox1:sensor_poor:1', 'raised'],
      [110, 'P1:technical:ox1:sensor_poor:1', 'resolved'], // good again at 100, + flap hold
    ]);
    expect(alarmsOf(held)[0]).toMatchObject({ priority: 'low', reason: 'poor signal on ox1 for 30 s' });
    expect(physiological(held)).toEqual([]);
  });

  it('a battery reading in a poor payload is not a good signal: the delay runs through it', () => {
    const out = run([...wearable(0, 40, { hr: 72, spo2: 97 }, 'poor'), tick(40)]);
    expect(technical(out)).toEqual([[30, 'P1:technical:ox1:sensor_poor:1', 'raised']]);
  });

  it('the delays are configurable; 0 alarms at once', () => {
    const cfg = { technical: { sensorPoorDelaySeconds: 0, sensorOffDelaySeconds: 3 } };
    const out = run([tech(0, 'sensor_poor'), tech(2, 'sensor_ok'), tech(10, 'sensor_off'), tick(20)], cfg);
    expect(technical(out)).toEqual([
      [0, 'P1:technical:ox1:sensor_poor:1', 'raised'],
      [12, 'P1:technical:ox1:sensor_poor:1', 'resolved'],
      [13, 'P1:technical:ox1:sensor_off:1', 'raised'],
    ]);
  });
});

describe('brief flags do not restart physiological alarms', () => {
  it('a sustained limit breach with brief poor-signal flags gives exactly one alarm', () => {
    // HR 37 under the 40/min high-priority limit; a flagged dip every minute, 5 s each
    const inputs: PipelineInput[] = [];
    for (let m = 0; m < 10; m++) inputs.push(...wearable(m * 60, m * 60 + 55, { hr: 37, spo2: 96 }), ...wearable(m * 60 + 55, m * 60 + 60, { hr: 37, spo2: 80 }, 'poor'));
    const p = new Pipeline(defaultDetectorConfig());
    const out = run([...inputs, tick(600)], {}, p);
    expect(transitions(out, (a) => a.kind === 'limit' && a.state === 'raised')).toEqual([[10, 'P1:limit:hr:lowHigh:1', 'raised']]);
    expect(technical(out)).toEqual([]);
    // nor are NEWS2 inputs dropped: the pulse keeps scoring 3 through every flag
    const scores = out.filter((o) => o.type === 'news2').map((o) => (o.type === 'news2' ? o.parts.pulse?.points : undefined));
    expect(scores.every((x) => x === 3)).toBe(true);
  });

  it('a poor value moves no state: it neither starts nor ends a breach', () => {
    const out = run([...series(0, 'spo2', 80, 20, { quality: 'poor' }), ...series(20, 'spo2', 87, 10), ...series(30, 'spo2', 97, 20, { quality: 'poor' }), tick(50)]);
    // the breach starts at 20 with the first good value; poor 97s do not recover it
    expect(physiological(out).filter(([, id]) => id.includes('limit'))).toEqual([[35, 'P1:limit:spo2:low:1', 'raised']]);
  });

  it('a delay that runs out while the sensor is flagged waits for good data, then raises or drops', () => {
    const still = run([...series(0, 'spo2', 86, 12), tech(12, 'sensor_poor'), ...series(12, 'spo2', 70, 8, { quality: 'poor' }), obs(20, 'spo2', 86), tick(30)]);
    expect(transitions(still, (a) => a.kind === 'limit')).toEqual([[20, 'P1:limit:spo2:low:1', 'raised']]);
    const recovered = run([...series(0, 'spo2', 86, 12), tech(12, 'sensor_poor'), ...series(12, 'spo2', 70, 8, { quality: 'poor' }), obs(20, 'spo2', 96), tick(30)]);
    expect(transitions(recovered, (a) => a.kind === 'limit')).toEqual([]);
  });
});

describe('suppression once the technical alarm is up', () => {
  it('the held limit alarm continues when the sensor recovers and the breach persists: one annunciation', () => {
    const p = new Pipeline(defaultDetectorConfig());
    const out = run([...wearable(0, 60, { hr: 72, spo2: 87 }), ...wearable(60, 120, { hr: 72, spo2: 87 }, 'off'), ...wearable(120, 180, { hr: 72, spo2: 87 }), tick(200)], {}, p);
    expect(transitions(out, (a) => a.kind !== 'news2' && a.state !== 'escalated')).toEqual([
      [15, 'P1:limit:spo2:low:1', 'raised'],
      [70, 'P1:technical:ox1:sensor_off:1', 'raised'],
      [130, 'P1:technical:ox1:sensor_off:1', 'resolved'],
    ]);
    expect(p.activeAlarms().filter((a) => a.kind === 'limit').map((a) => [a.id, a.conditionActive, a.suppressed])).toEqual([['P1:limit:spo2:low:1', true, undefined]]);
    // NEWS2 (SpO2 87 scores 3) loses the SpO2 while suppressed; its clear delay holds the alarm
    expect(transitions(out, (a) => a.kind === 'news2' && a.state !== 'escalated')).toEqual([[60, 'P1:news2:low-medium:1', 'raised']]);
  });

  it('a latched high-priority alarm is not re-annunciated after the sensor gap', () => {
    const out = run([...wearable(0, 60, { hr: 72, spo2: 80 }), ...wearable(60, 120, { hr: 72, spo2: 80 }, 'off'), ...wearable(120, 180, { hr: 72, spo2: 80 }), tick(200)]);
    expect(transitions(out, (a) => a.kind === 'limit' && a.state !== 'escalated')).toEqual([[15, 'P1:limit:spo2:lowHigh:1', 'raised']]);
  });

  it('the sensor recovers with the value back to normal: the held alarm clears the usual way', () => {
    const out = run([...wearable(0, 60, { hr: 72, spo2: 87 }), ...wearable(60, 120, { hr: 72, spo2: 87 }, 'off'), ...wearable(120, 180, { hr: 72, spo2: 97 }), tick(200)]);
    const limit = alarmsOf(out).filter((a) => a.kind === 'limit');
    expect(limit.map((a) => [a.state, a.ts])).toEqual([
      ['raised', alarmsOf(out)[0]!.ts],
      ['resolved', limit[0]!.ts + 125_000], // good at 120, clear delay 10 s, flap hold 10 s
    ]);
    expect(limit[1]!.reason).toBe('SpO2 back at or above 92 % for 10 s');
  });

  it('no good value after the sensor recovers: the held alarm ends after the signal-loss time', () => {
    const out = run([...series(0, 'spo2', 87, 30), tech(30, 'sensor_off'), tech(60, 'sensor_ok'), tick(120)]);
    const limit = alarmsOf(out).filter((a) => a.kind === 'limit');
    expect(limit.map((a) => a.state)).toEqual(['raised', 'resolved']);
    expect(limit[1]!.reason).toBe('no SpO2 from ox1 within 30 s of the sensor recovering');
  });
});

describe('signal loss is for a silent device', () => {
  it('sensor off with the device still reporting its state raises sensor off only', () => {
    const out = run([...wearable(0, 60, { hr: 72, spo2: 97 }), ...wearable(60, 240, { hr: 72, spo2: 97 }, 'off'), ...wearable(240, 300, { hr: 72, spo2: 97 })]);
    expect(technical(out).map(([, id, state]) => `${id} ${state}`)).toEqual(['P1:technical:ox1:sensor_off:1 raised', 'P1:technical:ox1:sensor_off:1 resolved']);
  });

  it('a device that flags its sensor once and goes quiet: still no signal loss while flagged', () => {
    const out = run([...series(0, 'spo2', 97, 10), tech(10, 'sensor_off'), obs(100, 'hr', 70, { patient: 'P2', device: 'x' })]);
    expect(technical(out)).toEqual([[20, 'P1:technical:ox1:sensor_off:1', 'raised']]);
  });

  it('a device that goes silent raises signal loss', () => {
    const out = run([...wearable(0, 60, { hr: 72, spo2: 97 }), obs(200, 'hr', 70, { patient: 'P2', device: 'x' })]);
    expect(technical(out)).toEqual([[85, 'P1:technical:ox1:signal_loss:1', 'raised']]);
  });
});
