/**
 * Limit alarms per patient and metric. Each limit level runs its own small state machine:
 *
 *   normal ─breach─► pending ─(delay elapsed)─► alarm ─recovered─► clearing ─(clear delay)─► normal
 *
 * - breach: strictly beyond the limit (`< low`, `> high`).
 * - recovered: back inside by the hysteresis (`≥ low + h`, `≤ high − h`). Values and limits compare
 *   as the decimals they are written as (`compare`): 35.3 is at 35.1 + 0.2. Values between the limit
 *   and the hysteresis edge keep the current state, so a value oscillating around the limit
 *   neither cancels a pending breach nor clears an alarm: it gives one alarm, not many.
 * - pending ends without an alarm when the value recovers before the delay (a short dip).
 * - clearing returns to alarm as soon as a value is not recovered.
 * - due: the delay ran out while the device flagged its sensor (off or poor, not yet alarmed).
 *   Poor values confirm nothing, so the alarm waits for the next good value: raised if it is not
 *   recovered, dropped if it is.
 * - suppressed: the device's sensor condition was raised. Pending and due breaches from it are
 *   dropped; a shown alarm is held by the manager (`suppress`), and once the sensor recovers the
 *   next good value continues it silently (not recovered) or starts its clearing (recovered).
 *   No good value within `technical.signalLossSeconds` of the recovery ends it.
 * - one alarm per side: while the high-priority level (`lowHigh`/`highHigh`) is alarming, the
 *   medium level on the same side raises nothing, and an alarm it already raised ends as
 *   superseded; when the high-priority alarm clears and the medium breach persists, the medium
 *   alarm comes (back).
 *
 * Only good-quality values from an unsuppressed sensor reach this detector (see alarms/pipeline.ts):
 * [IEC 60601-1-8] a value the device marks poor or invalid moves no state.
 */
import { metricInfo } from '../core/metrics.js';
import type { AlarmPriority, Observation, PatientSettings, Placement } from '../core/types.js';
import { LIMIT_METRICS, LIMIT_RANGES, type DetectorConfig, type LimitMetric } from './config.js';
import { secs, type AlarmCondition, type DetectorContext } from './context.js';

type Level = 'low' | 'lowHigh' | 'high' | 'highHigh';
const LEVELS: readonly Level[] = ['lowHigh', 'low', 'high', 'highHigh'];

/** The other level on the same side. */
const SIBLING: Record<Level, Level> = { low: 'lowHigh', lowHigh: 'low', high: 'highHigh', highHigh: 'high' };
const SEVERE: ReadonlySet<Level> = new Set<Level>(['lowHigh', 'highHigh']);

const LEVEL_INFO: Record<Level, { side: 'low' | 'high'; priority: AlarmPriority }> = {
  low: { side: 'low', priority: 'medium' },
  lowHigh: { side: 'low', priority: 'high' },
  high: { side: 'high', priority: 'medium' },
  highHigh: { side: 'high', priority: 'high' },
};

interface LevelState {
  phase: 'pending' | 'due' | 'alarm' | 'clearing';
  /** epoch ms the current phase began */
  since: number;
  /** most extreme value since the breach began */
  extreme: number;
  /** the latest value */
  last: number;
  deviceId: string;
  cond: AlarmCondition;
  limit: number;
  /** the alarm manager has this level's alarm raised */
  shown: boolean;
  /** held while the device's sensor condition is raised, until a good value says more */
  suppressed: boolean;
  /** clearing: the value to be back at or beyond (limit and hysteresis when the clearing began) */
  edge?: number;
}

/** A patient's latest good value of a metric, as this detector took it. */
interface LatestValue {
  v: number;
  /** epoch ms (virtual time) it was taken */
  ts: number;
  deviceId: string;
}

/**
 * Everything the detector holds, as JSON data: `[patientId, [[metric:level, state], …], [[metric,
 * latest value], …]]`. (A state saved before the latest values were kept has no third element.)
 */
export type LimitDetectorState = ReadonlyArray<
  readonly [string, ReadonlyArray<readonly [string, LevelState]>, ReadonlyArray<readonly [LimitMetric, LatestValue]>?]
