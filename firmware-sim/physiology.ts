/**
 * The simulated patient: for any device time t, what a monitor would measure and the state of its
 * sensor. Deterministic for a (scenario, seed, time scale) and random-access: the sample at t does
 * not depend on which samples were asked for before, so `generate(from, to)` is pure.
 *
 * Layers, slowest first:
 * 1. Trend: baseline plus the scenario's ramps, on the scenario clock (device time × time scale).
 * 2. Drift: slow wandering, two sinusoids per parameter with seeded periods of 10–60 min.
 * 3. Respiration: respiratory sinus arrhythmia (HR rises on inspiration, falls on expiration;
 *    a few beats per minute peak to peak in adults, less with age) and a small respiratory swing
 *    in systolic pressure (normal pulsus paradoxus is under 10 mmHg).
 * 4. Measurement noise per reading.
 * 5. Motion artifacts: brief false SpO2 dips (seconds), which is what pulse oximeters do when the
 *    finger moves; the true saturation is unchanged.
 * Measurement phenomena (2–5) run on device time: a 5-s motion dip lasts 5 s whatever the clinical pace.
 */
import { createRng, deriveSeed, hashNormal } from './rng.js';
import type { Scenario } from './scenario.js';
import type { Param } from './trend.js';

export type SensorState = 'ok' | 'poor' | 'off';

/** What the device measures at one instant. Values are unrounded; encoders round as the device would. */
export interface VitalSample {
  /** Device seconds since the start of the run. */
  readonly t: number;
  /** ECG heart rate, beats per minute. */
  readonly hr: number;
  /** Pulse rate from the oximeter, beats per minute (follows HR, erratic during motion). */
  readonly pr: number;
  /** Displayed SpO2, % (includes artifact dips). */
  readonly spo2: number;
  /** True arterial saturation, %, for scoring; no device reports it. */
  readonly trueSpo2: number;
  /** Breaths per minute. */
  readonly rr: number;
  /** Body temperature, °C. */
  readonly temp: number;
  /** Systolic blood pressure, mmHg. */
  readonly sbp: number;
  /** Diastolic blood pressure, mmHg. */
  readonly dbp: number;
  /** Mean arterial pressure, mmHg. */
  readonly map: number;
  /** Perfusion index, %. */
  readonly pi: number;
  /** Device battery, %. */
  readonly battery: number;
  readonly sensor: SensorState;
  /** A motion artifact is in progress. */
  readonly artifact: boolean;
}

/** One motion artifact: a false SpO2 dip. */
export interface ArtifactEvent {
  /** Device seconds. */
  readonly start: number;
  /** Seconds. */
  readonly duration: number;
  /** Percentage points below the true SpO2 at the deepest point. */
  readonly depth: number;
  /** Whether the device flags the dip as poor signal (the rest look like valid readings). */
  readonly flagged: boolean;
}

/** Drift amplitude (peak, in the parameter's unit) and measurement noise (sd). */
const VARIABILITY: Record<Param, { drift: number; noise: number }> = {
  hr: { drift: 3, noise: 1.2 },
  spo2: { drift: 0.6, noise: 0.4 },
  rr: { drift: 1, noise: 0.7 },
  temp: { drift: 0.1, noise: 0.03 },
  sbp: { drift: 4, noise: 2.5 },
  dbp: { drift: 2.5, noise: 1.8 },
  pi: { drift: 0.4, noise: 0.1 },
  battery: { drift: 0, noise: 0 },
};

/** Artifacts are drawn per window so any time can be computed without drawing all earlier ones. */
const ARTIFACT_WINDOW_S = 600;
/** Seconds a dip takes to reach full depth and to recover: oximeters average over a few beats. */
const ARTIFACT_EDGE_S = 0.5;

export interface PatientOptions {
  readonly seed: number;
  /** Scenario seconds per device second (60 = one clinical hour per device minute). Default: the scenario's. */
  readonly timeScale?: number;
}

/** A patient following one scenario. */
export class PatientModel {
  readonly seed: number;
  readonly timeScale: number;
  private readonly drift: Record<Param, Array<{ period: number; phase: number; weight: number }>>;
  private readonly artifactCache = new Map<number, ArtifactEvent[]>();
  /** Cumulative breaths at each whole device second, grown on demand. */
  private breaths = new Float64Array(1024);
  private breathsKnown = 1;

  constructor(
    readonly scenario: Scenario,
    options: PatientOptions,
  ) {
    this.seed = options.seed >>> 0;
    this.timeScale = options.timeScale ?? scenario.timeScale;
    if (!(this.timeScale > 0)) throw new RangeError('timeScale must be > 0');
    const rng = createRng(deriveSeed(this.seed, 'drift'));
    const drift = {} as PatientModel['drift'];
    for (const p of Object.keys(VARIABILITY) as Param[]) {
      drift[p] = [0.6, 0.4].map((weight) => ({ period: rng.uniform(600, 3600), phase: rng.uniform(0, 2 * Math.PI), weight }));
    }
    this.drift = drift;
  }

  /** Scenario seconds at device time t. */
  scenarioTime(t: number): number {
    return t * this.timeScale;
  }

