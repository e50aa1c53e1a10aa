/**
 * NEWS2 per patient: keeps the latest fresh value of each parameter, scores them (news2-score.ts),
 * and emits a `News2Event` whenever the score, band or completeness changes — on a new value, on
 * a settings change, or when a parameter goes stale.
 *
 * - Continuous signals (hr, pr, spo2, rr) are smoothed with a median over `smoothingSeconds`
 *   ending at the newest sample, so one noisy second does not move the score.
 * - A value counts while its age is under `staleSeconds[metric]`; expiry is a clock deadline, so a
 *   parameter goes stale in data time even when nothing else arrives for the patient.
 * - [NEWS2] pulse is the heart rate (`hr`), or the oximeter's pulse rate (`pr`) when `hr` is not fresh.
 * - Band alarms: each band with a priority in `news2.bandPriority` is an alarm condition, with a
 *   hold on first entry, immediate rises and hysteresis on falls (see `bandAlarm`).
 * - Only good values reach this detector. When a sensor's technical condition is raised (sensor
 *   off or poor past its delay), its values are forgotten: the parameter is missing, not scored
 *   from a doubtful value. A brief flag changes nothing.
 */
import type { MetricName, Observation, Placement } from '../core/types.js';
import { secs, type AlarmCondition, type DetectorContext } from './context.js';
import { scoreNews2, scoreNews2Totals, type News2Band, type News2Inputs, type News2Param, type News2Part } from './news2-score.js';
import { SampleWindow, type Sample, type SampleWindowState } from './sample-window.js';

/** A NEWS2 score as it changed. */
export interface News2Event extends Placement {
  readonly type: 'news2';
  /** epoch ms */
  readonly ts: number;
  readonly patientId: string;
  readonly score: number;
  readonly band: News2Band;
  readonly complete: boolean;
  /** Parameters with no fresh value. */
  readonly missing: readonly News2Param[];
  readonly parts: Partial<Record<News2Param, News2Part>>;
  readonly spo2Scale: 1 | 2;
}

const SOURCES = ['hr', 'pr', 'spo2', 'rr', 'sbp', 'temp', 'acvpu', 'o2'] as const;
type Source = (typeof SOURCES)[number];
const CONTINUOUS: ReadonlySet<Source> = new Set(['hr', 'pr', 'spo2', 'rr']);


/** A patient's NEWS2 band alarm, pending (entry hold) or raised. */
interface BandAlarm {
  /** the band alarmed on (or to be, when the hold ends) */
  band: News2Band;
  /** the band that started the entry hold */
  firstBand: News2Band;
  raised: boolean;
  /** the score is in a lower band, waiting out the clear delay */
  clearing: boolean;
}

/** Order of the response bands, for rises and falls. */
const RANK: Record<News2Band, number> = { none: 0, low: 1, 'low-medium': 2, medium: 3, high: 4 };

function describe(ev: News2Event): string {
  return `NEWS2 ${ev.score} (${ev.band})${ev.complete ? '' : `, incomplete: missing ${ev.missing.join(', ')}`}`;
}

interface PatientState {
  samples: Map<Source, SampleWindow>;
  latest: Map<Source, Sample>;
  /** the band alarm raised or pending, if any */
  alarm?: BandAlarm;
  /** last emitted */
  last?: News2Event;
  /** last computed, emitted or not (parts may differ from `last`) */
  current?: News2Event;
  /** when `current` is not built: the time it would be computed at (nothing has changed since) */
  currentAt?: number;
  /** Each parameter's staleness deadline key, made once (not saved: it follows from the id). */
  staleKeys?: Partial<Record<Source, string>>;
}

/** Everything the detector holds, as JSON data: `[patientId, state]` with its maps as entry lists. */
export type News2DetectorState = ReadonlyArray<
  readonly [string, { samples: Array<[Source, Sample[] | SampleWindowState]>; latest: Array<[Source, Sample]>; alarm?: BandAlarm; last?: News2Event; current?: News2Event }]
>;

/** The deadline at which a parameter's value goes stale. */
const staleKey = (patientId: string, src: Source): string => `news2-stale|${patientId}|${src}`;

export function isNews2Source(m: MetricName): m is Source {
  return (SOURCES as readonly string[]).includes(m);
}

/**
 * Where each parameter comes from, in scoring order. [NEWS2] pulse: the heart rate, or the
 * oximeter's pulse rate when there is no fresh heart rate.
 */