>;

/** Effective limits for one metric of one patient. */
export interface EffectiveLimits {
  readonly low: number | null;
  readonly lowHigh: number | null;
  readonly high: number | null;
  readonly highHigh: number | null;
  /** ms */
  readonly delayMs: number;
  /** ms */
  readonly clearDelayMs: number;
  readonly hysteresis: number;
}

/**
 * The limits in force for a patient with `settings`: ward defaults, the scale-2 SpO2 default, then
 * the patient's overrides. The one rule, for the detectors and for what the station shows.
 */
export function limitsInForce(config: DetectorConfig, settings: PatientSettings, metric: LimitMetric): EffectiveLimits {
  const base = config.limits[metric];
  const o = settings.limits?.[metric] ?? {};
  // [NEWS2] scale 2 (hypercapnic respiratory failure): target SpO2 88–92 %
  const low = metric === 'spo2' && settings.spo2Scale === 2 ? config.spo2Scale2Low : base.low;
  return {
    low: o.low ?? low,
    lowHigh: o.lowHigh ?? base.lowHigh,
    high: o.high ?? base.high,
    highHigh: o.highHigh ?? base.highHigh,
    delayMs: base.delaySeconds * 1000,
    clearDelayMs: base.clearDelaySeconds * 1000,
    hysteresis: base.hysteresis,
  };
}

/** A setting that cannot be right, where it is (`['limits', 'spo2', 'lowHigh']`) and why. */
export interface SettingsProblem {
  readonly path: readonly string[];
  readonly message: string;
}

const LIMIT_WORDS: Record<Level, string> = { low: 'low limit', lowHigh: 'high-priority low limit', high: 'high limit', highHigh: 'high-priority high limit' };

/**
 * Limits of a patient's `settings` that are out of order once merged with the ward defaults (the
 * limits in force, `limitsInForce`): a high-priority limit must lie at or beyond the medium one on
 * its side (lowHigh ≤ low, high ≤ highHigh), and every low limit below every high limit. A problem
 * is told at a limit the patient's settings set; defaults out of order among themselves are not
 * the patient's.
 */
export function limitOrderProblems(config: DetectorConfig, settings: PatientSettings): SettingsProblem[] {
  const out: SettingsProblem[] = [];
  for (const metric of LIMIT_METRICS) {
    const own = settings.limits?.[metric];
    if (own === undefined) continue;
    const l = limitsInForce(config, settings, metric);
    const unit = metricInfo(metric).unit;
    const said = (level: Level): string => `${LIMIT_WORDS[level]} ${l[level]} ${unit}${own[level] === undefined ? ' (the ward default)' : ''}`;
    // [lower, upper, may they be equal]
    const pairs: ReadonlyArray<readonly [Level, Level, boolean]> = [
      ['lowHigh', 'low', true],
      ['high', 'highHigh', true],
      ['low', 'high', false],
      ['lowHigh', 'high', false],
      ['low', 'highHigh', false],
      ['lowHigh', 'highHigh', false],
    ];
    for (const [a, b, equal] of pairs) {
      const x = l[a];
      const y = l[b];
      if (x === null || y === null) continue;
      const c = compare(x, y);
      if (c < 0 || (equal && c === 0)) continue;
      const blame = own[a] !== undefined ? a : own[b] !== undefined ? b : undefined;
      if (blame === undefined || out.some((p) => p.path[1] === metric && p.path[2] === blame)) continue; // one problem a limit
      const other = blame === a ? b : a;
      const relation = blame === a ? (equal ? 'above' : 'not below') : equal ? 'below' : 'not above';
      out.push({ path: ['limits', metric, blame], message: `${said(blame)} is ${relation} the ${said(other)}` });
    }
  }
  return out;
}

export function isLimitMetric(m: string): m is LimitMetric {
  return (LIMIT_METRICS as readonly string[]).includes(m);
}

