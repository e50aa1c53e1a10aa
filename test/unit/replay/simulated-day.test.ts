/**
 * A simulated ward day: six patients on json-v1 wearables and cuffs, 24 h of device time, fed to
 * the detectors live-style (a Subject, ticks every second of device time running 500 ms behind
 * the clock, as the gateway does) and as a JSONL recording through `vigil replay`'s runner. Both
 * must give the same outputs, event for event.
 */
import { Subject, Subscription, type SchedulerAction, type SchedulerLike } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { AlarmTransition, Observation } from '../../../src/core/types.js';
import { defaultDetectorConfig } from '../../../src/detectors/config.js';
import { Pipeline, detectWith, inputTs, type PipelineInput, type PipelineOutput } from '../../../src/alarms/pipeline.js';
import { formatOutput } from '../../../src/replay/format.js';
import { runReplay } from '../../../src/replay/run.js';
import { SimulatedRecording } from '../../../src/burden/simulated.js';
import { formatInput } from '../../../src/replay/writer.js';

const DAY_S = 24 * 3600;
/** Seconds between a wearable's publishes (8,640 a day). */
const INTERVAL_S = 10;
const SCENARIOS = ['stable', 'sepsis', 'desaturation', 'brady', 'artifact-storm', 'sensor-off'] as const;
/** The live gateway ticks this far behind its clock (src/alarms/live.ts). */
const TICK_LAG_MS = 500;

function ward(durationS: number): SimulatedRecording {
  return new SimulatedRecording({
    durationS,
    intervalS: INTERVAL_S,
    // devices out of step with each other, as on a real ward; the artifact-storm patient's
    // wearable publishes every 6 s. Deadlines (15 s delays, 10 s flap holds…) fall between a
    // device's publishes, so ticks or other patients' data fire them
    patients: SCENARIOS.map((scenario, i) => ({
      patientId: `P${i + 1}`,
      scenario,
      seed: 11 + i,
      ward: 'W3',
      bed: `B${i + 1}`,
      startOffsetMs: i * 770,
      ...(scenario === 'artifact-storm' && { intervalS: 6 }),
    })),
  });
}

/**
 * Virtual time for the ticks: the device clock, moved by the test. An action that reschedules
 * itself stays one action (as with RxJS's async scheduler), so a day of ticks does not nest
 * 86,400 subscriptions the way VirtualTimeScheduler would.
 */
class DeviceClockScheduler implements SchedulerLike {
  private readonly queue: Array<{ due: number; run: () => void }> = [];
  private t = 0;

  /** @param clock epoch ms at virtual time 0, minus any lag the ticks run behind */
  constructor(private readonly clock: number) {}

  now(): number {
    return this.clock + this.t;
  }

  schedule<T>(work: (this: SchedulerAction<T>, state?: T) => void, delay = 0, state?: T): Subscription {
    const sub = new Subscription(() => this.dequeue(entry));
    const action = Object.assign(sub, {
      schedule: (next?: T, d = 0): Subscription => {
        if (!sub.closed) {
          this.dequeue(entry);
          entry.due = this.t + d;
          entry.run = () => work.call(action, next);
          this.enqueue(entry);
        }
        return sub;
      },
    }) as SchedulerAction<T>;
    const entry = { due: this.t + delay, run: () => work.call(action, state) };
    this.enqueue(entry);
    return sub;
  }

  /** Runs every action due at or before virtual time `ms`, in time order. */
  advanceTo(ms: number): void {
    for (let e = this.queue[0]; e && e.due <= ms; e = this.queue[0]) {
      this.queue.shift();
      this.t = e.due;
      e.run();
    }
    this.t = Math.max(this.t, ms);
  }

  private enqueue(entry: { due: number; run: () => void }): void {
    let k = this.queue.length;
    while (k > 0 && this.queue[k - 1]!.due > entry.due) k--;
    this.queue.splice(k, 0, entry);
  }

  private dequeue(entry: { due: number; run: () => void }): void {
    const k = this.queue.indexOf(entry);
    if (k >= 0) this.queue.splice(k, 1);
  }
}

/**
 * Live: every input pushed through a Subject into `detectWith(pipeline, { scheduler })`, which
 * ticks every second of device time with the clock 500 ms behind (as the gateway does). The
 * clock stops at the last input: a recording ends there too.
 */
