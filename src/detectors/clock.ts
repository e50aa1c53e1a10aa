/**
 * A virtual clock with keyed deadlines. Time only moves when `advanceTo` is called (by each input's
 * `ts` or a tick), and deadlines fire in (time, scheduling order), so the same inputs always give
 * the same firings whether time advances in one step or in many.
 *
 * A deadline is data: a key and a time. When it falls due the clock calls its one `onDue(key, at)`,
 * and the owner of the key decides what to do from its own state. Nothing the clock holds is a
 * closure, so `snapshot()` captures it whole and `restore()` brings it back exactly (pending
 * deadlines, their order among ties, the time), which is what lets the gateway save its alarm
 * state and come back to it after a restart.
 */

interface Entry {
  readonly at: number;
  readonly seq: number;
  readonly key: string;
}

interface Deadline {
  /** epoch ms */
  at: number;
  /** Time of the heap entry that will wake this deadline. */
  armedAt: number;
}

/** Everything a clock holds, as plain JSON data. */
export interface ClockState {
  /** Current time, epoch ms; null before the first input (−∞). */
  readonly t: number | null;
  readonly seq: number;
  /** Heap entries `[at, seq, key]` in heap order (stale ones included: their order matters). */
  readonly heap: ReadonlyArray<readonly [number, number, string]>;
  /** Live deadlines `[key, at, armedAt]`. */
  readonly deadlines: ReadonlyArray<readonly [string, number, number]>;
}

/** Binary min-heap on (at, seq). */
class Heap {
  a: Entry[] = [];
  get size(): number {
    return this.a.length;
  }
  peek(): Entry | undefined {
    return this.a[0];
  }
  push(e: Entry): void {
    const a = this.a;
    a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }
  pop(): Entry | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && less(a[l]!, a[m]!)) m = l;
        if (r < a.length && less(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

function less(x: Entry, y: Entry): boolean {
  return x.at < y.at || (x.at === y.at && x.seq < y.seq);
}

export class VirtualClock {
  private t = Number.NEGATIVE_INFINITY;
  private seq = 0;
  private readonly heap = new Heap();
  private readonly deadlines = new Map<string, Deadline>();

  /** @param onDue called for each deadline that falls due, with `now` equal to `at` */
  constructor(private readonly onDue: (key: string, at: number) => void) {}

  /** Current virtual time, epoch ms (−∞ before the first input). */
  get now(): number {
    return this.t;
  }

  /** Pending deadlines. */
  get size(): number {
    return this.deadlines.size;
  }

  /**
   * Sets (or moves) the deadline for `key` to `at`. Moving a deadline later is cheap: the existing
   * wake-up re-arms itself.
   */
  set(key: string, at: number): void {
    const d = this.deadlines.get(key);
    if (d) {
      d.at = at;
      if (at < d.armedAt) this.arm(key, d);
      return;
    }
    const nd: Deadline = { at, armedAt: at };
    this.deadlines.set(key, nd);
    this.arm(key, nd);
  }

  /** Cancels the deadline for `key`, if any. */
  cancel(key: string): void {
    this.deadlines.delete(key);
  }

  has(key: string): boolean {
    return this.deadlines.has(key);
  }

  /** Moves time forward to `t` (never back), firing every deadline due at or before it, in order. */
  advanceTo(t: number): void {
    for (;;) {
      const top = this.heap.peek();
      if (!top || top.at > t) break;
      this.heap.pop();
      const d = this.deadlines.get(top.key);
      if (!d || d.armedAt !== top.at) continue; // cancelled, or superseded by an earlier arm
      if (this.t < top.at) this.t = top.at;
      if (d.at > top.at) {
        this.arm(top.key, d); // the deadline moved later since it was armed
        continue;
      }
      this.deadlines.delete(top.key);
      this.onDue(top.key, d.at);
    }
    if (t > this.t) this.t = t;
  }

  snapshot(): ClockState {
    return {
      t: Number.isFinite(this.t) ? this.t : null,
      seq: this.seq,
      heap: this.heap.a.map((e) => [e.at, e.seq, e.key] as const),
      deadlines: [...this.deadlines].map(([k, d]) => [k, d.at, d.armedAt] as const),
    };
  }

  /** Replaces everything the clock holds with a snapshot's. */
  restore(s: ClockState): void {
    this.t = s.t ?? Number.NEGATIVE_INFINITY;
    this.seq = s.seq;
    this.heap.a = s.heap.map(([at, seq, key]) => ({ at, seq, key }));
    this.deadlines.clear();
    for (const [k, at, armedAt] of s.deadlines) this.deadlines.set(k, { at, armedAt });
  }

  private arm(key: string, d: Deadline): void {
    d.armedAt = d.at;
    this.heap.push({ at: d.at, seq: this.seq++, key });
  }
}
