/**
 * A sliding-window limit on attempts that cost something to check (a password or device secret
 * through scrypt), per key (a client address, a username). An attempt is counted when it is
 * admitted, before the check runs, so concurrent attempts cannot all pass the limit while the
 * first ones are still being checked; a success takes its own attempt back. Memory is bounded:
 * each key keeps at most its limit of timestamps, keys whose window has passed are swept, and at
 * most `maxKeys` keys are tracked (the least recently used is forgotten first), so spraying
 * usernames cannot grow the map without bound.
 */

export interface AttemptLimiterOptions {
  /** ms an attempt counts against its keys. */
  readonly windowMs: number;
  /** Keys tracked at most. */
  readonly maxKeys: number;
  /** Epoch-ms clock (tests). */
  readonly clock?: () => number;
}

/** A key and the attempts it may make within the window. */
export type LimitedKey = readonly [key: string, max: number];

/** An admitted attempt, to hand back to {@link AttemptLimiter.succeed} or {@link AttemptLimiter.cancel}. */
export interface AttemptTicket {
  readonly keys: readonly string[];
  readonly at: number;
}

export type Admission =
  | { readonly ok: true; readonly ticket: AttemptTicket }
  | {
      readonly ok: false;
      /** ms until the blocking key may try again. */
      readonly retryAfterMs: number;
      /** The key that blocks longest. */
      readonly key: string;
      /** True for the first refusal of this key's current block (worth a record; the rest are not). */
      readonly first: boolean;
    };

interface Entry {
  /** Attempt times, oldest first; at most the key's limit of them. */
  times: number[];
  /** The block last reported (its first counted attempt), so each block is reported once. */
  reported: number;
}

export class AttemptLimiter {
  private readonly entries = new Map<string, Entry>();
  private readonly clock: () => number;
  private nextSweep = 0;

  constructor(private readonly opts: AttemptLimiterOptions) {
    this.clock = opts.clock ?? Date.now;
  }

  /** Admits and counts an attempt against every key, or refuses it when any key is at its limit. */
  begin(keys: readonly LimitedKey[]): Admission {
    const refusal = this.blocked(keys);
    return refusal ?? { ok: true, ticket: this.record(keys) };
  }

  /** The refusal an attempt for `keys` would get now, or null when none is at its limit (nothing is counted). */
  blocked(keys: readonly LimitedKey[]): (Admission & { ok: false }) | null {
    const now = this.clock();
    this.sweep(now);
    let refusal: { retryAfterMs: number; key: string; entry: Entry; blockedBy: number } | undefined;
    for (const [key, max] of keys) {
      const entry = this.entries.get(key);
      if (!entry) continue;
      drop(entry, now - this.opts.windowMs);
      if (entry.times.length < max) continue;
      const blockedBy = entry.times[entry.times.length - max]!;
      const wait = blockedBy + this.opts.windowMs - now;
      if (!refusal || wait > refusal.retryAfterMs) refusal = { retryAfterMs: wait, key, entry, blockedBy };
    }
    if (!refusal) return null;
    const first = refusal.entry.reported !== refusal.blockedBy;
    refusal.entry.reported = refusal.blockedBy;
    return { ok: false, retryAfterMs: refusal.retryAfterMs, key: refusal.key, first };
  }

  /** Counts an attempt against every key (whether or not they are at their limit). */
  record(keys: readonly LimitedKey[]): AttemptTicket {
    const now = this.clock();
    for (const [key, max] of keys) {
      const entry = this.entries.get(key) ?? { times: [], reported: -1 };
      // Re-inserted so the map's order is least recently used first.
      this.entries.delete(key);
      entry.times.push(now);
      if (entry.times.length > max) entry.times.splice(0, entry.times.length - max);
      this.entries.set(key, entry);
    }
    this.evict();
    return { keys: keys.map(([k]) => k), at: now };
  }

  /** The attempt succeeded: takes it back from every key, and forgets `forget` keys altogether. */
  succeed(ticket: AttemptTicket, forget: readonly string[] = []): void {
    this.cancel(ticket);
    for (const k of forget) this.entries.delete(k);
  }

  /** The attempt was not made after all (the checker was busy): takes it back from every key. */
  cancel(ticket: AttemptTicket): void {
    for (const k of ticket.keys) {
      const entry = this.entries.get(k);
      if (!entry) continue;
      const i = entry.times.lastIndexOf(ticket.at);
      if (i >= 0) entry.times.splice(i, 1);
      if (entry.times.length === 0) this.entries.delete(k);
    }
  }

  /** Keys tracked right now (after sweeping those whose window has passed). */
  size(): number {
    this.sweep(this.clock(), true);
    return this.entries.size;
  }

  /**
   * Removes keys with no attempt left in the window; at most once per window unless forced, so a
   * flood of refused attempts does not walk the whole map each time (the cap is kept by evict).
   */
  private sweep(now: number, force = false): void {
    if (!force && now < this.nextSweep) return;
    this.nextSweep = now + this.opts.windowMs;
    const since = now - this.opts.windowMs;
    for (const [k, e] of this.entries) {
      drop(e, since);
      if (e.times.length === 0) this.entries.delete(k);
    }
  }

  /** Past `maxKeys`, forgets the least recently used keys. */
  private evict(): void {
    for (const k of this.entries.keys()) {
      if (this.entries.size <= this.opts.maxKeys) return;
      this.entries.delete(k);
    }
  }
}

/** Drops attempts at or before `since`. */
function drop(entry: Entry, since: number): void {
  let n = 0;
  while (n < entry.times.length && entry.times[n]! <= since) n++;
  if (n > 0) entry.times.splice(0, n);
}
