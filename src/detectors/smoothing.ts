/** Small robust statistics for smoothing noisy continuous signals. */

/**
 * Median of the values; the mean of the two middle ones for an even count.
 * @returns NaN for an empty list
 */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * Exponentially weighted moving average for irregularly spaced samples: the weight of the past
 * decays with time, not with the sample count.
 */
/** A `TimeEwma`'s state as JSON data. */
export interface TimeEwmaState {
  readonly v: number | null;
  readonly t: number;
  readonly first: number | null;
}

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