function live(inputs: readonly PipelineInput[], startMs: number): { outputs: PipelineOutput[]; ticks: number[]; byTick: number } {
  const scheduler = new DeviceClockScheduler(startMs - TICK_LAG_MS);
  const pipeline = new Pipeline(defaultDetectorConfig());
  // watch the ticks go in, and what they deliver before the next data would have
  const ticks: number[] = [];
  let byTick = 0;
  const push = pipeline.push.bind(pipeline);
  pipeline.push = (i: PipelineInput): PipelineOutput[] => {
    const out = push(i);
    if (i.type === 'tick') {
      ticks.push(i.ts);
      byTick += out.length;
    }
    return out;
  };
  const outputs: PipelineOutput[] = [];
  const feed = new Subject<PipelineInput>();
  const sub = feed.pipe(detectWith(pipeline, { scheduler })).subscribe((o) => outputs.push(o));
  for (const i of inputs) {
    scheduler.advanceTo(inputTs(i) - startMs);
    feed.next(i);
  }
  sub.unsubscribe();
  return { outputs, ticks, byTick };
}

/** The observations an input carries: a reading's values, or its one observation. */
const valuesOf = (i: PipelineInput): readonly Observation[] => (i.type === 'obs' ? [i.obs] : i.type === 'reading' ? i.obs : []);
/** The receive time of each value of `inputs` that `pred` holds for. */
const valueTimes = (inputs: readonly PipelineInput[], pred: (o: Observation) => boolean): number[] => inputs.flatMap(valuesOf).filter(pred).map((o) => o.rt ?? o.ts);

const alarmsOf = (out: readonly PipelineOutput[]): AlarmTransition[] => out.flatMap((o) => (o.type === 'alarm' ? [o.alarm] : []));

