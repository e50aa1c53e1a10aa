import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import type { News2Event } from '../../../src/detectors/news2.js';
import { Pipeline, detectAll, type PipelineInput, type PipelineOutput } from '../../../src/alarms/pipeline.js';
import { alarmsOf, at, defaultDetectorConfig, obs, run, series, settings, tick, transitions } from './helpers.js';

const news2Of = (out: readonly PipelineOutput[]): News2Event[] => out.filter((o): o is News2Event => o.type === 'news2');
const brief = (e: News2Event): [number, number, string, boolean] => [(e.ts - at(0)) / 1000, e.score, e.band, e.complete];

/** A full set of normal observations at second `s` (score 0, complete). */
const normal = (s: number): PipelineInput[] => [
  obs(s, 'rr', 16, { device: 'w1' }),
  obs(s, 'spo2', 97),
  obs(s, 'o2', 0, { device: 'nurse' }),
  obs(s, 'sbp', 125, { device: 'bp1' }),
  obs(s, 'hr', 72, { device: 'w1' }),
  obs(s, 'acvpu', 0, { device: 'nurse' }),
  obs(s, 'temp', 36.8, { device: 'nurse' }),
];

describe('NEWS2 detector', () => {
  it('emits when score, band or completeness changes, with parts and missing parameters', () => {
    const out = run(normal(0));
    const events = news2Of(out);
    // first value: incomplete; each further parameter keeps the score 0 and incomplete until the last
    expect(events.map(brief)).toEqual([
      [0, 0, 'none', false],
      [0, 0, 'none', true],
    ]);
    expect(events[0]!.missing).toEqual(['spo2', 'o2', 'sbp', 'pulse', 'acvpu', 'temp']);
    expect(events[1]).toEqual({
      type: 'news2',
      ts: at(0),
      patientId: 'P1',
      score: 0,
      band: 'none',
      complete: true,
      missing: [],
      spo2Scale: 1,
      parts: {
        rr: { value: 16, points: 0 },
        spo2: { value: 97, points: 0 },
        o2: { value: 0, points: 0 },
        sbp: { value: 125, points: 0 },
        pulse: { value: 72, points: 0 },
        acvpu: { value: 0, points: 0 },
        temp: { value: 36.8, points: 0 },
      },
    });
  });

  it('a parameter goes stale in data time, with nothing else arriving for the patient', () => {
    const out = run([...normal(0), ...series(1, 'hr', 72, 400, { device: 'w1' }), tick(301), tick(5000)]);
    // rr and spo2 (300 s) go stale at 300; manual observations at 4 h
    expect(news2Of(out).map(brief).slice(2)).toEqual([[300, 0, 'none', false]]);
    const last = news2Of(out).at(-1)!;
    expect(last.missing).toEqual(['rr', 'spo2']);
  });

  it('staleness windows are configurable per metric', () => {
    const out = run([...normal(0), tick(100)], { news2: { staleSeconds: { temp: 60 } } });
    expect(news2Of(out).at(-1)).toMatchObject({ ts: at(60), complete: false, missing: ['temp'] });
  });

  it('one noisy second does not move the score (median smoothing)', () => {
    const spo2 = Array.from({ length: 60 }, (_, i) => (i === 30 ? 85 : 97));
    const out = run([...normal(0), ...series(1, 'spo2', spo2)]);
    expect(news2Of(out).map(brief)).toEqual([
      [0, 0, 'none', false],
      [0, 0, 'none', true],
    ]);
  });

  it('a sustained change moves the score once the median does', () => {
    const out = run([...normal(0), ...series(1, 'spo2', 93, 40)]);
    // window [97, 93]: median 95 (1 point); from t=2 [97, 93, 93]: median 93 (2 points)
    expect(news2Of(out).map(brief).slice(2)).toEqual([
      [1, 1, 'low', true],
      [2, 2, 'low', true],
    ]);
  });

  it('uses the oximeter pulse rate when the heart rate is absent or stale', () => {
    const p = new Pipeline(defaultDetectorConfig());
    run([obs(0, 'pr', 115)], {}, p);
    expect(p.news2Of('P1')?.parts.pulse).toEqual({ value: 115, points: 2 });
    run([obs(1, 'hr', 72, { device: 'w1' })], {}, p);
    expect(p.news2Of('P1')?.parts.pulse).toEqual({ value: 72, points: 0 });
    run([...series(2, 'pr', 115, 400)], {}, p); // hr goes stale at 301
    expect(p.news2Of('P1')?.parts.pulse).toEqual({ value: 115, points: 2 });
  });

  it('switching a patient to SpO2 scale 2 re-scores at once', () => {
    const out = run([...normal(0), obs(0, 'o2', 1, { device: 'nurse' }), ...series(1, 'spo2', 90, 5), settings(10, { spo2Scale: 2 })]);
    const events = news2Of(out).map(brief);
    // on O2 (2) + SpO2 90 on scale 1 (3, median 90 from t=2) = 5 medium; scale 2: 88–92 → 0, total 2
    expect(events.slice(-2)).toEqual([
      [2, 5, 'medium', true],
      [10, 2, 'low', true],
    ]);
    expect(news2Of(out).at(-1)?.spo2Scale).toBe(2);
  });

  it('band alarms: the first waits 60 s, rises are immediate, dropping out clears after the clear delay', () => {
    const out = run([
      ...normal(0),
      obs(10, 'acvpu', 1, { device: 'nurse' }), // 3 → low-medium
      obs(100, 'o2', 1, { device: 'nurse' }), // 5 → medium
      obs(200, 'acvpu', 0, { device: 'nurse' }), // 2 → low (no alarm)
      tick(1200),
    ]);
    expect(transitions(out, (a) => a.kind === 'news2')).toEqual([
      [70, 'P1:news2:low-medium:1', 'raised'],
      [100, 'P1:news2:medium:1', 'raised'],
      [110, 'P1:news2:low-medium:1', 'resolved'],
      [280, 'P1:news2:medium:1', 'escalated'], // [IEC 60601-1-8] unacknowledged for 180 s
      [1110, 'P1:news2:medium:1', 'resolved'], // low from 200, held 900 s, then the flap hold
    ]);
  });

  it('a rise during the entry hold does not restart it: the higher band alarms when the hold ends', () => {
    const out = run([
      ...normal(0),
      obs(10, 'acvpu', 1, { device: 'nurse' }), // 3
      obs(10, 'o2', 1, { device: 'nurse' }), // + 2 = 5 → medium
      obs(55, 'temp', 39.5, { device: 'nurse' }), // + 2 = 7 → high
      tick(200),
    ]);
    expect(transitions(out, (a) => a.kind === 'news2' && a.state === 'raised')).toEqual([[70, 'P1:news2:high:1', 'raised']]);
    expect(alarmsOf(out).find((a) => a.kind === 'news2')?.reason).toBe('NEWS2 7 (high), alarming for 60 s');
  });

  it('band hysteresis: a score moving between 4 and 5 with each cuff reading gives one alarm per band', () => {
    // pulse 37 scores 3 (low-medium); systolic 98 adds 2 (5, medium), 102 adds 1 (4, low-medium)
    const inputs: PipelineInput[] = [...normal(0)];
    for (let s = 5; s < 3 * 3600; s += 5) inputs.push(obs(s, 'hr', 37, { device: 'w1' }), obs(s, 'rr', 16, { device: 'w1' }), obs(s, 'spo2', 97));
    for (let k = 1; k * 300 < 2 * 3600; k++) inputs.push(obs(k * 300, 'sbp', k % 2 === 1 ? 98 : 102, { device: 'bp1' }));
    for (let k = 24; k * 300 < 3 * 3600; k++) inputs.push(obs(k * 300, 'sbp', 102, { device: 'bp1' })); // 4 from 2 h on
    const out = run(inputs);
    expect(transitions(out, (a) => a.kind === 'news2' && a.state !== 'escalated')).toEqual([
      [70, 'P1:news2:low-medium:1', 'raised'], // the 30 s median reaches 37 at 10 s; 60 s hold
      [300, 'P1:news2:medium:1', 'raised'],
      [310, 'P1:news2:low-medium:1', 'resolved'], // superseded, after the flap hold
      // every fall to 4 came back within 15 min: the same medium alarm continues
      [7200 + 900, 'P1:news2:low-medium:2', 'raised'], // 4 held for more than 15 min
      [7200 + 910, 'P1:news2:medium:1', 'resolved'],
    ]);
    expect(alarmsOf(out).find((a) => a.id === 'P1:news2:low-medium:2')?.reason).toBe('NEWS2 4 (low-medium) for 900 s');
  });

  it('a return to the band within the clear delay continues its alarm; the clear delay is configurable', () => {
    const steps = [...normal(0), obs(10, 'acvpu', 1, { device: 'nurse' }), obs(100, 'acvpu', 0, { device: 'nurse' }), obs(200, 'acvpu', 1, { device: 'nurse' }), obs(300, 'acvpu', 0, { device: 'nurse' }), tick(1500)];
    expect(transitions(run(steps), (a) => a.kind === 'news2' && a.state !== 'escalated')).toEqual([
      [70, 'P1:news2:low-medium:1', 'raised'],
      [1210, 'P1:news2:low-medium:1', 'resolved'], // none from 300, + 900 s, + flap hold
    ]);
    expect(transitions(run(steps, { news2: { alarmClearDelaySeconds: 0 } }), (a) => a.kind === 'news2' && a.state !== 'escalated')).toEqual([
      [70, 'P1:news2:low-medium:1', 'raised'],
      [110, 'P1:news2:low-medium:1', 'resolved'],
      [260, 'P1:news2:low-medium:2', 'raised'], // no hysteresis: a new alarm after the entry hold
      [310, 'P1:news2:low-medium:2', 'resolved'],
    ]);
  });

  it('scores the values of one reading together: a message trading one parameter\'s points for another\'s raises no band it never reached', () => {
    // a vital-signs monitor's message: systolic 85 (3 points), temperature 37 (0): low-medium
    const reading = (s: number, values: Partial<Record<'sbp' | 'temp', number>>): PipelineInput => ({
      type: 'reading',
      obs: Object.entries(values).map(([m, v]) => {
        const i = obs(s, m as 'sbp' | 'temp', v, { device: 'vsm1' });
        if (i.type !== 'obs') throw new Error('unreachable');
        return i.obs;
      }),
    });
    const first = [reading(0, { sbp: 85, temp: 37 }), reading(300, { sbp: 85, temp: 37 })];
    // then temperature 34.9 (3) and systolic 120 (0) in one message: still 3, low-medium
    const next = reading(360, { temp: 34.9, sbp: 120 });
    const out = run([...first, next, tick(2000)]);
    expect(news2Of(out).map(brief)).toEqual([[0, 3, 'low-medium', false]]);
    expect(transitions(out, (a) => a.kind === 'news2' && a.state === 'raised')).toEqual([[60, 'P1:news2:low-medium:1', 'raised']]);

    // the same values as observations of their own are scored one by one: temperature first
    // gives 6 (medium), a rise that alarms at once and holds through the 15-min clear delay
    const apart = (r: PipelineInput): PipelineInput[] => (r.type === 'reading' ? r.obs.map((o) => ({ type: 'obs', obs: o }) as const) : [r]);
    const one = run([...first, ...apart(next), tick(2000)]);
    expect(news2Of(one).map(brief)).toEqual([
      [0, 3, 'low-medium', false],
      [360, 6, 'medium', false],
      [360, 3, 'low-medium', false],
    ]);
    expect(transitions(one, (a) => a.kind === 'news2' && a.state === 'raised').map(([s, id]) => [s, id])).toEqual([
      [60, 'P1:news2:low-medium:1'],
      [360, 'P1:news2:medium:1'],
      [1260, 'P1:news2:low-medium:2'],
    ]);
  });

  it('a band that does not hold for the delay raises nothing', () => {
    const out = run([...normal(0), obs(10, 'acvpu', 1, { device: 'nurse' }), obs(40, 'acvpu', 0, { device: 'nurse' }), tick(400)]);
    expect(transitions(out, (a) => a.kind === 'news2')).toEqual([]);
  });
});

