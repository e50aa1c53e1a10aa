/**
 * The whole detector and alarm pipeline as one pure RxJS operator, used unchanged live and in
 * replay.
 *
 * Time model
 * ----------
 * The pipeline has no clock of its own. It keeps a virtual clock that only the inputs move:
 * each input carries a time (epoch ms, `inputTs`: the gateway's receive time `rt` for device data
 * whose `ts` is the device's own clock, else `ts`), and before the input is handled the clock advances to it,
 * firing, in time order, every deadline that fell due on the way (persistence and clear delays,
 * sensor condition delays, staleness, signal loss, flap hold, escalation). A deadline fires at
 * its own due time and its outputs carry that time, however late the next input arrives. (A hold
 * that must last *more than* its delay, like the NEWS2 band clear delay, is due 1 ms after it,
 * so inputs at the very instant it ends are seen first; its outputs carry the instant itself.)
 * So:
 *
 * - timeouts fire in data time even when no more data comes for that patient: any later input,
 *   for any patient, or a `tick`, moves the clock past them;
 * - `tick` inputs only move the clock. Live, the gateway sends one a second with wall time so
 *   timeouts fire promptly; in replay there are none and the next line moves the clock. Ticks
 *   change when an output is delivered, never what it says or in which order, so identical
 *   inputs give identical outputs live and in replay;
 * - the clock never goes back: an input older than the clock is handled at the clock's time.
 *   (Live, the gateway stamps every record on one time line that never goes back, and places
 *   each tick in spool order, so no input is ever older than the clock; see ingest.ts.)
 * - deadlines still pending after the last input do not fire until something moves the clock.
 *
 * Detectors never read `Date.now()`. `detectAll(config, scheduler)` may add ticks of its own from
 * `scheduler.now()` (wall time live, virtual time under a TestScheduler).
 */
import { Observable, type OperatorFunction, type SchedulerLike } from 'rxjs';
import { ALARM_DEADLINE_PREFIX, AlarmManager, type ActiveAlarm, type AlarmManagerState } from './manager.js';
import { resolveRecipients } from './escalation.js';
import { metricInfo } from '../core/metrics.js';
import { Deferred, DeferredList, made, type Deferring } from '../core/json-stream.js';
import { observationsOf, type AlarmTransition, type CensusEntry, type ControlInput, type Observation, type PatientSettings, type Placement, type SpoolRecord, type TechnicalEvent, type WardAssignment } from '../core/types.js';
import { VirtualClock, type ClockState } from '../detectors/clock.js';
import type { DetectorConfig } from '../detectors/config.js';
import type { DetectorContext } from '../detectors/context.js';
import { LimitDetector, type LimitDetectorState } from '../detectors/limits.js';
import { News2Detector, type News2DetectorState, type News2Event } from '../detectors/news2.js';
import { TechnicalDetector, type TechnicalDetectorState } from '../detectors/technical.js';
import { TrendDetector, type TrendDetectorState } from '../detectors/trend.js';

export type { News2Event } from '../detectors/news2.js';

/** What goes into the pipeline. Every input moves the virtual clock to its time (`inputTs`). */
export type PipelineInput =
  | { readonly type: 'obs'; readonly obs: Observation }
  /**
   * The values one device message carried: one device, one patient, one instant. Taken value by
   * value like `obs` inputs, but NEWS2 scores them together, once: a score of some of the new
   * values and the rest of the old ones is a state the patient was never in.
   */
  | { readonly type: 'reading'; readonly obs: readonly Observation[] }
  | { readonly type: 'tech'; readonly event: TechnicalEvent }
  | ControlInput
  | { readonly type: 'tick'; readonly ts: number };

/** What comes out: NEWS2 changes and alarm transitions, in the order they happened. */
export type PipelineOutput = News2Event | { readonly type: 'alarm'; readonly alarm: AlarmTransition };

/**
 * The input's time on the gateway's clock, epoch ms: for device data the receive time (`rt`)
 * where the record has one, since a device's own clock may be wrong, else `ts`.
 */
