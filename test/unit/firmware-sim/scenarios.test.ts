import { describe, expect, it } from 'vitest';
import { PatientModel, type VitalSample } from '../../../firmware-sim/physiology.js';
import { loadScenario, parseScenario } from '../../../firmware-sim/scenario.js';
import { device, mean } from './helpers.js';

function run(scenario: string, seed: number, from: number, to: number, step = 1, timeScale?: number): VitalSample[] {
  const p = device('json-v1', scenario, seed, timeScale).patient;
  const out: VitalSample[] = [];
  for (let t = from; t < to; t += step) out.push(p.sample(t));
  return out;
}

describe('scenario shapes', () => {
  it('stable: vitals stay in normal adult ranges', () => {
    for (const seed of [1, 2, 3]) {
      const s = run('stable', seed, 0, 3600);
      expect(Math.min(...s.map((x) => x.trueSpo2))).toBeGreaterThanOrEqual(94);
      expect(Math.min(...s.map((x) => x.hr))).toBeGreaterThan(55);
      expect(Math.max(...s.map((x) => x.hr))).toBeLessThan(95);
      expect(Math.max(...s.map((x) => x.rr))).toBeLessThan(21);
      expect(s.every((x) => x.sbp > x.map && x.map > x.dbp)).toBe(true);
    }
  });

  it('desaturation: SpO2 reaches the mid-80s over minutes, then recovers', () => {
    for (const seed of [1, 2]) {
      const s = run('desaturation', seed, 0, 1800);
      const nadir = Math.min(...s.map((x) => x.trueSpo2));
      expect(nadir).toBeGreaterThanOrEqual(83);
      expect(nadir).toBeLessThanOrEqual(87);
      const plateau = s.filter((x) => x.t >= 600 && x.t < 900 && !x.artifact).map((x) => x.spo2);
      expect(mean(plateau)).toBeGreaterThan(83);
      expect(mean(plateau)).toBeLessThan(87);
      expect(mean(s.filter((x) => x.t >= 1500).map((x) => x.trueSpo2))).toBeGreaterThan(94);
    }
  });

  it('desaturation: ground truth onset is where the noise-free trend first goes below 90 %', () => {
    const sc = loadScenario('desaturation');
    const truth = sc.groundTruth.find((e) => e.name === 'desaturation');
    expect(truth).toBeDefined();
    const onset = truth?.onset ?? -1;
    expect(sc.trend.value('spo2', onset)).toBeLessThan(90);
    expect(sc.trend.value('spo2', onset - 1)).toBeGreaterThanOrEqual(90);
    expect(truth?.end).toBeGreaterThan(onset);
    expect(sc.trend.value('spo2', truth?.end ?? 0)).toBeGreaterThanOrEqual(90);
  });

  it('sepsis: HR, RR and temperature rise and SBP falls over hours, compressed by the time scale', () => {
    const sc = loadScenario('sepsis');
    const scale = sc.timeScale;
    const deviceDuration = sc.duration / scale;
    const s = run('sepsis', 4, 0, deviceDuration);
    const first = s.filter((x) => x.t < 60);
    const last = s.filter((x) => x.t >= deviceDuration - 60);
    const delta = (k: 'hr' | 'rr' | 'temp' | 'sbp'): number => mean(last.map((x) => x[k])) - mean(first.map((x) => x[k]));
    expect(delta('hr')).toBeGreaterThan(25);
    expect(delta('rr')).toBeGreaterThan(7);
    expect(delta('temp')).toBeGreaterThan(1.4);
    expect(delta('sbp')).toBeLessThan(-25);
    // The same clinical moment arrives twice as early at twice the compression.
    const slow = new PatientModel(sc, { seed: 4, timeScale: scale });
    const fast = new PatientModel(sc, { seed: 4, timeScale: scale * 2 });
    expect(fast.scenarioTime(100)).toBe(slow.scenarioTime(200));
    const onsets = device('json-v1', 'sepsis', 4, scale * 2).truth().map((e) => e.onset);
    expect(onsets).toEqual(sc.groundTruth.map((e) => e.onset / (scale * 2)));
  });

  it('brady: heart rate falls below 40', () => {
    const s = run('brady', 5, 0, 1800);
    const tail = s.filter((x) => x.t >= 1200).map((x) => x.hr);
    expect(mean(tail)).toBeLessThan(40);
    expect(mean(tail)).toBeGreaterThan(33);
    expect(mean(s.filter((x) => x.t < 300).map((x) => x.hr))).toBeGreaterThan(65);
  });

  it('artifact-storm: many false dips of 3–10 s, flagged poor only sometimes, and a naive threshold alarms on them', () => {
    const p = device('json-v1', 'artifact-storm', 6).patient;
    const events = p.artifactsBetween(0, 1800);
    expect(events.length).toBeGreaterThan(20);
    for (const e of events) {
      expect(e.duration).toBeGreaterThanOrEqual(3);
      expect(e.duration).toBeLessThanOrEqual(10);
    }
    const flagged = events.filter((e) => e.flagged).length;
    expect(flagged).toBeGreaterThan(0);
    expect(flagged).toBeLessThan(events.length);

    const s = run('artifact-storm', 6, 0, 1800);
    // The patient never truly desaturates.
    expect(Math.min(...s.map((x) => x.trueSpo2))).toBeGreaterThan(92);
    // Runs of displayed SpO2 well below the truth, measured on the 1 Hz series.
    const runs: number[] = [];
    let len = 0;
    for (const x of s) {
      if (x.trueSpo2 - x.spo2 > 4) len++;
      else if (len > 0) runs.push(len), (len = 0);
    }
    expect(runs.length).toBeGreaterThan(15);
    expect(Math.max(...runs)).toBeLessThanOrEqual(10 * 2); // overlapping dips can merge
    expect(runs.filter((r) => r >= 2 && r <= 10).length / runs.length).toBeGreaterThan(0.8);
    // A naive "SpO2 < 90" alarm: each entry into the condition is one alarm.
    let alarms = 0;
    let below = false;
    for (const x of s) {
      const now = Math.round(x.spo2) < 90;
      if (now && !below) alarms++;
      below = now;
    }
    expect(alarms).toBeGreaterThan(10);
    // Outside the dips the displayed value stays near the truth.
    const clean = s.filter((x) => !x.artifact);
    expect(Math.max(...clean.map((x) => Math.abs(x.spo2 - x.trueSpo2)))).toBeLessThan(3);
  });

  it('sensor-off: the sensor reports off exactly during the scenario window', () => {
    const sc = loadScenario('sensor-off');
    const s = run('sensor-off', 1, 0, 1800);
    const windows = sc.events.filter((e) => e.type === 'sensor-off');
    for (const x of s) {
      const inWindow = windows.some((e) => x.t >= e.at && x.t < e.at + e.duration);
      expect(x.sensor === 'off').toBe(inWindow);
    }
    expect(sc.groundTruth.filter((e) => e.name === 'sensor-off')).toHaveLength(windows.length);
  });

  it('battery-drain: battery falls below the low threshold, and the truth says when', () => {
    const sc = loadScenario('battery-drain');
    const s = run('battery-drain', 1, 0, 1800, 10);
    expect(s[0]?.battery).toBeGreaterThan(30);
    expect(s[s.length - 1]?.battery).toBeLessThan(15);
    const truth = sc.groundTruth.find((e) => e.name === 'battery-low');
    expect(truth?.kind).toBe('technical');
    expect(sc.trend.value('battery', truth?.onset ?? 0)).toBeLessThan(15);
    expect(sc.trend.value('battery', (truth?.onset ?? 0) - 1)).toBeGreaterThanOrEqual(15);
  });

  it('unplug: the device signals unplug and replug and is silent in between', () => {
    const sc = loadScenario('unplug');
    const chunks = [...device('masimo-radical7', 'unplug', 1).generate(0, 1200)];
    const edges = chunks.filter((c) => c.kind !== 'data').map((c) => `${c.kind}@${c.t}`);
    const expected = sc.events.flatMap((e) => [`unplug@${e.at}`, `replug@${e.at + e.duration}`]);
    expect(edges).toEqual(expected);
    for (const c of chunks) {
      if (c.kind !== 'data') continue;
      expect(sc.events.some((e) => c.t >= e.at && c.t < e.at + e.duration)).toBe(false);
    }
  });

  it('respiratory sinus arrhythmia adds breathing-linked HR variation', () => {
    const base = loadScenario('stable');
    const yaml = (rsa: number): string => `name: rsa-${rsa}\nbaseline: { hr: 70, rr: 12 }\nrsa: ${rsa}\nartifacts: { ratePerHour: 0 }\n`;
    const spread = (rsa: number): number => {
      const p = new PatientModel(parseScenario(yaml(rsa), 'test'), { seed: 1 });
      const hr = Array.from({ length: 600 }, (_, i) => p.sample(i * 0.5).hr);
      const m = mean(hr);
      return Math.sqrt(mean(hr.map((h) => (h - m) ** 2)));
    };
    expect(base.rsa).toBeGreaterThan(0);
    expect(spread(10)).toBeGreaterThan(spread(0) * 1.5);
  });
});