describe('a simulated ward day', () => {
  it('the simulated inputs are what the gateway would see: json-v1 decoded, tagged, on the device clock', async () => {
    const rec = ward(600);
    const inputs = await rec.all();
    const start = rec.startEpochMs;
    // the first payload of P1's wearable: one reading of its values in payload order, then the sensor state
    const first = inputs.filter((i) => inputTs(i) === start && (valuesOf(i)[0]?.deviceId ?? (i.type === 'tech' ? i.event.deviceId : '')) === 'wearable-P1');
    expect(first.map((i) => (i.type === 'reading' ? i.obs.map((o) => o.metric) : i.type === 'tech' ? i.event.kind : i.type))).toEqual([['hr', 'spo2', 'rr', 'temp', 'battery'], 'sensor_ok']);
    for (const i of first) {
      for (const o of valuesOf(i)) expect(o).toMatchObject({ patientId: 'P1', ward: 'W3', bed: 'B1', quality: 'good' });
      if (i.type === 'tech') expect(i.event).toMatchObject({ patientId: 'P1', ward: 'W3', bed: 'B1' });
    }
    // a payload every 10 s per wearable (6 s for the artifact-storm one), in time order
    const p1 = valueTimes(inputs, (o) => o.deviceId === 'wearable-P1' && o.metric === 'spo2');
    expect(p1.slice(0, 3)).toEqual([start, start + 10_000, start + 20_000]);
    expect(p1).toHaveLength(60);
    expect(valueTimes(inputs, (o) => o.deviceId === 'wearable-P5' && o.metric === 'battery')).toHaveLength(100);
    const ts = inputs.map(inputTs);
    expect(ts.every((t, k) => k === 0 || t >= ts[k - 1]!)).toBe(true);
    // the sensor-off patient (P6, whose devices started 3.85 s after the ward's) reports sensor
    // off at 300 s of its device time and sends no vitals for the 3 minutes
    const p6 = start + 3850;
    expect(rec.patients[5]?.wearable.startEpochMs).toBe(p6);
    const off = inputs.filter((i) => i.type === 'tech' && i.event.patientId === 'P6' && i.event.kind === 'sensor_off').map(inputTs);
    expect(off[0]).toBe(p6 + 300_000);
    // the wearable says "off" with each of its 18 payloads; the state is stored when it changes
    expect(off).toHaveLength(1);
    const back = inputs.filter((i) => i.type === 'tech' && i.event.patientId === 'P6' && i.event.kind === 'sensor_ok').map(inputTs);
    expect(back).toEqual([p6, p6 + 480_000]);
    const during = valueTimes(inputs, (o) => o.patientId === 'P6' && o.metric === 'spo2').filter((t) => t >= p6 + 300_000 && t < p6 + 480_000);
    expect(during).toEqual([]);
    // ground truth on the device clock, limited to the run (the second sensor-off is at 20 min)
    expect(rec.truth('P6').map((e) => [e.name, e.onsetMs - p6, e.endMs! - p6])).toEqual([['sensor-off', 300_000, 480_000]]);
    // flagged motion dips on the artifact-storm patient (P5) arrive as poor-quality values
    expect(inputs.flatMap(valuesOf).some((o) => o.patientId === 'P5' && o.quality === 'poor')).toBe(true);
    // the cuff measures every 5 min from 30 s
    const sbp = valueTimes(inputs, (o) => o.deviceId === 'cuff-P1' && o.metric === 'sbp');
    expect(sbp).toEqual([start + 30_000, start + 330_000]);
  });

  it('replay reproduces live exactly over 24 h of six patients', async () => {
    const rec = ward(DAY_S);
    const inputs = await rec.all();
    // five observations per wearable payload (four vitals, battery), no vitals in the 24
    // payloads sent with the sensor off, three per cuff reading…
    const data = inputs.filter((i) => valuesOf(i).length > 0);
    expect(data.flatMap(valuesOf).length).toBe(5 * (5 * 8640 + 14_400) - 4 * 24 + 3 * 6 * 288);
    // one reading per payload (the sensor-off payloads carry their battery level only)
    expect(data.length).toBe(5 * 8640 + 14_400 + 6 * 288);
    // …and the sensor state of each wearable when it changes (P5's motion artifacts flip it
    // between poor and ok; P6's sensor goes off and comes back), not with every payload
    const states = new Map<string, string[]>();
    for (const i of inputs) if (i.type === 'tech') states.set(i.event.deviceId, [...(states.get(i.event.deviceId) ?? []), i.event.kind]);
    expect([...states.keys()].sort()).toEqual(['P1', 'P2', 'P3', 'P4', 'P5', 'P6'].map((p) => `wearable-${p}`));
    for (const kinds of states.values()) expect(kinds.every((k, n) => n === 0 || k !== kinds[n - 1])).toBe(true);
    expect(states.get('wearable-P6')!.filter((k) => k === 'sensor_off')).toHaveLength(rec.truth('P6').filter((e) => e.name === 'sensor-off').length);
    expect(inputs.length - data.length).toBeLessThan(57_600 / 20);

    const start = rec.startEpochMs;
    const { outputs, ticks, byTick } = live(inputs, start);
    // a tick every second of device time, 500 ms behind the clock, up to the last input
    expect(ticks.slice(0, 3)).toEqual([start + 500, start + 1500, start + 2500]);
    const last = inputTs(inputs[inputs.length - 1]!);
    expect(ticks).toHaveLength(Math.floor((last - start) / 1000));
    expect(ticks.at(-1)).toBeLessThanOrEqual(last - 500);
    // ticks delivered some outputs (deadlines) before the next input would have
    expect(byTick).toBeGreaterThan(0);
    const lines = inputs.map(formatInput).filter((l): l is string => l !== null);
    expect(lines).toHaveLength(inputs.length);
    let text = '';
    let errors = '';
    const r = await runReplay(lines, { config: defaultDetectorConfig() }, { out: { write: (c: string) => ((text += c), true) }, err: { write: (c: string) => ((errors += c), true) } });
    expect(errors).toBe('');
    expect(r.badLines).toBe(0);

    const replayed = text.split('\n').slice(0, -1);
    expect(replayed.length).toBe(outputs.length);
    // event for event (compared in full below; this finds the first difference quickly)
    const expected = outputs.map(formatOutput);
    const firstDiff = expected.findIndex((l, k) => l !== replayed[k]);
    expect(firstDiff, `first difference at output ${firstDiff}`).toBe(-1);
    expect(replayed).toEqual(expected);

    // and the day exercised the pipeline: every patient alarmed on what their scenario holds
    const raised = alarmsOf(outputs).filter((a) => a.state === 'raised');
    const has = (patient: string, pred: (a: AlarmTransition) => boolean): boolean => raised.some((a) => a.patientId === patient && pred(a));
    expect(has('P2', (a) => a.kind === 'news2')).toBe(true); // sepsis
    expect(has('P3', (a) => a.kind === 'limit' && a.metric === 'spo2')).toBe(true); // desaturation
    expect(has('P4', (a) => a.kind === 'limit' && a.metric === 'hr')).toBe(true); // brady
    // artifact storm: its flagged dips (3–10 s) are shorter than the poor-signal delay
    expect(has('P5', (a) => a.kind === 'technical')).toBe(false);
    expect(has('P6', (a) => a.id.includes(':sensor_off:'))).toBe(true); // sensor off
    expect(outputs.some((o) => o.type === 'news2')).toBe(true);
    expect(alarmsOf(outputs).some((a) => a.state === 'escalated')).toBe(true);
  });
});