  /** The sample at device time t (seconds). */
  sample(t: number): VitalSample {
    const s = this.scenarioTime(t);
    const tenth = Math.round(t * 10);
    const base = (p: Param): number => this.scenario.trend.value(p, s) + this.driftAt(p, t);
    const noise = (p: Param): number => hashNormal(this.seed, 'noise', p, tenth) * VARIABILITY[p].noise;

    const rr = Math.max(4, base('rr'));
    const breath = Math.sin(2 * Math.PI * this.breathsAt(t));
    const hr = Math.max(20, base('hr') + (this.scenario.rsa / 2) * breath + noise('hr'));

    const trueSpo2 = clamp(base('spo2'), 50, 100);
    const dip = this.artifactAt(t);
    const spo2 = clamp(trueSpo2 + noise('spo2') - (dip ? dip.depthNow : 0), 40, 100);
    // Motion corrupts the pleth, so the oximeter's pulse rate wanders while the ECG rate does not.
    const pr = dip ? Math.max(20, hr + hashNormal(this.seed, 'pr-motion', tenth) * 8) : hr + noise('hr') * 0.5;

    // Systolic pressure falls a little on inspiration (negative intrathoracic pressure).
    const sbp = base('sbp') - 2 * breath + noise('sbp');
    const dbp = Math.min(sbp - 10, base('dbp') + noise('dbp'));
    // MAP ≈ DBP + (SBP − DBP) / 3 at resting heart rates.
    const map = dbp + (sbp - dbp) / 3;
    const pi = Math.max(0.02, (base('pi') + noise('pi')) * (dip ? 0.5 : 1));

    return {
      t,
      hr,
      pr,
      spo2,
      trueSpo2,
      rr: rr + noise('rr'),
      temp: base('temp') + noise('temp'),
      sbp,
      dbp,
      map,
      pi,
      battery: clamp(this.scenario.trend.value('battery', s), 0, 100),
      sensor: this.sensorAt(t, dip),
      artifact: dip !== undefined,
    };
  }

  /** Motion artifacts whose start lies in [from, to), device seconds, in time order. */
  artifactsBetween(from: number, to: number): ArtifactEvent[] {
    const out: ArtifactEvent[] = [];
    for (let k = Math.floor(from / ARTIFACT_WINDOW_S); k * ARTIFACT_WINDOW_S < to; k++) {
      for (const a of this.artifactWindow(k)) if (a.start >= from && a.start < to) out.push(a);
    }
    return out;
  }

  private sensorAt(t: number, dip: { flagged: boolean } | undefined): SensorState {
    let state: SensorState = dip?.flagged ? 'poor' : 'ok';
    for (const e of this.scenario.events) {
      if (t < e.at || t >= e.at + e.duration) continue;
      if (e.type === 'sensor-off') return 'off';
      if (e.type === 'sensor-poor') state = 'poor';
    }
    return state;
  }

  private driftAt(p: Param, t: number): number {
    const amp = VARIABILITY[p].drift;
    if (amp === 0) return 0;
    let v = 0;
    for (const c of this.drift[p]) v += c.weight * Math.sin((2 * Math.PI * t) / c.period + c.phase);
    return amp * v;
  }

  /** Breaths since t = 0: the integral of the respiratory rate, so the phase stays smooth as RR changes. */
  private breathsAt(t: number): number {
    const whole = Math.max(0, Math.floor(t));
    while (this.breathsKnown <= whole + 1) {
      if (this.breathsKnown >= this.breaths.length) {
        const grown = new Float64Array(this.breaths.length * 2);
        grown.set(this.breaths);
        this.breaths = grown;
      }
      const i = this.breathsKnown;
      this.breaths[i] = (this.breaths[i - 1] ?? 0) + this.rrTrend(i - 1) / 60;
      this.breathsKnown++;
    }
    const at = this.breaths[whole] ?? 0;
    return at + (this.rrTrend(whole) / 60) * (t - whole);
  }

  private rrTrend(t: number): number {
    return Math.max(4, this.scenario.trend.value('rr', this.scenarioTime(t)) + this.driftAt('rr', t));
  }

  private artifactAt(t: number): { depthNow: number; flagged: boolean } | undefined {
    const k = Math.floor(t / ARTIFACT_WINDOW_S);
    let best: { depthNow: number; flagged: boolean } | undefined;
    for (const w of [k - 1, k]) {
      if (w < 0) continue;
      for (const a of this.artifactWindow(w)) {
        const x = t - a.start;
        if (x < 0 || x >= a.duration) continue;
        const shape = Math.min(1, x / ARTIFACT_EDGE_S, (a.duration - x) / ARTIFACT_EDGE_S);
        const depthNow = a.depth * shape;
        if (!best || depthNow > best.depthNow) best = { depthNow, flagged: a.flagged };
      }
    }
    return best;
  }

  private artifactWindow(k: number): ArtifactEvent[] {
    const cached = this.artifactCache.get(k);
    if (cached) return cached;
    const cfg = this.scenario.artifacts;
    const rng = createRng(deriveSeed(this.seed, 'artifacts', k));
    const lambda = (cfg.ratePerHour * ARTIFACT_WINDOW_S) / 3600;
    // Knuth's Poisson draw; λ stays small (a few dozen at most per window).
    let count = 0;
    for (let p = rng.next(), limit = Math.exp(-lambda); p > limit; p *= rng.next()) count++;
    const list: ArtifactEvent[] = [];
    for (let i = 0; i < count; i++) {
      const a: ArtifactEvent = {
        start: k * ARTIFACT_WINDOW_S + rng.uniform(0, ARTIFACT_WINDOW_S),
        duration: rng.uniform(cfg.duration[0], cfg.duration[1]),
        depth: rng.uniform(cfg.depth[0], cfg.depth[1]),
        flagged: rng.next() < cfg.poorProbability,
      };
      if (a.start >= cfg.from && (cfg.until === undefined || a.start < cfg.until)) list.push(a);
    }
    list.sort((a, b) => a.start - b.start);
    if (this.artifactCache.size > 64) this.artifactCache.clear();
    this.artifactCache.set(k, list);
    return list;
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