/** `metric:level`, made once (every value of every patient looks its levels up). */
const LEVEL_KEYS = new Map(LIMIT_METRICS.map((m) => [m, new Map(LEVELS.map((l) => [l, `${m}:${l}`]))]));
const levelKey = (metric: LimitMetric, level: Level): string => LEVEL_KEYS.get(metric)!.get(level)!;

/** The deadline of a level's persistence or clear delay, or of its wait for a good value. */
const deadlineOf = (patientId: string, key: string): string => `limit|${patientId}|${key}`;

/**
 * `a` compared with `b` as the decimal numbers they are written as: negative, 0 or positive. A
 * difference within binary rounding error is none, so a limit and its hysteresis edge compare as
 * shown (35.1 + 0.2 is 35.300000000000004 in floating point; a value of 35.3 is at that edge).
 */
function compare(a: number, b: number): number {
  const d = a - b;
  return Math.abs(d) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b)) ? 0 : d;
}

/** Strictly beyond the limit on its side: a breach (a value at the limit is none). */
function beyond(side: 'low' | 'high', v: number, limit: number): boolean {
  const c = compare(v, limit);
  return side === 'low' ? c < 0 : c > 0;
}

/** The value to be back at or beyond to have recovered: the limit, inside by the hysteresis. */
function edgeOf(side: 'low' | 'high', metric: LimitMetric, limit: number, hysteresis: number): number {
  // never past what the metric can be: a SpO2 low limit of 99 with a hysteresis of 2 recovers at
  // 100, not at a 101 no value can reach (the alarm would never clear)
  const [min, max] = LIMIT_RANGES[metric];
  return side === 'low' ? Math.max(limit, Math.min(limit + hysteresis, max)) : Math.min(limit, Math.max(limit - hysteresis, min));
}

/** Back inside the limit by the hysteresis: recovered. */
function backInside(side: 'low' | 'high', metric: LimitMetric, v: number, limit: number, hysteresis: number): boolean {
  const c = compare(v, edgeOf(side, metric, limit, hysteresis));
  return side === 'low' ? c >= 0 : c <= 0;
}

/** One limit level of one patient's metric, with the limits in force, as a value reaches it. */
interface LevelAt {
  readonly patientId: string;
  readonly metric: LimitMetric;
  readonly level: Level;
  /** `metric:level` */
  readonly key: string;
  /** the level's limit */
  readonly limit: number;
  readonly lim: EffectiveLimits;
}

export class LimitDetector {
  /** patientId → `${metric}:${level}` → state (normal is absence). */
  private readonly states = new Map<string, Map<string, LevelState>>();
  /** patientId → metric → the latest good value taken, judged again when the limits change. */
  private readonly latest = new Map<string, Map<LimitMetric, LatestValue>>();
  /** patientId → metric → the limits in force, until the patient's settings change. */
  private readonly inForce = new Map<string, Map<LimitMetric, EffectiveLimits>>();

  constructor(private readonly ctx: DetectorContext) {}

  /** The limits in force for a patient (see `limitsInForce`). */
  limitsFor(patientId: string, metric: LimitMetric): EffectiveLimits {
    let m = this.inForce.get(patientId);
    if (!m) this.inForce.set(patientId, (m = new Map()));
    let l = m.get(metric);
    if (!l) m.set(metric, (l = limitsInForce(this.ctx.config, this.ctx.settings(patientId), metric)));
    return l;
  }

  /** A good value for a patient, at virtual time `t`. */
  onValue(obs: Observation, t: number): void {
    const patientId = obs.patientId;
    if (patientId === undefined || !isLimitMetric(obs.metric)) return;
    const metric = obs.metric;
    this.keepLatest(patientId, metric, obs, t);
    const lim = this.limitsFor(patientId, metric);
    const m = this.patient(patientId);
    for (const level of LEVELS) {
      const limit = lim[level];
      const key = levelKey(metric, level);
      const st = m.get(key);
      if (limit === null) {
        if (st) {
          this.end(patientId, key, st, t, `${metricInfo(metric).label} limit switched off`);
          this.promote(patientId, metric, level, t);
        }
        continue;
      }
      if (!st && !beyond(LEVEL_INFO[level].side, obs.value, limit)) continue; // normal stays normal (the common case)
      const at: LevelAt = { patientId, metric, level, key, limit, lim };
      if (st) this.follow(at, st, obs, t);
      else this.begin(at, obs.value, obs.deviceId, t);
    }
  }

