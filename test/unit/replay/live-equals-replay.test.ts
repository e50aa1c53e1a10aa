import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { ACVPU_CODES } from '../../../src/core/metrics.js';
import { defaultDetectorConfig } from '../../../src/detectors/config.js';
import { detectAll, inputTs, type PipelineInput, type PipelineOutput } from '../../../src/alarms/pipeline.js';
import { formatOutput } from '../../../src/replay/format.js';
import { runReplay } from '../../../src/replay/run.js';
import { T0, at, byTime, obs, settings, tech } from '../detectors/helpers.js';

/** Deterministic pseudo-random numbers (mulberry32), so the scenario is the same every run. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Two patients over 40 minutes: noise, a desaturation, a sensor falling off, deterioration, acks. */
function scenario(): PipelineInput[] {
  const r = rng(7);
  const noise = (x: number): number => Math.round((x + (r() - 0.5) * 2) * 10) / 10;
  const inputs: PipelineInput[] = [settings(0, { spo2Scale: 2 }, 'P2'), settings(0, { limits: { hr: { high: 120 } } }, 'P1')];
  for (const p of ['P1', 'P2']) {
    inputs.push(obs(1, 'sbp', 124, { patient: p, device: `bp-${p}` }), obs(1, 'temp', 37.1, { patient: p, device: `t-${p}` }));
    inputs.push(obs(1, 'acvpu', 0, { patient: p, device: 'nurse' }), obs(1, 'o2', p === 'P2' ? 1 : 0, { patient: p, device: 'nurse' }));
  }
  for (let s = 2; s < 2400; s++) {
    // P1: SpO2 dips to ~83 from 300 s to 360 s, probe falls off at 900 s, back at 960 s
    const p1spo2 = s >= 300 && s < 360 ? 83 : 96;
    if (s < 900 || s >= 960) inputs.push(obs(s, 'spo2', Math.min(100, noise(p1spo2)), { patient: 'P1', device: 'ox1' }));
    else inputs.push(obs(s, 'spo2', 0, { patient: 'P1', device: 'ox1', quality: 'invalid' }));
    // P1 heart rate rises slowly from 1200 s (trend), breaching 120 for a while
    const hr = s < 1200 ? 78 : Math.min(128, 78 + (s - 1200) / 12);
    inputs.push(obs(s, 'hr', noise(hr), { patient: 'P1', device: 'w1' }));
    if (s % 4 === 0) inputs.push(obs(s, 'rr', noise(s < 1500 ? 16 : 23), { patient: 'P1', device: 'w1' }));
    // P2: wearable stops for 2 minutes (signal loss), scale 2 on oxygen
    if (s < 600 || s > 720) {
      inputs.push(obs(s, 'spo2', noise(92), { patient: 'P2', device: 'ox2' }));
      if (s % 4 === 0) inputs.push(obs(s, 'rr', noise(19), { patient: 'P2', device: 'ox2' }));
      inputs.push(obs(s, 'pr', noise(88), { patient: 'P2', device: 'ox2' }));
    }
  }
  inputs.push(tech(900, 'sensor_off'), tech(960, 'sensor_ok'));
  inputs.push(tech(1000, 'battery_low', { patient: 'P2', device: 'ox2' }));
  inputs.push(obs(1100, 'acvpu', 1, { device: 'nurse' }), obs(1400, 'acvpu', 0, { device: 'nurse' }));
  inputs.push({ type: 'ack', alarmId: 'P1:limit:spo2:lowHigh:1', by: 'nurse.kim', ts: at(400) });
  inputs.push({ type: 'ack', alarmId: 'P2:technical:ox2:signal_loss:1', by: 'nurse.ali', ts: at(700) });
  inputs.push(obs(50, 'spo2', 60, { patient: null, device: 'ox9' }));
  return byTime(inputs);
}

/** The recording of those inputs, as `vigil replay` reads it. */
function toLine(i: PipelineInput, n: number): string {
  const ts = n % 2 === 0 ? new Date(inputTs(i)).toISOString() : inputTs(i); // both time forms
  switch (i.type) {
    case 'obs': {
      const o = i.obs;
      const value = o.metric === 'acvpu' ? ACVPU_CODES[o.value] : o.value;
      return JSON.stringify({ ts, patient: o.patientId, metric: o.metric, value, device: o.deviceId, quality: o.quality });
    }
    case 'tech':
      return JSON.stringify({ ts, patient: i.event.patientId, device: i.event.deviceId, event: i.event.kind });
    case 'settings':
      return JSON.stringify({ ts, patient: i.event.patientId, settings: i.event.settings });
    case 'ack':
      return JSON.stringify({ ts, ack: i.alarmId, by: i.by });
    default:
      throw new Error(`not recorded: ${i.type}`);
  }
}

describe('live equals replay', () => {
  it('the same inputs give identical outputs live (with ticks) and from a recording', async () => {
    const config = defaultDetectorConfig();
    const inputs = scenario();

    // live: pushed one at a time through a Subject, with a tick every second of wall time
    const live: PipelineOutput[] = [];
    const feed = new Subject<PipelineInput>();
    feed.pipe(detectAll(config)).subscribe((o) => live.push(o));
    let nextTick = T0;
    for (const i of inputs) {
      for (; nextTick <= inputTs(i); nextTick += 1000) feed.next({ type: 'tick', ts: nextTick });
      feed.next(i);
    }
    feed.complete();

    // replay: the recording through the file reader
    let text = '';
    const r = await runReplay(inputs.map(toLine), { config }, { out: { write: (c: string) => ((text += c), true) }, err: { write: () => true } });
    expect(r.badLines).toBe(0);

    expect(text).toBe(live.map((o) => formatOutput(o) + '\n').join(''));

    // and the scenario exercised the whole pipeline
    const alarms = live.flatMap((o) => (o.type === 'alarm' ? [o.alarm] : []));
    const kinds = new Set(alarms.map((a) => `${a.kind}:${a.state}`));
    for (const k of ['limit:raised', 'limit:cleared', 'limit:acknowledged', 'limit:resolved', 'technical:raised', 'technical:resolved', 'news2:raised', 'trend:raised', 'technical:acknowledged']) {
      expect(kinds, k).toContain(k);
    }
    expect(live.filter((o) => o.type === 'news2').length).toBeGreaterThan(5);
  });
});
