/**
 * The slow, noise-free part of a scenario: baseline plus ramps. Both the patient model and the
 * ground-truth computation read it, so "when did SpO2 truly fall below 90 %" is answered from the
 * same curve the samples are drawn around.
 */

/** Parameters a scenario can set and ramp. */
export const PARAMS = ['hr', 'spo2', 'rr', 'temp', 'sbp', 'dbp', 'pi', 'battery'] as const;
export type Param = (typeof PARAMS)[number];

/** How a ramp moves from its start value to its target. */
export type RampShape = 'linear' | 'sigmoid' | 'step';

/** One change of a parameter over scenario time. */
export interface Ramp {
  readonly param: Param;
  /** Scenario seconds at which the change starts. */
  readonly at: number;
  /** Seconds the change takes (0 = a step). */
  readonly duration: number;
  /** Value reached at `at + duration`, in the parameter's unit. */
  readonly target: number;
  readonly shape: RampShape;
}

/** A ramp with the change it applies, worked out once. */
interface PreparedRamp extends Ramp {
  readonly delta: number;
}

/** Baseline + ramps for every parameter, evaluated at any scenario time. */
export class Trend {
  private readonly ramps: ReadonlyMap<Param, readonly PreparedRamp[]>;

  constructor(
    private readonly baseline: Readonly<Record<Param, number>>,
    ramps: readonly Ramp[],
  ) {
    const byParam = new Map<Param, PreparedRamp[]>();
    // Each ramp moves the parameter from wherever the earlier ramps left it at the ramp's start
    // to its target, so ramps compose like a clinician's description ("then falls to 85").
    const sorted = [...ramps].sort((a, b) => a.at - b.at);
    for (const r of sorted) {
      const list = byParam.get(r.param) ?? [];
      const start = this.evaluate(r.param, list, r.at);
      list.push({ ...r, delta: r.target - start });
      byParam.set(r.param, list);
    }
    this.ramps = byParam;
  }

  /** The noise-free value of `param` at scenario time `s` (seconds). */
  value(param: Param, s: number): number {
    return this.evaluate(param, this.ramps.get(param) ?? [], s);
  }

  private evaluate(param: Param, list: readonly PreparedRamp[], s: number): number {
    let v = this.baseline[param];
    for (const r of list) {
      if (s < r.at) break;
      v += r.delta * progress(r, s);
    }
    return v;
  }

  /**
   * First scenario time in [from, until] where `test` holds for `param`, scanning at `step`
   * seconds; undefined when it never does.
   */
  firstTime(param: Param, test: (v: number) => boolean, from: number, until: number, step = 1): number | undefined {
    for (let s = from; s <= until; s += step) {
      if (test(this.value(param, s))) return s;
    }
    return undefined;
  }
}

/** Fraction of the ramp done at `s`, 0..1. */
function progress(r: Ramp, s: number): number {
  if (r.duration <= 0 || r.shape === 'step') return s >= r.at ? 1 : 0;
  const x = Math.min(1, Math.max(0, (s - r.at) / r.duration));
  // Smoothstep: physiological change rarely starts or stops abruptly.
  return r.shape === 'sigmoid' ? x * x * (3 - 2 * x) : x;
}