  /** Keeps a patient's latest good value of a metric (updated in place: this runs for every value). */
  private keepLatest(patientId: string, metric: LimitMetric, obs: Observation, t: number): void {
    let values = this.latest.get(patientId);
    if (!values) this.latest.set(patientId, (values = new Map()));
    const l = values.get(metric);
    if (l) {
      l.v = obs.value;
      l.ts = t;
      l.deviceId = obs.deviceId;
    } else values.set(metric, { v: obs.value, ts: t, deviceId: obs.deviceId });
  }

  /** The latest good value of a metric while it is fresh at `t` (NEWS2's staleness), else undefined. */
  private freshLatest(patientId: string, metric: LimitMetric, t: number): LatestValue | undefined {
    const l = this.latest.get(patientId)?.get(metric);
    return l !== undefined && t - l.ts < this.ctx.config.news2.staleSeconds[metric] * 1000 ? l : undefined;
  }

  /**
   * The patient's limits changed (at virtual time `t`): each breach or alarm whose limit moved is
   * judged by the new limit at once. Where the latest value is still beyond it, the breach or
   * alarm goes on under the new limit (an alarm shown says the new limit); otherwise it ends,
   * saying the limit changed. A limit switched off ends its breach. Then each metric's latest good
   * value, while fresh, is judged by the new limits as if it had just come: beyond a limit where
   * nothing was under way, a breach begins (its delay starts now), so a new limit applies to a
   * manual observation taken hours apart without waiting for the next one.
   */
  limitsChanged(patientId: string, t: number): void {
    this.inForce.delete(patientId);
    const m = this.states.get(patientId);
    for (const [key, st] of m ? [...m] : []) {
      if (m!.get(key) !== st) continue; // ended meanwhile (a promotion)
      const [metric, level] = key.split(':') as [LimitMetric, Level];
      const lim = this.limitsFor(patientId, metric);
      const limit = lim[level];
      if (limit === st.limit) continue;
      const info = metricInfo(metric);
      if (limit === null) {
        this.end(patientId, key, st, t, `${info.label} limit switched off`);
        this.promote(patientId, metric, level, t);
        continue;
      }
      const side = LEVEL_INFO[level].side;
      if (beyond(side, st.last, limit)) {
        this.moveLimit({ patientId, metric, level, key, limit, lim }, st, t);
        continue;
      }
      this.end(patientId, key, st, t, `${info.label} limit changed from ${st.limit} to ${limit} ${info.unit}; latest ${st.last} is within it`);
      this.promote(patientId, metric, level, t);
    }
    for (const metric of LIMIT_METRICS) {
      const l = this.freshLatest(patientId, metric, t);
      if (l === undefined) continue;
      const lim = this.limitsFor(patientId, metric);
      for (const level of LEVELS) {
        const limit = lim[level];
        const key = levelKey(metric, level);
        if (limit === null || this.states.get(patientId)?.has(key) || !beyond(LEVEL_INFO[level].side, l.v, limit)) continue;
        this.begin({ patientId, metric, level, key, limit, lim }, l.v, l.deviceId, t);
      }
    }
  }

  /**
   * A breach or alarm goes on under a new limit that the latest value is still beyond: it rests on
   * the new limit from now on. An alarm shown says so; one clearing (recovered by the old limit,
   * not by the new one) is an alarm again.
   */
  private moveLimit(at: LevelAt, st: LevelState, t: number): void {
    const { patientId, metric, level, key, limit } = at;
    const info = metricInfo(metric);
    const old = st.limit;
    st.limit = limit;
    if (st.phase === 'clearing') {
      this.ctx.clock.cancel(deadlineOf(patientId, key));
      st.phase = 'alarm';
      st.since = t;
      delete st.edge;
    }
    if (!st.shown) return;
    const low = LEVEL_INFO[level].side === 'low';
    this.ctx.alarms.restate?.(st.cond, t, `${info.label} ${low ? 'below' : 'above'} ${limit} ${info.unit} (limit changed from ${old}; ${low ? 'lowest' : 'highest'} ${st.extreme})`, st.extreme);
  }

