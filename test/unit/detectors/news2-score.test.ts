import { describe, expect, it } from 'vitest';
import type { MetricName } from '../../../src/core/metrics.js';
import type { News2Event } from '../../../src/detectors/news2.js';
import {
  news2Band,
  scoreAirOxygen,
  scoreConsciousness,
  scoreNews2,
  scorePulse,
  scoreRespiration,
  scoreSpo2,
  scoreSystolic,
  scoreTemperature,
  type News2Param,
} from '../../../src/detectors/news2-score.js';
import { Pipeline } from '../../../src/alarms/pipeline.js';
import { defaultDetectorConfig, obs, settings } from './helpers.js';

// Every boundary of the RCP 2017 chart: the last value of one band and the first of the next.
const RR: [number, number][] = [[0, 3], [8, 3], [9, 1], [11, 1], [12, 0], [20, 0], [21, 2], [24, 2], [25, 3], [60, 3]];
const SPO2_1: [number, number][] = [[70, 3], [91, 3], [92, 2], [93, 2], [94, 1], [95, 1], [96, 0], [100, 0]];
const SPO2_2_AIR: [number, number][] = [[70, 3], [83, 3], [84, 2], [85, 2], [86, 1], [87, 1], [88, 0], [92, 0], [93, 0], [97, 0], [100, 0]];
const SPO2_2_O2: [number, number][] = [[83, 3], [84, 2], [86, 1], [88, 0], [92, 0], [93, 1], [94, 1], [95, 2], [96, 2], [97, 3], [100, 3]];
const SBP: [number, number][] = [[60, 3], [90, 3], [91, 2], [100, 2], [101, 1], [110, 1], [111, 0], [219, 0], [220, 3], [260, 3]];
const PULSE: [number, number][] = [[30, 3], [40, 3], [41, 1], [50, 1], [51, 0], [90, 0], [91, 1], [110, 1], [111, 2], [130, 2], [131, 3], [180, 3]];
const TEMP: [number, number][] = [[34, 3], [35.0, 3], [35.1, 1], [36.0, 1], [36.1, 0], [38.0, 0], [38.1, 1], [39.0, 1], [39.1, 2], [41, 2]];
const ACVPU: [number, number][] = [[0, 0], [1, 3], [2, 3], [3, 3], [4, 3]];
const O2: [number, number][] = [[0, 0], [1, 2]];

describe('NEWS2 parameter scores (RCP 2017)', () => {
  it.each(RR)('RR %d /min → %d', (v, p) => expect(scoreRespiration(v)).toBe(p));
  it.each(SPO2_1)('SpO2 scale 1 %d %% → %d', (v, p) => {
    expect(scoreSpo2(v, 1, false)).toBe(p);
    expect(scoreSpo2(v, 1, true)).toBe(p); // scale 1 ignores oxygen
  });
  it.each(SPO2_2_AIR)('SpO2 scale 2 on air %d %% → %d', (v, p) => expect(scoreSpo2(v, 2, false)).toBe(p));
  it.each(SPO2_2_O2)('SpO2 scale 2 on oxygen %d %% → %d', (v, p) => expect(scoreSpo2(v, 2, true)).toBe(p));
  it.each(O2)('air/oxygen %d → %d', (v, p) => expect(scoreAirOxygen(v)).toBe(p));
  it.each(SBP)('SBP %d mmHg → %d', (v, p) => expect(scoreSystolic(v)).toBe(p));
  it.each(PULSE)('pulse %d /min → %d', (v, p) => expect(scorePulse(v)).toBe(p));
  it.each(ACVPU)('ACVPU code %d → %d', (v, p) => expect(scoreConsciousness(v)).toBe(p));
  it.each(TEMP)('temperature %d °C → %d', (v, p) => expect(scoreTemperature(v)).toBe(p));

  it('reads temperature to one decimal, rounding half up', () => {
    expect(scoreTemperature(35.04)).toBe(3); // 35.0
    expect(scoreTemperature(35.05)).toBe(1); // 35.1
    expect(scoreTemperature(36.05)).toBe(0); // 36.1
    expect(scoreTemperature(38.04)).toBe(0); // 38.0
    expect(scoreTemperature(38.05)).toBe(1); // 38.1
    expect(scoreTemperature(39.04)).toBe(1); // 39.0
    expect(scoreTemperature(39.05)).toBe(2); // 39.1
  });

  it('reads whole-number parameters to the nearest integer', () => {
    expect(scoreRespiration(20.4)).toBe(0);
    expect(scoreRespiration(20.5)).toBe(2);
    expect(scoreSpo2(95.5, 1, false)).toBe(0);
    expect(scorePulse(90.5)).toBe(1);
  });
});

