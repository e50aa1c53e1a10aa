/**
 * Sustained deterioration, warned about before limits are crossed:
 *
 * - NEWS2 rise: the complete score is at least `news2Rise` points above its lowest complete value
 *   within the last `news2WindowSeconds`. Incomplete scores are left out: a parameter becoming
 *   fresh is not a deterioration. The rise must hold for `news2RiseHoldSeconds` (sustained, not a
 *   transient jump). The warning clears once the rise falls under the threshold (the score fell,
 *   or the low point left the window).
 * - EWMA shift in HR and RR: a fast average (`ewmaFastSeconds`) running at least `ewmaShift`
 *   above a slow baseline (`ewmaSlowSeconds`) that has `ewmaWarmupSeconds` of data behind it.
 *   It clears below half the shift.
 */
import type { Observation } from '../core/types.js';
import { secs, type AlarmCondition, type DetectorContext } from './context.js';
import type { News2Event } from './news2.js';
import { TimeEwma, type TimeEwmaState } from './smoothing.js';

interface News2Trend {
  /** complete scores as a step function, oldest first */
  history: { ts: number; score: number }[];
  current?: number;
  active: boolean;
  pending: boolean;
}

interface EwmaTrend {
  fast: TimeEwma;
  slow: TimeEwma;
  active: boolean;
}

/** Everything the detector holds, as JSON data. */
export interface TrendDetectorState {
  readonly news2: ReadonlyArray<readonly [string, News2Trend]>;
  readonly ewma: ReadonlyArray<readonly [string, { fast: TimeEwmaState; slow: TimeEwmaState; active: boolean }]>;
}

export class TrendDetector {
  private readonly news2 = new Map<string, News2Trend>();
  /** By `patient|metric`. */
  private readonly ewma = new Map<string, EwmaTrend>();
  /** Each patient's `ewma` keys, made once: every HR and RR value of the ward looks one up. */
  private readonly ewmaKeys = new Map<string, { readonly hr: string; readonly rr: string }>();

  constructor(private readonly ctx: DetectorContext) {}

  /** Each NEWS2 change of a patient. */
  onNews2(ev: News2Event): void {
    let s = this.news2.get(ev.patientId);
    if (!s) {
      s = { history: [], active: false, pending: false };
      this.news2.set(ev.patientId, s);
    }
    if (!ev.complete) {
      s.current = undefined;
      if (s.pending) {
        s.pending = false;
        this.ctx.clock.cancel(`trend-news2-hold|${ev.patientId}`);
      }
      return;
    }
    s.history.push({ ts: ev.ts, score: ev.score });
    s.current = ev.score;
    const win = this.ctx.config.trend.news2WindowSeconds * 1000;
    this.ctx.clock.set(`trend-news2|${ev.patientId}|${ev.ts}`, ev.ts + win);
    this.evaluate(ev.patientId, s, ev.ts);
  }

  /**
   * A deadline of this detector fell due: a score left the NEWS2 window
   * (`trend-news2|PATIENT|ts`), or a rise held for its hold time (`trend-news2-hold|PATIENT`).
   */
  due(key: string, at: number): void {
    if (key.startsWith('trend-news2-hold|')) {
      const patientId = key.slice('trend-news2-hold|'.length);
      const s = this.news2.get(patientId);
      if (s?.pending) this.raiseRise(patientId, s, at);
      return;
    }
    const patientId = key.slice('trend-news2|'.length, key.lastIndexOf('|'));
    const s = this.news2.get(patientId);
    if (s) this.evaluate(patientId, s, at);
  }

  /** Forgets a patient (discharged), with their pending deadlines. */
  forget(patientId: string): void {
    for (const h of this.news2.get(patientId)?.history ?? []) this.ctx.clock.cancel(`trend-news2|${patientId}|${h.ts}`);
    this.ctx.clock.cancel(`trend-news2-hold|${patientId}`);
    this.news2.delete(patientId);
    for (const m of ['hr', 'rr']) this.ewma.delete(`${patientId}|${m}`);
    this.ewmaKeys.delete(patientId);
  }

  snapshot(): TrendDetectorState {
    return {
      news2: structuredClone([...this.news2]),
      ewma: [...this.ewma].map(([k, e]) => [k, { fast: e.fast.snapshot(), slow: e.slow.snapshot(), active: e.active }]),
    };
  }

  restore(s: TrendDetectorState): void {
    const cfg = this.ctx.config.trend;
    this.news2.clear();
    this.ewma.clear();
    for (const [k, v] of structuredClone(s.news2)) this.news2.set(k, v);
    for (const [k, e] of s.ewma) {
      this.ewma.set(k, { fast: TimeEwma.restore(cfg.ewmaFastSeconds * 1000, e.fast), slow: TimeEwma.restore(cfg.ewmaSlowSeconds * 1000, e.slow), active: e.active });
    }
  }