  /** Forgets a patient (discharged): their alarms are ended by the manager, not here. */
  forget(patientId: string): void {
    this.inForce.delete(patientId);
    this.latest.delete(patientId);
    for (const key of this.states.get(patientId)?.keys() ?? []) this.ctx.clock.cancel(deadlineOf(patientId, key));
    this.states.delete(patientId);
  }

  /** Ends every breach and alarm of one metric of a patient (another source now covers it). */
  resetMetric(patientId: string, metric: LimitMetric, t: number, reason: string): void {
    this.latest.get(patientId)?.delete(metric);
    const m = this.states.get(patientId);
    if (m === undefined || !this.watches(m, metric)) return;
    for (const [key, st] of [...m]) if (key.startsWith(`${metric}:`)) this.end(patientId, key, st, t, reason);
  }

  /**
   * Whether any level of `metric` has a breach or an alarm in `m`: looked up before anything is
   * copied, as a reset runs for every heart-rate value and almost never finds one.
   */
  private watches(m: Map<string, LevelState>, metric: LimitMetric): boolean {
    for (let i = 0; i < LEVELS.length; i++) if (m.has(levelKey(metric, LEVELS[i]!))) return true;
    return false;
  }

  /**
   * The sensor of `deviceId` has a raised sensor condition: breaches not yet alarmed are dropped,
   * alarms are held (the technical alarm is shown instead), clearing goes on.
   */
  suppressDevice(patientId: string, deviceId: string, t: number, reason: string): void {
    // its values are doubtful now: none is judged again when the limits change
    const values = this.latest.get(patientId);
    for (const [metric, l] of values ?? []) if (l.deviceId === deviceId) values!.delete(metric);
    const m = this.states.get(patientId);
    if (!m) return;
    for (const [key, st] of [...m]) {
      if (st.deviceId !== deviceId) continue;
      if (st.phase === 'pending' || st.phase === 'due') this.end(patientId, key, st, t, reason);
      else if (st.phase === 'alarm') {
        st.suppressed = true;
        if (st.shown) this.ctx.alarms.suppress(st.cond, t, reason);
      }
    }
  }

  /** The sensor of `deviceId` recovered: held alarms wait a while for a good value. */
  releaseDevice(patientId: string, deviceId: string, t: number): void {
    const m = this.states.get(patientId);
    if (!m) return;
    const waitMs = this.ctx.config.technical.signalLossSeconds * 1000;
    for (const [key, st] of m) {
      if (st.deviceId !== deviceId || !st.suppressed) continue;
      this.ctx.clock.set(deadlineOf(patientId, key), t + waitMs);
    }
  }

  /**
   * A deadline of this detector fell due (`limit|PATIENT|metric:level`). What it means follows
   * from the level's state: a held alarm that got no good value since its sensor recovered ends;
   * a pending breach raises; a clearing alarm clears.
   */
  due(deadline: string, at: number): void {
    const bar = deadline.lastIndexOf('|');
    const patientId = deadline.slice('limit|'.length, bar);
    const key = deadline.slice(bar + 1);
    const st = this.states.get(patientId)?.get(key);
    if (!st) return;
    const [metric, level] = key.split(':') as [LimitMetric, Level];
    if (st.suppressed) {
      const waitMs = this.ctx.config.technical.signalLossSeconds * 1000;
      this.end(patientId, key, st, at, `no ${metricInfo(metric).label} from ${st.deviceId} within ${secs(waitMs)} of the sensor recovering`);
    } else if (st.phase === 'pending') this.raise(patientId, metric, level, st, at);
    else if (st.phase === 'clearing') this.clear(patientId, metric, level, st, at);
  }

