/**
 * Bearer-token guessing limit: wrong `Authorization: Bearer …` tokens are counted per client
 * address in a sliding window (core/attempt-limiter.ts), as wrong passwords are at sign-in. Past
 * the address's limit every request from it that presents a bearer token is answered 429 until
 * old failures age out; the right token does not get through while the address is blocked, so
 * guessing gains nothing from hitting it by chance. A right token does not forget the address's
 * failures (a guesser sharing an address with a real client would otherwise start over at each
 * of its calls). Other addresses, and sessions from the blocked one, are not affected. At most
 * `maxTrackedKeys` addresses are tracked; the least recently seen is forgotten first.
 */
import { AttemptLimiter, type Admission, type LimitedKey } from '../core/attempt-limiter.js';

export interface TokenLimiterOptions {
  /** Wrong tokens one address may present within the window. */
  readonly maxFailuresPerAddress: number;
  /** ms */
  readonly windowMs: number;
  /** Addresses tracked at most (default 10,000). */
  readonly maxTrackedKeys?: number;
  /** Epoch-ms clock (tests). */
  readonly clock?: () => number;
}

export class TokenLimiter {
  private readonly attempts: AttemptLimiter;

  constructor(private readonly opts: TokenLimiterOptions) {
    this.attempts = new AttemptLimiter({ windowMs: opts.windowMs, maxKeys: opts.maxTrackedKeys ?? 10_000, ...(opts.clock ? { clock: opts.clock } : {}) });
  }

  private key(ip: string): LimitedKey {
    return [`ip:${ip}`, this.opts.maxFailuresPerAddress];
  }

  /** The refusal a token from `ip` gets now (`first` for the first of its block), or null when it may be checked. */
  blocked(ip: string): (Admission & { ok: false }) | null {
    return this.attempts.blocked([this.key(ip)]);
  }

  /** Counts a wrong token from `ip`. */
  failed(ip: string): void {
    this.attempts.record([this.key(ip)]);
  }

  /** Addresses tracked now. */
  size(): number {
    return this.attempts.size();
  }
}