export function inputTs(i: PipelineInput): number {
  switch (i.type) {
    case 'obs':
      return i.obs.rt ?? i.obs.ts;
    case 'reading': {
      const o = i.obs[0];
      return o === undefined ? Number.NEGATIVE_INFINITY : (o.rt ?? o.ts);
    }
    case 'tech':
      return i.event.rt ?? i.event.ts;
    case 'settings':
      return i.event.ts;
    default:
      return i.ts;
  }
}

/**
 * The pipeline inputs a spool record feeds, in order: a device message's values as one reading,
 * none for an alarm record (an output, not an input).
 */
export function inputsOf(r: SpoolRecord): PipelineInput[] {
  switch (r.t) {
    case 'msg':
      return [{ type: 'reading', obs: observationsOf(r.m) }];
    case 'obs':
      return [{ type: 'obs', obs: r.o }];
    case 'tech':
      return [{ type: 'tech', event: r.e }];
    case 'ctl':
      return [r.c];
    default:
      return [];
  }
}

/**
 * One running pipeline: all detectors, their state, and the alarm manager. Synchronous and
 * deterministic. The live gateway keeps one to query (`activeAlarms`) while feeding it through
 * `detectWith`; nurse actions go in as `ack`/`silence` inputs on the same stream (merge a
 * Subject), so they are ordered with the data and a recording of the inputs replays them too:
 *
 *   const pipeline = new Pipeline(config);
 *   const actions = new Subject<PipelineInput>();
 *   merge(inputs$, actions, ticks$).pipe(detectWith(pipeline)).subscribe(toSinks);
 *   if (pipeline.isAcknowledgeable(id)) actions.next({ type: 'ack', alarmId: id, by, ts: now });
 */
/**
 * A pipeline's whole state as plain JSON data, for saving it and coming back to it after a
 * restart: `Pipeline.restore(config, JSON.parse(JSON.stringify(p.snapshot())))` continues exactly
 * where `p` was.
 */
export interface PipelineState {
  /** Bumped whenever the shape changes, so an incompatible file is recognised. */
  readonly version: typeof PIPELINE_STATE_VERSION;
  readonly clock: ClockState;
  readonly manager: AlarmManagerState;
  readonly limits: LimitDetectorState;
  readonly news2: News2DetectorState;
  readonly technical: TechnicalDetectorState;
  readonly trend: TrendDetectorState;
  readonly settings: ReadonlyArray<readonly [string, PatientSettings]>;
  readonly placement: ReadonlyArray<readonly [string, Placement]>;
  readonly lastHr: ReadonlyArray<readonly [string, number]>;
  /** Each ward's caregiver assignment (absent in states saved before assignments existed). */
  readonly assignments?: ReadonlyArray<readonly [string, WardAssignment]>;
}

export const PIPELINE_STATE_VERSION = 1;

const NO_OUTPUTS: readonly PipelineOutput[] = Object.freeze([]);

export class Pipeline {
  private readonly clock = new VirtualClock((key, at) => this.due(key, at));
  private readonly manager: AlarmManager;
  private readonly limits: LimitDetector;
  private readonly news2: News2Detector;
  private readonly trend: TrendDetector;
  private readonly technical: TechnicalDetector;
  private readonly settingsBy = new Map<string, PatientSettings>();
  private readonly placementBy = new Map<string, Placement>();
  /** epoch ms of each patient's last good heart rate */
  private readonly lastHr = new Map<string, number>();
  /** Ward → who looks after its beds this shift: escalation steps name them. */
  private readonly assignments = new Map<string, WardAssignment>();
  /** What the input being pushed gave, made only when it gives something (most give nothing). */
  private out: PipelineOutput[] | undefined;