describe('detectAll in virtual time (marbles)', () => {
  it('ticks from an injected scheduler fire timeouts with no further data', () => {
    const ts = new TestScheduler((a, b) => expect(a).toEqual(b));
    ts.run(({ cold, expectObservable }) => {
      const desat: PipelineInput = { type: 'obs', obs: { ts: 0, patientId: 'P1', deviceId: 'ox1', metric: 'spo2', value: 84, unit: '%', quality: 'good' } };
      const input = cold<PipelineInput>('a 20999ms |', { a: desat });
      const out = input.pipe(detectAll(defaultDetectorConfig(), ts));
      const alarm = (level: 'lowHigh', priority: 'high'): PipelineOutput => ({
        type: 'alarm',
        alarm: {
          ts: 15_000,
          id: `P1:limit:spo2:${level}:1`,
          kind: 'limit',
          priority,
          state: 'raised',
          reason: 'SpO2 below 85 % for 15 s (lowest 84)',
          patientId: 'P1',
          metric: 'spo2',
          deviceId: 'ox1',
          value: 84,
          escalation: { tier: 1, of: 2, name: 'Assigned nurse', recipients: [], channels: ['station'] },
        },
      });
      const score: News2Event = {
        type: 'news2',
        ts: 0,
        patientId: 'P1',
        score: 3,
        band: 'low-medium',
        complete: false,
        missing: ['rr', 'o2', 'sbp', 'pulse', 'acvpu', 'temp'],
        parts: { spo2: { value: 84, points: 3 } },
        spo2Scale: 1,
      };
      // the high-priority alarm covers the side: no separate "below 90" alarm
      expectObservable(out).toBe('a 14999ms b 5999ms |', { a: score, b: alarm('lowHigh', 'high') });
    });
  });

  it('without ticks, the same timeout fires when the next input moves the clock', () => {
    const ts = new TestScheduler((a, b) => expect(a).toEqual(b));
    ts.run(({ cold, expectObservable }) => {
      const o = (t: number, v: number): PipelineInput => ({ type: 'obs', obs: { ts: t, patientId: 'P1', deviceId: 'ox1', metric: 'spo2', value: v, unit: '%', quality: 'good' } });
      const input = cold<PipelineInput>('a 29999ms (b|)', { a: o(0, 84), b: o(30_000, 84) });
      const out = input.pipe(detectAll(defaultDetectorConfig()));
      // delivered when b arrives, stamped with the time they fell due
      expectObservable(out).toBe('a 29999ms (bd|)', {
        a: expect.objectContaining({ type: 'news2' }),
        b: expect.objectContaining({ type: 'alarm', alarm: expect.objectContaining({ id: 'P1:limit:spo2:lowHigh:1', ts: 15_000 }) }),
        d: expect.objectContaining({ type: 'alarm', alarm: expect.objectContaining({ kind: 'technical', state: 'raised', ts: 30_000 }) }),
      });
    });
  });
});