  snapshot(): LimitDetectorState {
    const ids = new Set([...this.states].filter(([, m]) => m.size > 0).map(([pid]) => pid));
    for (const [pid, values] of this.latest) if (values.size > 0) ids.add(pid);
    // in patient order: the maps' own orders depend on history a restored detector does not have
    return [...ids].sort().map((pid) => [pid, [...(this.states.get(pid) ?? [])].map(([k, st]) => [k, structuredClone(st)] as const), [...(this.latest.get(pid) ?? [])].map(([metric, l]) => [metric, { ...l }] as const)] as const);
  }

  restore(s: LimitDetectorState): void {
    this.states.clear();
    this.latest.clear();
    for (const [pid, levels, values] of s) {
      if (levels.length > 0) this.states.set(pid, new Map(levels.map(([k, st]) => [k, structuredClone(st)])));
      if (values) this.latest.set(pid, new Map(values.map(([metric, l]) => [metric, { ...l }])));
    }
  }

  /** The persistence delay of a breach ran out (or a due breach got its good value): the alarm. */
  private raise(patientId: string, metric: LimitMetric, level: Level, st: LevelState, at: number): void {
    if (this.ctx.sensorFlagged(st.deviceId)) {
      // the device flags its sensor: poor values confirm nothing; the next good value decides
      st.phase = 'due';
      return;
    }
    const { side } = LEVEL_INFO[level];
    const info = metricInfo(metric);
    const m = this.patient(patientId);
    st.phase = 'alarm';
    st.since = at;
    const sib = m.get(`${metric}:${SIBLING[level]}`);
    if (!SEVERE.has(level) && sib?.shown) return; // the high-priority alarm covers this side
    st.shown = true;
    const delayMs = this.ctx.config.limits[metric].delaySeconds * 1000;
    const held = delayMs > 0 ? ` for ${secs(delayMs)}` : '';
    const word = side === 'low' ? 'below' : 'above';
    this.ctx.alarms.raise(st.cond, at, `${info.label} ${word} ${st.limit} ${info.unit}${held} (${side === 'low' ? 'lowest' : 'highest'} ${st.extreme})`, st.extreme);
    if (SEVERE.has(level) && sib?.shown) {
      sib.shown = false;
      this.ctx.alarms.clear(sib.cond, at, `superseded by the high-priority alarm (${info.label} ${word} ${st.limit} ${info.unit})`);
    }
  }

  /** The value stayed recovered for the clear delay: the alarm clears. */
  private clear(patientId: string, metric: LimitMetric, level: Level, st: LevelState, at: number): void {
    const key = `${metric}:${level}`;
    this.patient(patientId).delete(key);
    const info = metricInfo(metric);
    const clearDelayMs = this.ctx.config.limits[metric].clearDelaySeconds * 1000;
    const held = clearDelayMs > 0 ? ` for ${secs(clearDelayMs)}` : '';
    const back = LEVEL_INFO[level].side === 'low' ? 'at or above' : 'at or below';
    if (st.shown) this.ctx.alarms.clear(st.cond, at, `${info.label} back ${back} ${round(st.edge ?? st.limit)} ${info.unit}${held}`);
    this.promote(patientId, metric, level, at);
  }

  /** A breach where the level was normal: pending for the persistence delay (an alarm at once without one). */
  private begin(at: LevelAt, value: number, deviceId: string, t: number): void {
    const { patientId, metric, level, key } = at;
    const placement: Placement = this.ctx.placement(patientId);
    const cond: AlarmCondition = { ...placement, patientId, name: `limit:${key}`, kind: 'limit', priority: LEVEL_INFO[level].priority, metric, deviceId };
    const st: LevelState = { phase: 'pending', since: t, extreme: value, last: value, deviceId, cond, limit: at.limit, shown: false, suppressed: false };
    this.patient(patientId).set(key, st);
    if (at.lim.delayMs <= 0) this.raise(patientId, metric, level, st, t);
    else this.ctx.clock.set(deadlineOf(patientId, key), t + at.lim.delayMs);
  }

