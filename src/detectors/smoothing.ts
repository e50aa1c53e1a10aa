/** Smoothing noisy continuous signals (the median window is sample-window.ts). */

/** A `TimeEwma`'s state as JSON data. */
export interface TimeEwmaState {
  readonly v: number | null;
  readonly t: number;
  readonly first: number | null;
}

/**
 * Exponentially weighted moving average for irregularly spaced samples: the weight of the past
 * decays with time, not with the sample count.
 */
export class TimeEwma {
  private v: number | undefined;
  private t = 0;
  private first: number | undefined;

  /** @param tauMs time constant, ms */
  constructor(private readonly tauMs: number) {}

  /** Adds a sample at `t` (epoch ms) and returns the updated average. */
  update(value: number, t: number): number {
    if (this.v === undefined) {
      this.v = value;
      this.first = t;
    } else {
      const a = 1 - Math.exp(-Math.max(0, t - this.t) / this.tauMs);
      this.v += a * (value - this.v);
    }
    this.t = t;
    return this.v;
  }

  snapshot(): TimeEwmaState {
    return { v: this.v ?? null, t: this.t, first: this.first ?? null };
  }

  static restore(tauMs: number, s: TimeEwmaState): TimeEwma {
    const e = new TimeEwma(tauMs);
    if (s.v !== null) e.v = s.v;
    e.t = s.t;
    if (s.first !== null) e.first = s.first;
    return e;
  }

  get value(): number | undefined {
    return this.v;
  }

  /** epoch ms of the first sample, if any */
  get since(): number | undefined {
    return this.first;
  }
}