const PARAM_SOURCES: ReadonlyArray<readonly [News2Param, readonly Source[]]> = [
  ['rr', ['rr']],
  ['spo2', ['spo2']],
  ['o2', ['o2']],
  ['sbp', ['sbp']],
  ['pulse', ['hr', 'pr']],
  ['acvpu', ['acvpu']],
  ['temp', ['temp']],
];

export class News2Detector {
  private readonly patients = new Map<string, PatientState>();
  private readonly scratch: { -readonly [K in News2Param]?: number } = { rr: undefined, spo2: undefined, o2: undefined, sbp: undefined, pulse: undefined, acvpu: undefined, temp: undefined };
  /** Patients with values taken and not yet scored (`take`, `scoreTaken`). */
  private readonly unscored: string[] = [];

  constructor(
    private readonly ctx: DetectorContext,
    private readonly emit: (e: News2Event) => void,
  ) {}

  /**
   * A good value for a patient, at virtual time `t`: kept, and scored with the rest of its
   * reading by `scoreTaken`.
   */
  take(obs: Observation, t: number): void {
    const patientId = obs.patientId;
    if (patientId === undefined || !isNews2Source(obs.metric)) return;
    const src = obs.metric;
    const p = this.patient(patientId);
    let v = obs.value;
    if (CONTINUOUS.has(src)) {
      const win = this.ctx.config.news2.smoothingSeconds * 1000;
      let w = p.samples.get(src);
      if (!w) p.samples.set(src, (w = new SampleWindow()));
      w.push(t, v, obs.deviceId);
      w.dropBefore(t - win);
      v = w.median();
    }
    const l = p.latest.get(src);
    if (l) {
      l.ts = t;
      l.v = v;
      l.deviceId = obs.deviceId;
    } else p.latest.set(src, { ts: t, v, deviceId: obs.deviceId });
    const staleMs = this.ctx.config.news2.staleSeconds[src] * 1000;
    const keys = (p.staleKeys ??= {});
    this.ctx.clock.set((keys[src] ??= staleKey(patientId, src)), t + staleMs);
    if (!this.unscored.includes(patientId)) this.unscored.push(patientId);
  }

  /**
   * Scores, at `t`, each patient whose values were taken since the last call: the values of one
   * reading (a device message: heart rate, SpO2, respiration… at one instant) are scored
   * together, once. Scored value by value, a reading that lowers one parameter's points and
   * raises another's passes through a score of the new value of one and the old of the other,
   * which the patient never had, and a rise of band is alarmed at once.
   */
  scoreTaken(t: number): void {
    if (this.unscored.length === 0) return;
    for (const id of this.unscored) this.recompute(id, t);
    this.unscored.length = 0;
  }

  /** Forgets what a device reported for a patient (its sensor went off or poor) and re-scores. */
  dropDevice(patientId: string, deviceId: string, t: number): void {
    const p = this.patients.get(patientId);
    if (!p) return;
    for (const w of p.samples.values()) w.removeDevice(deviceId);
    for (const [src, l] of [...p.latest]) {
      if (l.deviceId !== deviceId) continue;
      const rest = p.samples.get(src);
      const last = rest?.last();
      if (rest && last) p.latest.set(src, { ts: last.ts, v: rest.median(), deviceId: last.deviceId });
      else p.latest.delete(src);
    }
    this.recompute(patientId, t);
  }

  /** Re-scores a patient at virtual time `t` (settings changed, or a value went stale). */
  recompute(patientId: string, t: number): void {
    const p = this.patient(patientId);
    const inputs = this.inputsAt(p, t);
    if (inputs === undefined && !p.last) return;
    const scale = this.ctx.settings(patientId).spo2Scale ?? 1;
    const prev = p.last;
    // the score as it stands is built only when it changed (or is asked for: `current`)
    const r = scoreNews2Totals(inputs ?? {}, scale);
    if (prev && prev.score === r.score && prev.band === r.band && prev.complete === r.complete) {
      delete p.current;
      p.currentAt = t;
      return;
    }
    const ev = this.event(patientId, inputs ?? {}, scale, t);
    p.current = ev;
    delete p.currentAt;
    p.last = ev;
    this.emit(ev);
    this.bandAlarm(ev, p);
  }