describe('NEWS2 response bands', () => {
  const normal = { rr: 16, spo2: 97, o2: 0, sbp: 120, pulse: 70, acvpu: 0, temp: 37 };
  const cases: [string, Partial<Record<News2Param, number>>, number, string][] = [
    ['all normal', {}, 0, 'none'],
    ['total 1', { pulse: 95 }, 1, 'low'],
    ['total 4 without a 3', { pulse: 120, rr: 22 }, 4, 'low'],
    ['a single 3, total 3', { acvpu: 1 }, 3, 'low-medium'],
    ['a single 3, total 4', { rr: 26, temp: 38.5 }, 4, 'low-medium'],
    ['total 5 without a 3', { o2: 1, pulse: 115, temp: 38.5 }, 5, 'medium'],
    ['total 5 with a 3', { rr: 26, o2: 1 }, 5, 'medium'],
    ['total 6', { o2: 1, pulse: 115, rr: 22 }, 6, 'medium'],
    ['total 7', { o2: 1, pulse: 115, rr: 22, temp: 38.5 }, 7, 'high'],
    ['total 10', { rr: 26, sbp: 85, acvpu: 2, temp: 38.5 }, 10, 'high'],
  ];
  it.each(cases)('%s', (_name, change, score, band) => {
    const r = scoreNews2({ ...normal, ...change }, 1);
    expect(r.score).toBe(score);
    expect(r.band).toBe(band);
    expect(r.complete).toBe(true);
  });

  it.each(cases)('through the pipeline: %s', (_name, change, score, band) => {
    const v = { ...normal, ...change };
    const p = new Pipeline(defaultDetectorConfig());
    const metricOf: Record<News2Param, MetricName> = { rr: 'rr', spo2: 'spo2', o2: 'o2', sbp: 'sbp', pulse: 'hr', acvpu: 'acvpu', temp: 'temp' };
    for (const [k, x] of Object.entries(v)) p.push(obs(0, metricOf[k as News2Param], x, { device: `d-${k}` }));
    expect(p.news2Of('P1')).toMatchObject({ score, band, complete: true });
  });

  it('news2Band applies the rules in order', () => {
    expect(news2Band(0, 0)).toBe('none');
    expect(news2Band(4, 2)).toBe('low');
    expect(news2Band(4, 3)).toBe('low-medium');
    expect(news2Band(5, 3)).toBe('medium');
    expect(news2Band(6, 2)).toBe('medium');
    expect(news2Band(7, 3)).toBe('high');
  });

  it('marks a score with missing parameters incomplete and names them', () => {
    const r = scoreNews2({ rr: 26, spo2: 97 }, 1);
    expect(r).toMatchObject({ score: 3, band: 'low-medium', complete: false, missing: ['o2', 'sbp', 'pulse', 'acvpu', 'temp'] });
    expect(r.parts).toEqual({ rr: { value: 26, points: 3 }, spo2: { value: 97, points: 0 } });
  });
});

// The same boundaries through the running pipeline, in virtual time: one value, one NEWS2 event.
describe('NEWS2 boundaries through the pipeline', () => {
  const through = (metric: MetricName, value: number, pre: ReturnType<typeof obs>[] = []): News2Event => {
    const p = new Pipeline(defaultDetectorConfig());
    for (const i of [...pre, obs(0, metric, value)]) p.push(i);
    const e = p.news2Of('P1');
    if (!e) throw new Error('no NEWS2 score');
    return e;
  };
  const table: [MetricName, News2Param, [number, number][]][] = [
    ['rr', 'rr', RR],
    ['spo2', 'spo2', SPO2_1],
    ['o2', 'o2', O2],
    ['sbp', 'sbp', SBP],
    ['hr', 'pulse', PULSE],
    ['pr', 'pulse', PULSE],
    ['acvpu', 'acvpu', ACVPU],
    ['temp', 'temp', TEMP],
  ];
  for (const [metric, param, rows] of table) {
    it.each(rows)(`${metric} %d → ${param} %d points`, (v, p) => {
      const e = through(metric, v);
      expect(e.parts[param]?.points).toBe(p);
      expect(e.score).toBe(p);
    });
  }
  it.each(SPO2_2_O2)('scale 2 on oxygen: SpO2 %d → %d', (v, p) => {
    const e = through('spo2', v, [settings(-10, { spo2Scale: 2 }), obs(-5, 'o2', 1)]);
    expect(e.parts.spo2?.points).toBe(p);
    expect(e.spo2Scale).toBe(2);
  });
  it.each(SPO2_2_AIR)('scale 2 on air: SpO2 %d → %d', (v, p) => {
    const e = through('spo2', v, [settings(-10, { spo2Scale: 2 }), obs(-5, 'o2', 0)]);
    expect(e.parts.spo2?.points).toBe(p);
  });
});
