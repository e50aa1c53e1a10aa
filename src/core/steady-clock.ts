/**
 * The gateway's clock: wall time, made steady. Every record is stamped with it and every
 * detector deadline runs on it, so it must never stand still while real time passes.
 *
 * The wall clock can step back: NTP correcting a clock that ran fast, or a box without a battery
 * clock that restarts at an older time. A time line that only took the wall clock and never went
 * back (as the stamps must not) then stood still for the whole step: every alarm delay, clear
 * delay and signal-loss timer on the ward froze, and when the wall clock caught up, every device
 * looked silent at once. Here the time line runs on at real time (a monotonic clock) while the
 * wall clock is behind it, a little slower ({@link SLEW}), until the wall clock meets it; delays
 * meanwhile run that much long. A step forward is taken at once, so stored times stay true.
 */

/** How much slower than real time the time line runs while it is ahead of the wall clock. */
export const SLEW = 0.1;
/** A wall clock behind the time line by more than this has stepped back (and it is told); less is met quietly. */
export const IN_STEP_MS = 1000;

export interface SteadyClockOptions {
  /** Epoch ms; `Date.now` by default. */
  readonly wall?: () => number;
  /** A monotonic clock in ms (`performance.now` by default): real time passing, whatever the wall clock does. */
  readonly mono?: () => number;
  /** The wall clock fell behind the time line by `behindMs` (once a step). */
  readonly onStepBack?: (behindMs: number) => void;
  /** The wall clock is in step with the time line again. */
  readonly onInStep?: () => void;
}

export class SteadyClock {
  private readonly wall: () => number;
  private readonly mono: () => number;
  private exact: number;
  private lastMono: number;
  private behind = false;

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
    if (w >= run) {
      this.exact = w;
      if (this.behind) {
        this.behind = false;
        this.opts.onInStep?.();
      }
    } else {
      this.exact = Math.max(w, this.exact + elapsed * (1 - SLEW));
      if (!this.behind && run - w > IN_STEP_MS) {
        this.behind = true;
        this.opts.onStepBack?.(run - w);
      }
    }
    return Math.floor(this.exact);
  };

  /** Continues the time line from `t` at least (where it was before a restart). */
  notBefore(t: number): void {
    if (Number.isFinite(t) && t > this.exact) this.exact = t;
  }

  /** How far the time line is ahead of the wall clock now, ms (0 when in step). */
  aheadOfWall(): number {
    return Math.max(0, this.now() - this.wall());
  }
}
