/**
 * The gateway's clock: wall time, made steady. Every record is stamped with it and every
 * detector deadline runs on it, so it must neither stand still nor leap while real time passes.
 *
 * The wall clock can step: NTP correcting a clock that ran fast or slow, a box without a battery
 * clock restarted at another time, a glitch of a second or two. A time line that took the wall
 * clock as it came stood still for the whole of a step back (every alarm delay and timer on the
 * ward froze, and then every device looked silent at once) and leapt over a step forward (every
 * device looked silent at once, and unacknowledged alarms went through every escalation tier).
 * Here the time line runs at real time (a monotonic clock) and moves toward the wall clock by at
 * most {@link SLEW} of real time: 10 % slower while the wall clock is behind it, 10 % faster while
 * it is ahead, until they meet; delays meanwhile run that much long or short. A wall clock more
 * than {@link FAR_MS} ahead, for {@link FAR_FOR_MS} of real time (not a glitch), is taken at once:
 * running toward it would leave stored times that far wrong for hours.
 */

/** How much slower or faster than real time the time line runs while it is off the wall clock. */
export const SLEW = 0.1;
/** A wall clock off the time line by more than this has stepped (and it is told); less is met quietly. */
export const IN_STEP_MS = 1000;
/** A wall clock this far ahead, for this long, is taken at once. */
export const FAR_MS = 10 * 60_000;
export const FAR_FOR_MS = 10_000;

export interface SteadyClockOptions {
  /** Epoch ms; `Date.now` by default. */
  readonly wall?: () => number;
  /** A monotonic clock in ms (`performance.now` by default): real time passing, whatever the wall clock does. */
  readonly mono?: () => number;
  /** The wall clock stepped, by `byMs` (negative: back), once a step; `taken`: the time line took it at once. */
  readonly onStep?: (byMs: number, taken: boolean) => void;
  /** The wall clock is in step with the time line again. */
  readonly onInStep?: () => void;
}

export class SteadyClock {
  private readonly wall: () => number;
  private readonly mono: () => number;
  private exact: number;
  private lastMono: number;
  /** Which way the wall clock is off the time line by more than IN_STEP_MS (told once a step): 1 ahead, -1 behind, 0 in step. */
  private off: -1 | 0 | 1 = 0;
  /** The time line less the wall clock at the last reading, while off it (see offsetFromWall). */
  private offset = 0;
  /** Since when (monotonic ms) the wall clock has been more than FAR_MS ahead. */
  private farSince: number | undefined;

  constructor(private readonly opts: SteadyClockOptions = {}) {
    this.wall = opts.wall ?? Date.now;
    this.mono = opts.mono ?? (() => performance.now());
    this.exact = this.wall();
    this.lastMono = this.mono();
  }

  /** The time line now, epoch ms: never before what it gave last. */
  readonly now = (): number => {
    const w = this.wall();
    const m = this.mono();
    const elapsed = Math.max(0, m - this.lastMono);
    this.lastMono = m;
    const run = this.exact + elapsed;
    const d = w - run;
    if (d > FAR_MS) this.farSince ??= m;
    else this.farSince = undefined;
    if (this.farSince !== undefined && m - this.farSince >= FAR_FOR_MS) {
      this.exact = w;
      this.farSince = undefined;
      this.stepped(d, true);
    } else if (d >= 0 && d <= IN_STEP_MS) {
      this.exact = w;
      this.inStep();
    } else if (d > 0) {
      this.exact = run + Math.min(d, elapsed * SLEW);
      this.stepped(d, false);
    } else {
      this.exact = Math.max(w, this.exact + elapsed * (1 - SLEW));
      if (-d > IN_STEP_MS) this.stepped(d, false);
      else if (w >= this.exact) this.inStep();
    }
    const t = Math.floor(this.exact);
    this.offset = this.off === 0 ? 0 : t - w;
    return t;
  };

  private stepped(byMs: number, taken: boolean): void {
    const way = byMs < 0 ? -1 : 1;
    if (taken) {
      this.off = 0;
      this.opts.onStep?.(byMs, true);
    } else if (this.off !== way) {
      this.off = way;
      this.opts.onStep?.(byMs, false);
    }
  }

  private inStep(): void {
    if (this.off === 0) return;
    this.off = 0;
    this.opts.onInStep?.();
  }

  /** Continues the time line from `t` at least (where it was before a restart). */
  notBefore(t: number): void {
    if (Number.isFinite(t) && t > this.exact) this.exact = t;
  }

  /**
   * How far the time line is off the wall clock now, ms: ahead positive, behind negative; 0 in
   * step, which is also while it meets a wall clock off by no more than IN_STEP_MS.
   */
  offsetFromWall(): number {
    this.now();
    return this.offset;
  }
}