  /**
   * The fresh parameter values at `t` (none: undefined), in an object reused from call to call:
   * use it before the next call (this runs for every value of every patient).
   */
  private inputsAt(p: PatientState, t: number): News2Inputs | undefined {
    const inputs = this.scratch;
    let any = false;
    for (const [param, sources] of PARAM_SOURCES) {
      inputs[param] = undefined; // missing, unless a fresh value follows (the object keeps its shape)
      for (const s of sources) {
        const l = p.latest.get(s);
        if (!l || t - l.ts >= this.ctx.config.news2.staleSeconds[s] * 1000) continue;
        inputs[param] = l.v;
        any = true;
        break;
      }
    }
    return any ? inputs : undefined;
  }

  private event(patientId: string, inputs: News2Inputs, scale: 1 | 2, t: number): News2Event {
    const r = scoreNews2(inputs, scale);
    return { type: 'news2', ts: t, ...this.ctx.placement(patientId), patientId, score: r.score, band: r.band, complete: r.complete, missing: r.missing, parts: r.parts, spo2Scale: scale };
  }

  /**
   * A deadline of this detector fell due: a parameter went stale (`news2-stale|PATIENT|metric`),
   * or a band alarm's entry hold or clear delay ran out (`news2-alarm|PATIENT`).
   */
  due(key: string, at: number): void {
    if (key.startsWith('news2-stale|')) {
      this.recompute(key.slice('news2-stale|'.length, key.lastIndexOf('|')), at);
      return;
    }
    const patientId = key.slice('news2-alarm|'.length);
    const p = this.patients.get(patientId);
    const cur = p?.alarm;
    if (!p || !cur || !p.last) return;
    if (!cur.raised) this.raiseBand(patientId, p, cur, at);
    // held for *more* than the clear delay (due 1 ms after it): its outputs carry the instant itself
    else if (cur.clearing) this.settle(patientId, p, cur, at - 1);
  }

  /** Forgets a patient (discharged), with their pending deadlines. */
  forget(patientId: string): void {
    for (const src of SOURCES) this.ctx.clock.cancel(staleKey(patientId, src));
    this.ctx.clock.cancel(`news2-alarm|${patientId}`);
    this.patients.delete(patientId);
  }

  snapshot(): News2DetectorState {
    return [...this.entries()];
  }

  /**
   * The snapshot a patient at a time, each made when it is asked for: a save writes a patient's
   * before it makes the next (at 5,000 patients the whole took some 30 MB of objects and text).
   */
  *entries(): Generator<News2DetectorState[number]> {
    for (const [id, p] of this.patients) {
      this.current(id);
      // copies of what is kept (events and alarms are replaced, never changed in place): a deep
      // clone of every patient cost a quarter of a second at 5,000 patients
      yield [
        id,
        {
          samples: [...p.samples].map(([src, w]) => [src, w.state()]),
          latest: [...p.latest].map(([src, x]) => [src, { ...x }]),
          ...(p.alarm && { alarm: { ...p.alarm } }),
          ...(p.last && { last: p.last }),
          ...(p.current && { current: p.current }),
        },
      ];
    }
  }

  restore(s: News2DetectorState): void {
    this.patients.clear();
    for (const [id, d] of structuredClone(s)) {
      this.patients.set(id, {
        samples: new Map(d.samples.map(([src, list]) => [src, SampleWindow.from(list)])),
        latest: new Map(d.latest),
        ...(d.alarm && { alarm: d.alarm }),
        ...(d.last && { last: d.last }),
        ...(d.current && { current: d.current }),
      });
    }
  }

  /** The latest score for a patient, if any (computed at its `ts`, even if not emitted). */
  current(patientId: string): News2Event | undefined {
    const p = this.patients.get(patientId);
    if (!p || p.current || p.currentAt === undefined) return p?.current;
    p.current = this.event(patientId, this.inputsAt(p, p.currentAt) ?? {}, this.ctx.settings(patientId).spo2Scale ?? 1, p.currentAt);
    delete p.currentAt;
    return p.current;
  }

