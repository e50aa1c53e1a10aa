/**
 * Retry timing for downstream writes: exponential backoff with full jitter, and the server's
 * Retry-After when it gives one. Pure functions; randomness and time come in as arguments so
 * tests can pin them.
 */

export interface BackoffOptions {
  /** Delay ceiling for the first retry, in ms. */
  readonly baseMs: number;
  /** Upper bound of any computed delay, in ms. */
  readonly maxMs: number;
}

/** Longest Retry-After honoured, in ms: a misconfigured proxy must not park the writer for days. */
export const MAX_RETRY_AFTER_MS = 10 * 60_000;

/**
 * Full-jitter exponential backoff: a uniform draw in `[0, min(maxMs, baseMs · 2^attempt))`.
 * Spreading retries over the whole window keeps many gateways from retrying in lockstep after
 * a shared outage.
 *
 * @param attempt failed attempts so far, minus one (0 for the first retry).
 * @param random a draw in `[0, 1)`, normally `Math.random`.
 * @returns delay in ms.
 */
export function backoffDelay(attempt: number, opts: BackoffOptions, random: () => number): number {
  const exp = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.min(Math.max(attempt, 0), 52));
  return Math.floor(random() * exp);
}

/**
 * The delay before the next try: the jittered backoff, but never sooner than the server asked.
 * @param retryAfterMs the server's Retry-After in ms, when it sent one.
 * @returns delay in ms.
 */
export function retryDelay(
  attempt: number,
  opts: BackoffOptions,
  random: () => number,
  retryAfterMs?: number,
): number {
  const jittered = backoffDelay(attempt, opts, random);
  if (retryAfterMs === undefined || !(retryAfterMs > 0)) return jittered;
  return Math.max(jittered, Math.min(retryAfterMs, MAX_RETRY_AFTER_MS));
}

/**
 * Parses an HTTP Retry-After header: delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
 * @param nowMs current time in epoch ms, for the date form.
 * @returns the wait in ms, or undefined when absent or unreadable.
 */
export function parseRetryAfter(header: string | readonly string[] | undefined, nowMs: number): number | undefined {
  const value = (Array.isArray(header) ? header[0] : header) as string | undefined;
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}