  constructor(readonly config: DetectorConfig) {
    this.manager = new AlarmManager(
      this.clock,
      config.alarms,
      (alarm) => (this.out ??= []).push({ type: 'alarm', alarm }),
      (to, where) => resolveRecipients(to, where, this.assignments),
    );
    const ctx: DetectorContext = {
      config,
      clock: this.clock,
      alarms: this.manager,
      settings: (id) => this.settingsBy.get(id) ?? {},
      placement: (id) => this.placementBy.get(id) ?? { patientId: id },
      sensorFlagged: (id) => this.technical.isFlagged(id),
    };
    this.limits = new LimitDetector(ctx);
    this.trend = new TrendDetector(ctx);
    this.news2 = new News2Detector(ctx, (e) => {
      (this.out ??= []).push(e);
      this.trend.onNews2(e);
    });
    this.technical = new TechnicalDetector(
      ctx,
      (pid, dev, t, reason) => {
        // [IEC 60601-1-8] the technical alarm is shown instead of the sensor's physiological ones
        this.limits.suppressDevice(pid, dev, t, reason);
        this.news2.dropDevice(pid, dev, t);
      },
      (pid, dev, t) => this.limits.releaseDevice(pid, dev, t),
    );
  }

  /** Virtual time, epoch ms (−∞ before the first input). */
  get now(): number {
    return this.clock.now;
  }

  /** Handles one input and returns what it caused, including deadlines that fell due before it. */
  push(input: PipelineInput): readonly PipelineOutput[] {
    this.out = undefined;
    this.clock.advanceTo(inputTs(input));
    const t = this.clock.now;
    switch (input.type) {
      case 'obs':
        this.observation(input.obs, t);
        this.news2.scoreTaken(t);
        break;
      case 'reading':
        for (const o of input.obs) this.observation(o, t);
        this.news2.scoreTaken(t);
        break;
      case 'tech':
        this.remember(input.event);
        this.technical.onEvent(input.event, t);
        break;
      case 'settings':
        this.applySettings(input.event.patientId, input.event.settings, t);
        break;
      case 'census':
        if (input.patient) this.admitted(input.patientId, input.patient, t);
        else this.discharged(input.patientId, t);
        break;
      case 'ack':
        this.manager.acknowledge(input.alarmId, input.by, t);
        break;
      case 'silence':
        this.manager.silence(input.alarmId, input.by, t, input.seconds);
        break;
      case 'assign':
        this.assignments.set(input.ward, structuredClone(input.assignment));
        break;
      case 'tick':
        break;
      case 'system': {
        const cond = { name: `system:${input.condition}`, kind: 'technical', priority: input.priority, deviceId: 'gateway' } as const;
        if (input.active) this.manager.raise(cond, t, input.reason);
        else this.manager.clear(cond, t, input.reason);
        break;
      }
    }
    const out = this.out ?? NO_OUTPUTS;
    this.out = undefined;
    return out;
  }

  /** The whole state as JSON data (see `PipelineState`). */
  snapshot(): PipelineState {
    return made(this.deferredSnapshot());
  }

  /**
   * The same, each part made when it is written (`core/json-stream.ts`), so that a save holds
   * one part's objects at a time. Written at once: the parts are of the state as it is then.
   */
  deferredSnapshot(): Deferring<PipelineState> {
    return {
      version: PIPELINE_STATE_VERSION,
      clock: new Deferred(() => this.clock.snapshot()),
      manager: new Deferred(() => this.manager.snapshot()),
      limits: new Deferred(() => this.limits.snapshot()),
      news2: new DeferredList(() => this.news2.entries()),
      technical: new Deferred(() => this.technical.snapshot()),
      trend: new Deferred(() => this.trend.snapshot()),
      settings: new Deferred(() => structuredClone([...this.settingsBy])),
      placement: new Deferred(() => structuredClone([...this.placementBy])),
      lastHr: new Deferred(() => [...this.lastHr]),
      assignments: new Deferred(() => structuredClone([...this.assignments])),
    };
  }

