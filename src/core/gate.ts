/**
 * Bounds how many costly operations (scrypt checks of passwords and device secrets) run at once,
 * with a bounded queue behind them: a flood of attempts can neither take every core nor grow a
 * queue without end. Past the queue, {@link BusyError} answers at once.
 */

/** The gate's queue is full: try again later. */
export class BusyError extends Error {
  override readonly name = 'BusyError';
}

export class ConcurrencyGate {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  /** Most operations that ever ran at once (a bound to check from outside). */
  peak = 0;

  /**
   * @param maxConcurrent operations that run at once
   * @param maxQueued operations that may wait for a slot
   */
  constructor(
    readonly maxConcurrent: number,
    readonly maxQueued: number,
  ) {}

  /** Runs `fn` when a slot is free. @throws BusyError when the queue is full. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.maxConcurrent) {
      if (this.waiting.length >= this.maxQueued) throw new BusyError(`busy: ${this.active} running, ${this.waiting.length} waiting`);
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.active++;
    }
    this.peak = Math.max(this.peak, this.active);
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      // The slot passes straight to the next in line, so `active` never overshoots.
      if (next) next();
      else this.active--;
    }
  }

  /** Operations running now. */
  get running(): number {
    return this.active;
  }

  /** Operations waiting for a slot now. */
  get queued(): number {
    return this.waiting.length;
  }
}
