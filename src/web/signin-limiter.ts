/**
 * Sign-in rate limit: attempts are counted per client address and per username in a sliding
 * window (core/attempt-limiter.ts), before the password is checked, so concurrent sign-ins
 * cannot all be checked while the first failures are still being hashed. Past a key's limit
 * every attempt for that key is refused until old attempts age out; a correct password does not
 * get through while the key is blocked, so guessing gains nothing from hitting the right one by
 * chance. A successful sign-in takes its attempt back and forgets the username's failures.
 */
import { AttemptLimiter, type Admission, type AttemptTicket } from '../core/attempt-limiter.js';

export interface RateLimitOptions {
  /** Failed attempts allowed within the window, per username. */
  readonly maxFailures: number;
  /** Per client address, which may be a whole ward behind one address (default 5 × maxFailures). */
  readonly maxFailuresPerAddress?: number;
  /** ms */
  readonly windowMs: number;
  /** Addresses and usernames tracked at most (default 10,000). */
  readonly maxTrackedKeys?: number;
  /** Epoch-ms clock (tests). */
  readonly clock?: () => number;
}

export class SignInLimiter {
  private readonly attempts: AttemptLimiter;

  constructor(private readonly opts: RateLimitOptions) {
    this.attempts = new AttemptLimiter({ windowMs: opts.windowMs, maxKeys: opts.maxTrackedKeys ?? 10_000, ...(opts.clock ? { clock: opts.clock } : {}) });
  }

  /** Admits and counts a sign-in attempt, or refuses it (`key` starts with `ip:` or `user:`). */
  begin(ip: string, username: string): Admission {
    return this.attempts.begin([
      [`ip:${ip}`, this.opts.maxFailuresPerAddress ?? 5 * this.opts.maxFailures],
      [`user:${username}`, this.opts.maxFailures],
    ]);
  }

  /** The password was right: the attempt does not count and the username's failures are forgotten. */
  succeed(ticket: AttemptTicket, username: string): void {
    this.attempts.succeed(ticket, [`user:${username}`]);
  }

  /** The password was not checked (the checker was busy): the attempt does not count. */
  cancel(ticket: AttemptTicket): void {
    this.attempts.cancel(ticket);
  }

  /** Addresses and usernames tracked now. */
  size(): number {
    return this.attempts.size();
  }
}