  /**
   * A pipeline that continues from a snapshot: the same inputs then give the same outputs as the
   * pipeline the snapshot was taken of.
   * @throws Error when the snapshot is of another version
   */
  static restore(config: DetectorConfig, s: PipelineState): Pipeline {
    if (s.version !== PIPELINE_STATE_VERSION) throw new Error(`detector state of version ${String(s.version)}; this build reads version ${PIPELINE_STATE_VERSION}`);
    const p = new Pipeline(config);
    p.clock.restore(s.clock);
    p.manager.restore(s.manager);
    p.limits.restore(s.limits);
    p.news2.restore(s.news2);
    p.technical.restore(s.technical);
    p.trend.restore(s.trend);
    for (const [k, v] of structuredClone(s.settings)) p.settingsBy.set(k, v);
    for (const [k, v] of structuredClone(s.placement)) p.placementBy.set(k, v);
    for (const [k, v] of s.lastHr) p.lastHr.set(k, v);
    for (const [k, v] of structuredClone(s.assignments ?? [])) p.assignments.set(k, v);
    return p;
  }

  /** Routes a deadline that fell due to the part that set it, by its key's prefix. */
  private due(key: string, at: number): void {
    if (key.startsWith(ALARM_DEADLINE_PREFIX)) this.manager.due(key, at);
    else if (key.startsWith('limit|')) this.limits.due(key, at);
    else if (key.startsWith('news2-')) this.news2.due(key, at);
    else if (key.startsWith('trend-')) this.trend.due(key, at);
    else if (key.startsWith('sensor|') || key.startsWith('signal-loss|')) this.technical.due(key, at);
    else throw new Error(`deadline with no owner: ${key}`);
  }

  /** Every new alarm's number is above `n` from now on (the alarm state was lost: see `AlarmManager.numberAbove`). */
  numberAlarmsAbove(n: number): void {
    this.manager.numberAbove(n);
  }

  /** Alarms currently shown, optionally for one patient or bed. */
  activeAlarms(filter?: { patientId?: string; bed?: string }): ActiveAlarm[] {
    return this.manager.activeAlarms(filter);
  }

  /** What the pipeline holds of a patient's placement and settings (to compare with the census). */
  patientEntry(patientId: string): { ward?: string; bed?: string; settings: PatientSettings } | undefined {
    const p = this.placementBy.get(patientId);
    const s = this.settingsBy.get(patientId);
    if (!p && !s) return undefined;
    return { ...(p?.ward !== undefined && { ward: p.ward }), ...(p?.bed !== undefined && { bed: p.bed }), settings: s ?? {} };
  }

  /** Patients the pipeline knows of (from data, settings or the census). */
  knownPatients(): string[] {
    return [...new Set([...this.placementBy.keys(), ...this.settingsBy.keys()])];
  }

  /** True when `alarmId` is shown and not yet acknowledged: an `ack` input for it will take effect. */
  isAcknowledgeable(alarmId: string): boolean {
    return this.manager.activeAlarms().some((a) => a.id === alarmId && !a.acknowledged);
  }

  /** Each ward's caregiver assignment, as the escalation steps resolve it. */
  assignmentsNow(): Map<string, WardAssignment> {
    return structuredClone(this.assignments);
  }

  /** The latest NEWS2 of a patient. */
  news2Of(patientId: string): News2Event | undefined {
    return this.news2.current(patientId);
  }

  private observation(obs: Observation, t: number): void {
    this.remember(obs);
    if (obs.rt !== undefined && obs.rt - obs.ts > this.config.lateReadingSeconds * 1000) {
      // sent late from the device's buffer: the device is alive, but the value is history
      this.technical.onContact(obs, t);
      return;
    }
    this.technical.onObservation(obs, t);
    // unassigned devices, doubtful values and suppressed sensors move no physiological state
    if (obs.patientId === undefined || obs.quality !== 'good' || this.technical.isSuppressed(obs.deviceId)) return;
    if (!metricInfo(obs.metric).clinical) return;
    if (obs.metric === 'hr') {
      this.lastHr.set(obs.patientId, t);
      this.limits.resetMetric(obs.patientId, 'pr', t, 'heart rate now monitored (ECG)');
    }
    // one rate, one alarm: the oximeter's pulse rate raises limit alarms only while there is no
    // fresh heart rate (the same rule NEWS2 uses for its pulse parameter)
    const hrAt = this.lastHr.get(obs.patientId);
    const hrFresh = hrAt !== undefined && t - hrAt < this.config.news2.staleSeconds.hr * 1000;
    if (obs.metric !== 'pr' || !hrFresh) this.limits.onValue(obs, t);
    this.news2.take(obs, t);
    this.trend.onValue(obs, t);
  }