  /** A value for a level whose breach or alarm is under way. */
  private follow(at: LevelAt, st: LevelState, obs: Observation, t: number): void {
    const { side } = LEVEL_INFO[at.level];
    const v = obs.value;
    st.deviceId = obs.deviceId;
    st.last = v;
    if (side === 'low' ? v < st.extreme : v > st.extreme) st.extreme = v;
    const recovered = backInside(side, at.metric, v, at.limit, at.lim.hysteresis);
    if (st.suppressed && this.resume(at, st, recovered, t)) return;
    this.advance(at, st, recovered, t);
  }

  /**
   * The first good value since the sensor recovered.
   * @returns true when it settles the level: still beyond the limit, the held alarm continues
   */
  private resume(at: LevelAt, st: LevelState, recovered: boolean, t: number): boolean {
    st.suppressed = false;
    this.ctx.clock.cancel(deadlineOf(at.patientId, at.key));
    if (recovered) return false;
    // still beyond the limit: the held alarm continues, nothing new is annunciated
    if (st.shown) {
      const info = metricInfo(at.metric);
      const word = LEVEL_INFO[at.level].side === 'low' ? 'below' : 'above';
      this.ctx.alarms.raise(st.cond, t, `${info.label} still ${word} ${at.limit} ${info.unit} after the sensor recovered`, st.extreme);
    }
    return true;
  }

  /** Moves the level's state machine on by one value (the diagram at the top). */
  private advance(at: LevelAt, st: LevelState, recovered: boolean, t: number): void {
    const { patientId, metric, level, key, limit, lim } = at;
    const m = this.patient(patientId);
    const deadline = deadlineOf(patientId, key);
    switch (st.phase) {
      case 'due':
        if (recovered) m.delete(key);
        else this.raise(patientId, metric, level, st, t);
        return;
      case 'pending':
        if (recovered) {
          // a dip shorter than the persistence delay raises nothing
          this.ctx.clock.cancel(deadline);
          m.delete(key);
        }
        return;
      case 'alarm':
        if (!recovered) return;
        st.phase = 'clearing';
        st.since = t;
        st.edge = edgeOf(LEVEL_INFO[level].side, metric, limit, lim.hysteresis);
        if (lim.clearDelayMs <= 0) this.clear(patientId, metric, level, st, t);
        else this.ctx.clock.set(deadline, t + lim.clearDelayMs);
        return;
      case 'clearing':
        if (recovered) return;
        // not recovered after all: the alarm simply continues
        this.ctx.clock.cancel(deadline);
        st.phase = 'alarm';
        st.since = t;
        delete st.edge;
        if (!SEVERE.has(level)) this.promote(patientId, metric, level, t);
        return;
    }
  }

  private end(patientId: string, key: string, st: LevelState, t: number, reason: string): void {
    this.ctx.clock.cancel(deadlineOf(patientId, key));
    this.patient(patientId).delete(key);
    if (st.shown) this.ctx.alarms.clear(st.cond, t, reason);
  }

  /**
   * Shows the medium alarm of a side when its breach persists (phase `alarm`) and no
   * high-priority alarm covers the side: after the high-priority level ends, or on a relapse.
   * @param level either level of the side
   */
  private promote(patientId: string, metric: LimitMetric, level: Level, t: number): void {
    const mildLevel = SEVERE.has(level) ? SIBLING[level] : level;
    const m = this.patient(patientId);
    const mild = m.get(`${metric}:${mildLevel}`);
    if (!mild || mild.phase !== 'alarm' || mild.shown || m.get(`${metric}:${SIBLING[mildLevel]}`)?.shown) return;
    mild.shown = true;
    const info = metricInfo(metric);
    const low = LEVEL_INFO[mildLevel].side === 'low';
    this.ctx.alarms.raise(mild.cond, t, `${info.label} still ${low ? 'below' : 'above'} ${mild.limit} ${info.unit} (${low ? 'lowest' : 'highest'} ${mild.extreme})`, mild.extreme);
  }

  private patient(patientId: string): Map<string, LevelState> {
    let m = this.states.get(patientId);
    if (!m) {
      m = new Map();
      this.states.set(patientId, m);
    }
    return m;
  }
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