  /**
   * [NEWS2] band alarms with a hold on entry and hysteresis on leaving:
   * - first entry into an alarming band: the alarm comes once the score has stayed in alarming
   *   bands for `alarmDelaySeconds`; a rise meanwhile does not restart that hold, and the alarm
   *   raised is the band current when it ends;
   * - a rise while an alarm is up raises the higher band's alarm at once (the lower one ends,
   *   superseded);
   * - a fall needs the lower band to hold for `alarmClearDelaySeconds`; a return within it
   *   continues the same alarm. Then the lower band's alarm, if it has one, replaces it.
   */
  private bandAlarm(ev: News2Event, p: PatientState): void {
    const cfg = this.ctx.config.news2;
    const timer = `news2-alarm|${ev.patientId}`;
    const cur = p.alarm;
    const alarming = this.alarming(ev.band);
    if (!cur) {
      if (!alarming) return;
      const pending: BandAlarm = { band: ev.band, firstBand: ev.band, raised: false, clearing: false };
      p.alarm = pending;
      const delay = cfg.alarmDelaySeconds * 1000;
      if (delay <= 0) this.raiseBand(ev.patientId, p, pending, ev.ts);
      else this.ctx.clock.set(timer, ev.ts + delay);
      return;
    }
    if (!cur.raised) {
      // the entry hold keeps running from the first alarming band; a band that does not hold
      // raises nothing
      if (alarming) cur.band = ev.band;
      else {
        this.ctx.clock.cancel(timer);
        delete p.alarm;
      }
      return;
    }
    if (alarming && RANK[ev.band] > RANK[cur.band]) {
      this.ctx.clock.cancel(timer);
      this.moveTo(p, cur, ev);
      return;
    }
    if (ev.band === cur.band) {
      if (cur.clearing) {
        // back within the clear delay: the same alarm continues
        cur.clearing = false;
        this.ctx.clock.cancel(timer);
      }
      return;
    }
    if (cur.clearing) return;
    cur.clearing = true;
    // held for *more* than the clear delay: a reading at the very instant it ends (the next cuff
    // reading, at a multiple of its interval) is taken into account first
    const clearMs = cfg.alarmClearDelaySeconds * 1000;
    if (clearMs <= 0) this.settle(ev.patientId, p, cur, ev.ts);
    else this.ctx.clock.set(timer, ev.ts + clearMs + 1);
  }

  /** The entry hold ran out: the alarm of the band current now. */
  private raiseBand(patientId: string, p: PatientState, pending: BandAlarm, at: number): void {
    const now = p.last!;
    const delay = this.ctx.config.news2.alarmDelaySeconds * 1000;
    const held = delay > 0 ? (pending.band === pending.firstBand ? ` for ${secs(delay)}` : `, alarming for ${secs(delay)}`) : '';
    pending.raised = true;
    this.ctx.alarms.raise(this.condition(patientId, pending.band), at, `${describe(now)}${held}`, now.score);
  }

  /** The score held in a lower band for the clear delay: that band's alarm, or none. */
  private settle(patientId: string, p: PatientState, cur: BandAlarm, at: number): void {
    const cfg = this.ctx.config.news2;
    cur.clearing = false;
    const now = { ...p.last!, ts: at };
    const held = cfg.alarmClearDelaySeconds > 0 ? ` for ${secs(cfg.alarmClearDelaySeconds * 1000)}` : '';
    if (this.alarming(now.band)) this.moveTo(p, cur, now, held);
    else {
      delete p.alarm;
      this.ctx.alarms.clear(this.condition(patientId, cur.band), at, `now ${describe(now)}${held}`);
    }
  }

  /** Replaces the raised band alarm by the one of `ev`'s band: the new alarm first, then the old one ends. */
  private moveTo(p: PatientState, cur: BandAlarm, ev: News2Event, held = ''): void {
    const from = cur.band;
    cur.band = ev.band;
    cur.clearing = false;
    this.ctx.alarms.raise(this.condition(ev.patientId, ev.band), ev.ts, `${describe(ev)}${held}`, ev.score);
    this.ctx.alarms.clear(this.condition(ev.patientId, from), ev.ts, `now ${describe(ev)}`);
    p.alarm = cur;
  }

  private alarming(band: News2Band): boolean {
    return band !== 'none' && this.ctx.config.news2.bandPriority[band] !== null;
  }

  private condition(patientId: string, band: News2Band): AlarmCondition {
    const prio = band === 'none' ? null : this.ctx.config.news2.bandPriority[band];
    return { ...this.ctx.placement(patientId), patientId, name: `news2:${band}`, kind: 'news2', priority: prio ?? 'low' };
  }

  private patient(patientId: string): PatientState {
    let p = this.patients.get(patientId);
    if (!p) {
      p = { samples: new Map(), latest: new Map() };
      this.patients.set(patientId, p);
    }
    return p;
  }
}
