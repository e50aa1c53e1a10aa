/**
 * A fixed-size trend of one vital: the mean, lowest and highest value and count of each time
 * bucket, for the last `slots` buckets, in typed arrays (18 bytes a bucket, allocated once).
 * However long the gateway runs, a trend holds the same memory; data older than its window, or
 * older than what its bucket now holds, is dropped.
 */

/** One trend point: mean, lowest and highest value within the bucket starting at `t` (epoch ms). */
export interface TrendPoint {
  t: number;
  v: number;
  lo: number;
  hi: number;
  n: number;
}

/** A ring as JSON data: its shape and its arrays (base64, little-endian as stored). */
export interface TrendRingState {
  readonly bucketMs: number;
  readonly slots: number;
  readonly newest: number;
  readonly data: string;
}

const EMPTY = -1;

export class TrendRing {
  /** Bucket number (`floor(t / bucketMs)`) held by each slot, or EMPTY. */
  private readonly bucket: Int32Array;
  private readonly mean: Float32Array;
  private readonly lo: Float32Array;
  private readonly hi: Float32Array;
  private readonly n: Uint16Array;
  /** The newest bucket number seen (EMPTY before any). */
  private newest = EMPTY;

  constructor(
    /** ms a bucket covers */
    readonly bucketMs: number,
    /** buckets kept */
    readonly slots: number,
  ) {
    this.bucket = new Int32Array(slots).fill(EMPTY);
    this.mean = new Float32Array(slots);
    this.lo = new Float32Array(slots);
    this.hi = new Float32Array(slots);
    this.n = new Uint16Array(slots);
  }

  /** Start of the oldest bucket the ring covers now, epoch ms (+∞ while empty). */
  get from(): number {
    return this.newest === EMPTY ? Number.POSITIVE_INFINITY : (this.newest - this.slots + 1) * this.bucketMs;
  }

  /** Adds a value at `t` (epoch ms) to its bucket; dropped when older than the window. */
  add(t: number, v: number): void {
    const b = Math.floor(t / this.bucketMs);
    if (this.newest !== EMPTY && b <= this.newest - this.slots) return;
    const i = b % this.slots;
    const held = this.bucket[i]!;
    if (held !== b) {
      if (held > b) return; // the slot already holds a newer bucket
      this.bucket[i] = b;
      this.mean[i] = v;
      this.lo[i] = v;
      this.hi[i] = v;
      this.n[i] = 1;
    } else {
      const n = Math.min(this.n[i]! + 1, 0xffff);
      this.mean[i] = this.mean[i]! + (v - this.mean[i]!) / n;
      if (v < this.lo[i]!) this.lo[i] = v;
      if (v > this.hi[i]!) this.hi[i] = v;
      this.n[i] = n;
    }
    if (b > this.newest) this.newest = b;
  }

  /** Points of the buckets starting at or after `sinceTs` (and before `untilTs`), oldest first. */
  points(sinceTs: number, untilTs = Number.POSITIVE_INFINITY): TrendPoint[] {
    const out: TrendPoint[] = [];
    if (this.newest === EMPTY) return out;
    const first = Math.max(this.newest - this.slots + 1, Math.ceil(sinceTs / this.bucketMs));
    for (let b = first; b <= this.newest && b * this.bucketMs < untilTs; b++) {
      const i = b % this.slots;
      if (this.bucket[i] !== b) continue;
      out.push({ t: b * this.bucketMs, v: round(this.mean[i]!), lo: round(this.lo[i]!), hi: round(this.hi[i]!), n: this.n[i]! });
    }
    return out;
  }

  snapshot(): TrendRingState {
    const parts = [this.bucket, this.mean, this.lo, this.hi, this.n].map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength));
    return { bucketMs: this.bucketMs, slots: this.slots, newest: this.newest, data: Buffer.concat(parts).toString('base64') };
  }

  /** A ring from a snapshot; one of another shape (a changed setting) is replayed into the new shape. */
  static restore(s: TrendRingState, bucketMs: number, slots: number): TrendRing {
    const saved = new TrendRing(s.bucketMs, s.slots);
    const buf = Buffer.from(s.data, 'base64');
    const n = s.slots;
    if (buf.length !== n * 18) throw new Error(`trend snapshot of ${buf.length} bytes, expected ${n * 18}`);
    let at = 0;
    const take = <T extends Int32Array | Float32Array | Uint16Array>(into: T): void => {
      new Uint8Array(into.buffer, into.byteOffset, into.byteLength).set(buf.subarray(at, at + into.byteLength));
      at += into.byteLength;
    };
    take(saved.bucket);
    take(saved.mean);
    take(saved.lo);
    take(saved.hi);
    take(saved.n);
    saved.newest = s.newest;
    if (s.bucketMs === bucketMs && s.slots === slots) return saved;
    const ring = new TrendRing(bucketMs, slots);
    for (const p of saved.points(Number.NEGATIVE_INFINITY)) ring.add(p.t, p.v);
    return ring;
  }
}

/** A stored single-precision value as the value it stands for (`36.8`, not `36.799999237`). */
function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