  /** A good HR or RR value of a patient. */
  onValue(obs: Observation, t: number): void {
    const pid = obs.patientId;
    if (pid === undefined || (obs.metric !== 'hr' && obs.metric !== 'rr')) return;
    const cfg = this.ctx.config.trend;
    const shift = cfg.ewmaShift[obs.metric];
    if (shift === null) return;
    let keys = this.ewmaKeys.get(pid);
    if (!keys) this.ewmaKeys.set(pid, (keys = { hr: `${pid}|hr`, rr: `${pid}|rr` }));
    const key = keys[obs.metric];
    let e = this.ewma.get(key);
    if (!e) {
      e = { fast: new TimeEwma(cfg.ewmaFastSeconds * 1000), slow: new TimeEwma(cfg.ewmaSlowSeconds * 1000), active: false };
      this.ewma.set(key, e);
    }
    const fast = e.fast.update(obs.value, t);
    const slow = e.slow.update(obs.value, t);
    const since = e.slow.since ?? t;
    const diff = fast - slow;
    const metric = obs.metric;
    const label = metric === 'hr' ? 'heart rate' : 'respiratory rate';
    if (!e.active && t - since >= cfg.ewmaWarmupSeconds * 1000 && diff >= shift) {
      e.active = true;
      this.ctx.alarms.raise(this.shiftCondition(pid, metric), t, `${label} rising: recent average ${r1(fast)} vs baseline ${r1(slow)} /min`, r1(fast));
    } else if (e.active && diff < shift / 2) {
      e.active = false;
      this.ctx.alarms.clear(this.shiftCondition(pid, metric), t, `${label} back near baseline (${r1(fast)} vs ${r1(slow)} /min)`);
    }
  }

  /** The alarm condition of a sustained shift of a patient's HR or RR (built only on a transition). */
  private shiftCondition(patientId: string, metric: 'hr' | 'rr'): AlarmCondition {
    return { ...this.ctx.placement(patientId), patientId, name: `trend:${metric}`, kind: 'trend', priority: this.ctx.config.trend.priority, metric };
  }

  /** Rise of the current complete score above its low within the window ending at `t`. */
  private rise(s: News2Trend, t: number): { rise: number; min: number } | undefined {
    const from = t - this.ctx.config.trend.news2WindowSeconds * 1000;
    // keep the step in effect at the window start, drop anything older
    while (s.history.length > 1 && s.history[1]!.ts <= from) s.history.shift();
    if (s.current === undefined) return undefined;
    let min = Number.POSITIVE_INFINITY;
    for (const h of s.history) if (h.score < min) min = h.score;
    return { rise: s.current - min, min };
  }

  /** The rise held for its hold time (or needs none): the trend alarm, if the rise is still there. */
  private raiseRise(patientId: string, s: News2Trend, at: number): void {
    const cfg = this.ctx.config.trend;
    s.pending = false;
    const now = this.rise(s, at);
    if (!now || now.rise < cfg.news2Rise) return; // the low point left the window meanwhile
    s.active = true;
    const held = cfg.news2RiseHoldSeconds > 0 ? `, sustained ${secs(cfg.news2RiseHoldSeconds * 1000)}` : '';
    const mins = Math.round(cfg.news2WindowSeconds / 60);
    this.ctx.alarms.raise(this.news2Condition(patientId), at, `NEWS2 up ${now.rise} (from ${now.min} to ${s.current}) within ${mins} min${held}`, s.current);
  }

  private news2Condition(patientId: string): AlarmCondition {
    return { ...this.ctx.placement(patientId), patientId, name: 'trend:news2', kind: 'trend', priority: this.ctx.config.trend.priority };
  }

  private evaluate(patientId: string, s: News2Trend, t: number): void {
    const cfg = this.ctx.config.trend;
    const r = this.rise(s, t);
    if (!r) return;
    const { rise } = r;
    const cond = this.news2Condition(patientId);
    const mins = Math.round(cfg.news2WindowSeconds / 60);
    const timer = `trend-news2-hold|${patientId}`;
    if (rise >= cfg.news2Rise) {
      if (s.active || s.pending) return;
      if (cfg.news2RiseHoldSeconds <= 0) this.raiseRise(patientId, s, t);
      else {
        s.pending = true;
        this.ctx.clock.set(timer, t + cfg.news2RiseHoldSeconds * 1000);
      }
      return;
    }
    if (s.pending) {
      s.pending = false;
      this.ctx.clock.cancel(timer);
    }
    if (s.active) {
      s.active = false;
      this.ctx.alarms.clear(cond, t, `NEWS2 ${s.current}, no longer rising (${rise} above its ${mins}-min low)`);
    }
  }
}

function r1(x: number): number {
  return Math.round(x * 10) / 10;
}