  /** A patient's settings, in full: they replace the previous ones, and apply at once. */
  private applySettings(patientId: string, settings: PatientSettings, t: number): void {
    this.settingsBy.set(patientId, structuredClone(settings));
    this.limits.limitsChanged(patientId, t);
    this.news2.recompute(patientId, t);
  }

  /** The census admitted, moved or changed a patient: placement and settings as it holds them now. */
  private admitted(patientId: string, p: CensusEntry, t: number): void {
    const prev = this.placementBy.get(patientId);
    this.placementBy.set(patientId, { patientId, ward: p.ward, bed: p.bed });
    // the patient's alarms go with them to their new bed
    if (prev && (prev.ward !== p.ward || prev.bed !== p.bed)) this.manager.relocate(patientId, { ward: p.ward, bed: p.bed });
    this.applySettings(patientId, p.settings, t);
  }

  /** The patient left: their alarms end, and nothing of theirs carries over to a later admission. */
  private discharged(patientId: string, t: number): void {
    this.manager.endPatient(patientId, t, 'patient discharged');
    this.limits.forget(patientId);
    this.news2.forget(patientId);
    this.trend.forget(patientId);
    this.technical.forgetPatient(patientId);
    this.settingsBy.delete(patientId);
    this.placementBy.delete(patientId);
    this.lastHr.delete(patientId);
  }

  private remember(p: Placement): void {
    if (p.patientId === undefined) return;
    // a source that does not know the bed (e.g. a device event) keeps the one last seen
    const prev = this.placementBy.get(p.patientId);
    const ward = p.ward ?? prev?.ward;
    const bed = p.bed ?? prev?.bed;
    if (prev && prev.ward === ward && prev.bed === bed) return; // the same, as almost always
    this.placementBy.set(p.patientId, {
      patientId: p.patientId,
      ...(ward !== undefined && { ward }),
      ...(bed !== undefined && { bed }),
    });
  }

}

/** Runs inputs through an existing pipeline (so the caller can query it meanwhile). */
export function detectWith(pipeline: Pipeline, tick?: { scheduler: SchedulerLike; periodMs?: number }): OperatorFunction<PipelineInput, PipelineOutput> {
  return (source) =>
    new Observable<PipelineOutput>((sub) => {
      const feed = (i: PipelineInput): void => {
        for (const o of pipeline.push(i)) sub.next(o);
      };
      let stopped = false;
      const timer = tick?.scheduler.schedule(function (this: { schedule(s?: unknown, d?: number): void }) {
        if (stopped) return;
        feed({ type: 'tick', ts: tick.scheduler.now() });
        this.schedule(undefined, tick.periodMs ?? 1000);
      }, tick.periodMs ?? 1000);
      const inner = source.subscribe({
        next: (i) => {
          try {
            feed(i);
          } catch (err) {
            sub.error(err);
          }
        },
        error: (e) => sub.error(e),
        complete: () => sub.complete(),
      });
      return () => {
        stopped = true;
        timer?.unsubscribe();
        inner.unsubscribe();
      };
    });
}

/**
 * The pure operator: a fresh pipeline per subscription.
 * @param scheduler when given, the pipeline also ticks itself every second with `scheduler.now()`
 */
export function detectAll(config: DetectorConfig, scheduler?: SchedulerLike): OperatorFunction<PipelineInput, PipelineOutput> {
  return (source) =>
    new Observable<PipelineOutput>((sub) => detectWith(new Pipeline(config), scheduler && { scheduler })(source).subscribe(sub));
}
