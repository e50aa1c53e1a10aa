/**
 * Sign-in rate limit: failed attempts are counted per key (a username, or a client address) in
 * a sliding window; past the key's limit every attempt for that key is refused until old
 * failures age out. A correct password does not get through while the key is blocked, so guessing gains
 * nothing from hitting the right one by chance.
 */
export interface RateLimitOptions {
  /** Failures allowed within the window, per key. */
  readonly maxFailures: number;
  /**
   * Failures allowed per key starting with `ip:`, which may be a whole ward behind one address
   * (default 5 × maxFailures).
   */
  readonly maxFailuresPerAddress?: number;
  /** ms */
  readonly windowMs: number;
  /** Epoch-ms clock (tests). */
  readonly clock?: () => number;
}

export class SignInLimiter {
  private readonly failures = new Map<string, number[]>();
  private readonly clock: () => number;

  constructor(private readonly opts: RateLimitOptions) {
    this.clock = opts.clock ?? Date.now;
  }

  /** @returns ms until the first of `keys` may try again, or 0 when none is blocked. */
  retryAfterMs(keys: readonly string[]): number {
    const now = this.clock();
    let wait = 0;
    for (const k of keys) {
      const list = this.recent(k, now);
      const max = k.startsWith('ip:') ? (this.opts.maxFailuresPerAddress ?? 5 * this.opts.maxFailures) : this.opts.maxFailures;
      if (list.length >= max) wait = Math.max(wait, list[list.length - max]! + this.opts.windowMs - now);
    }
    return wait;
  }

  /** Counts one failed attempt against every key. */
  fail(keys: readonly string[]): void {
    const now = this.clock();
    for (const k of keys) this.failures.set(k, [...this.recent(k, now), now]);
  }

  /** Forgets a key's failures (after a successful sign-in for that username). */
  reset(key: string): void {
    this.failures.delete(key);
  }

  private recent(key: string, now: number): number[] {
    const list = (this.failures.get(key) ?? []).filter((t) => t > now - this.opts.windowMs);
    if (list.length === 0) this.failures.delete(key);
    else this.failures.set(key, list);
    return list;
  }
}
