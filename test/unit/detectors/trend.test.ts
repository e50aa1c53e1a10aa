import { describe, expect, it } from 'vitest';
import type { PipelineInput } from '../../../src/alarms/pipeline.js';
import { alarmsOf, obs, run, transitions } from './helpers.js';

/** Normal continuous vitals every 60 s from `from` to `to` s (fresh for NEWS2 throughout). */
function vitals(from: number, to: number, hr: (s: number) => number = () => 72): PipelineInput[] {
  const out: PipelineInput[] = [];
  for (let s = from; s < to; s += 60) out.push(obs(s, 'rr', 16, { device: 'w1' }), obs(s, 'spo2', 97), obs(s, 'hr', hr(s), { device: 'w1' }));
  return out;
}
const manual = (s: number): PipelineInput[] => [
  obs(s, 'o2', 0, { device: 'n' }),
  obs(s, 'sbp', 125, { device: 'n' }),
  obs(s, 'acvpu', 0, { device: 'n' }),
  obs(s, 'temp', 36.8, { device: 'n' }),
];
const trend = (a: { kind: string }): boolean => a.kind === 'trend';
/** Low-priority escalation off, so the trend's own transitions are all there is to see. */
const cfg = { alarms: { escalationSeconds: { low: 0 } } };

describe('trend: NEWS2 rise', () => {
  it('a rise of 2 held for 5 minutes warns, before any band alarm would', () => {
    // SBP 105 (1) at 600 s, then 98 (2) at 900 s: total 0 → 2 within the hour
    const out = run([...vitals(0, 2400), ...manual(0), obs(600, 'sbp', 105, { device: 'n' }), obs(900, 'sbp', 98, { device: 'n' })], cfg);
    expect(transitions(out, trend)).toEqual([[1200, 'P1:trend:news2:1', 'raised']]);
    expect(alarmsOf(out).find(trend)?.reason).toBe('NEWS2 up 2 (from 0 to 2) within 60 min, sustained 300 s');
    expect(transitions(out, (a) => a.kind === 'news2')).toEqual([]); // band "low" raises no alarm
  });

  it('a rise that does not hold for 5 minutes raises nothing', () => {
    const out = run([...vitals(0, 2400), ...manual(0), obs(600, 'sbp', 98, { device: 'n' }), obs(840, 'sbp', 125, { device: 'n' })], cfg);
    expect(transitions(out, trend)).toEqual([]);
  });

  it('a rise spread over more than an hour is not a trend', () => {
    const out = run([...vitals(0, 9000), ...manual(0), obs(600, 'sbp', 105, { device: 'n' }), obs(4300, 'sbp', 98, { device: 'n' })], cfg);
    expect(transitions(out, trend)).toEqual([]);
  });

  it('the warning clears when the score falls back', () => {
    const out = run([...vitals(0, 3000), ...manual(0), obs(600, 'sbp', 98, { device: 'n' }), obs(1500, 'sbp', 125, { device: 'n' })], cfg);
    expect(transitions(out, trend)).toEqual([
      [900, 'P1:trend:news2:1', 'raised'],
      [1510, 'P1:trend:news2:1', 'resolved'], // cleared at 1500 + 10 s flap hold
    ]);
  });

  it('the warning clears once the low point leaves the hour window', () => {
    const out = run([...vitals(0, 5000), ...manual(0), obs(600, 'sbp', 98, { device: 'n' })], cfg);
    // 0 → 2 at 600 s; the score 0 is last in effect at 600 s, so it leaves the window at 4200 s
    expect(transitions(out, trend)).toEqual([
      [900, 'P1:trend:news2:1', 'raised'],
      [4210, 'P1:trend:news2:1', 'resolved'],
    ]);
  });

  it('a parameter becoming fresh is not a rise (incomplete scores are left out)', () => {
    // everything but SBP from the start; SBP 95 (2 points) first arrives at 600 s
    const inputs = [...vitals(0, 2400), ...manual(0).filter((i) => i.type !== 'obs' || i.obs.metric !== 'sbp'), obs(600, 'sbp', 95, { device: 'n' })];
    expect(transitions(run(inputs, cfg), trend)).toEqual([]);
  });
});

describe('trend: EWMA shift in heart rate', () => {
  it('a sustained rise above the baseline warns while HR is still under its limit', () => {
    // 72 /min for 40 min, then 100 /min (below the 130 limit)
    const hr = (s: number): number => (s < 2400 ? 72 : 100);
    const out = run([...vitals(0, 4200, hr), ...manual(0)], cfg);
    const t = transitions(out, (a) => a.id.startsWith('P1:trend:hr'));
    expect(t).toHaveLength(1);
    expect(t[0]![2]).toBe('raised');
    // after n samples 60 s apart, a step of 28 has moved an EWMA with time constant τ by
    // 28·(1 − e^(−60n/τ)); the warning comes at the first n where fast (300 s) − slow (3600 s) ≥ 20
    const moved = (n: number, tau: number): number => 28 * (1 - Math.exp((-60 * n) / tau));
    let n = 1;
    while (moved(n, 300) - moved(n, 3600) < 20) n++;
    expect(t[0]![0]).toBe(2400 + 60 * (n - 1));
    expect(n).toBeLessThan(15); // within a quarter of an hour of the step
    expect(transitions(out, (a) => a.kind === 'limit')).toEqual([]);
  });

  it('no warning before the baseline has warmed up, and none for a steady rate', () => {
    const early = run([...vitals(0, 1500, (s) => (s < 600 ? 72 : 100)), ...manual(0)], cfg);
    expect(transitions(early, (a) => a.id.startsWith('P1:trend:hr'))).toEqual([]);
    const steady = run([...vitals(0, 6000), ...manual(0)], cfg);
    expect(transitions(steady, trend)).toEqual([]);
  });

  it('clears when the rate returns to baseline', () => {
    const hr = (s: number): number => (s >= 2400 && s < 3600 ? 100 : 72);
    const out = run([...vitals(0, 6000, hr), ...manual(0)], cfg);
    expect(transitions(out, (a) => a.id.startsWith('P1:trend:hr')).map((x) => x[2])).toEqual(['raised', 'resolved']);
  });
});
