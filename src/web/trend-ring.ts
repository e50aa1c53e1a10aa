/**
 * A fixed-size trend of one vital: the mean, lowest and highest value and count of each time
 * bucket, for the last `slots` buckets, in typed arrays (10 bytes a bucket, allocated once: the
 * mean in single precision, the lowest and highest to 0.1 of the unit, the bucket implied by the
 * slot). However long the gateway runs, a trend holds the same memory; data older than its window
 * is dropped.
 *
 * Rings made together (`TrendRing.together`: a vital's fine and coarse trend) share one buffer
 * and two views of it. A typed array costs about 100 bytes of heap besides its bytes, and a
 * buffer of its own another allocation: with five views and a buffer each, a vital's two rings
 * took 1.6 KB besides their 3.6 KB of data, and take 0.85 KB together (at 5,000 patients with
 * seven trended vitals, 56 → 30 MB).
 */
import { NO_BLOBS, type BlobReader, type BlobRef, type BlobWriter } from '../core/blobs.js';

/** One trend point: mean, lowest and highest value within the bucket starting at `t` (epoch ms). */
export interface TrendPoint {
  t: number;
  v: number;
  lo: number;
  hi: number;
  n: number;
}

/**
 * A ring as JSON data: its shape and its bytes (among the saved state's blobs, or base64): the
 * means (f32), then the lowest, highest and count of each slot (16 bits each), little-endian.
 */
export interface TrendRingState {
  readonly bucketMs: number;
  readonly slots: number;
  readonly newest: number;
  readonly data: string | BlobRef;
}

/** A ring's shape: ms a bucket covers, buckets kept. */
export interface TrendShape {
  readonly bucketMs: number;
  readonly slots: number;
}

const EMPTY = -1;
/** lo and hi are kept in tenths of the unit. */
const SCALE = 10;
const BYTES_PER_SLOT = 4 + 2 + 2 + 2;

const tenths = (v: number): number => Math.max(-32768, Math.min(32767, Math.round(v * SCALE)));

export class TrendRing {
  private readonly mean: Float32Array;
  private readonly rest: Int16Array;
  /** The means of this ring's slots are `mean[m + i]`. */
  private readonly m: number;
  /** Its lowest, highest and count (16 bits, as stored) are `rest[lo + i]`, `rest[hi + i]`, `rest[n + i]`; count 0: an empty slot. */
  private readonly lo: number;
  private readonly hi: number;
  private readonly n: number;
  /** The newest bucket number (`floor(t / bucketMs)`) seen, EMPTY before any. */
  private newest = EMPTY;

  constructor(
    /** ms a bucket covers */
    readonly bucketMs: number,
    /** buckets kept */
    readonly slots: number,
    /** where its values are kept (see `together`); by default arrays of its own */
    store: { readonly mean: Float32Array; readonly rest: Int16Array; readonly at: number } = { mean: new Float32Array(slots), rest: new Int16Array(3 * slots), at: 0 },
  ) {
    this.mean = store.mean;
    this.rest = store.rest;
    this.m = store.at;
    this.lo = 3 * store.at;
    this.hi = this.lo + slots;
    this.n = this.hi + slots;
  }

  /** Rings of the given shapes over one buffer. */
  static together(shapes: readonly TrendShape[]): TrendRing[] {
    const slots = shapes.reduce((s, x) => s + x.slots, 0);
    const buf = new ArrayBuffer(slots * BYTES_PER_SLOT);
    const mean = new Float32Array(buf, 0, slots);
    const rest = new Int16Array(buf, 4 * slots, 3 * slots);
    let at = 0;
    return shapes.map((s) => {
      const ring = new TrendRing(s.bucketMs, s.slots, { mean, rest, at });
      at += s.slots;
      return ring;
    });
  }

  /** Start of the oldest bucket the ring covers now, epoch ms (+∞ while empty). */
  get from(): number {
    return this.newest === EMPTY ? Number.POSITIVE_INFINITY : (this.newest - this.slots + 1) * this.bucketMs;
  }

  /** Adds a value at `t` (epoch ms) to its bucket; dropped when older than the window. */
  add(t: number, v: number): void {
    const b = Math.floor(t / this.bucketMs);
    if (this.newest !== EMPTY && b <= this.newest - this.slots) return;
    const { mean, rest } = this;
    if (b > this.newest) {
      // the buckets the window moves past are emptied for reuse
      const from = this.newest === EMPTY ? b : Math.max(this.newest + 1, b - this.slots + 1);
      for (let k = from; k <= b; k++) rest[this.n + (k % this.slots)] = 0;
      this.newest = b;
    }
    const i = b % this.slots;
    const n = rest[this.n + i]! & 0xffff;
    const x = tenths(v);
    if (n === 0) {
      mean[this.m + i] = v;
      rest[this.lo + i] = x;
      rest[this.hi + i] = x;
      rest[this.n + i] = 1;
      return;
    }
    const next = Math.min(n + 1, 0xffff);
    mean[this.m + i] = mean[this.m + i]! + (v - mean[this.m + i]!) / next;
    if (x < rest[this.lo + i]!) rest[this.lo + i] = x;
    if (x > rest[this.hi + i]!) rest[this.hi + i] = x;
    rest[this.n + i] = next;
  }

  /** Points of the buckets starting at or after `sinceTs` (and before `untilTs`), oldest first. */
  points(sinceTs: number, untilTs = Number.POSITIVE_INFINITY): TrendPoint[] {
    const out: TrendPoint[] = [];
    if (this.newest === EMPTY) return out;
    const { mean, rest } = this;
    const first = Math.max(this.newest - this.slots + 1, Math.ceil(sinceTs / this.bucketMs));
    for (let b = first; b <= this.newest && b * this.bucketMs < untilTs; b++) {
      const i = b % this.slots;
      const n = rest[this.n + i]! & 0xffff;
      if (n === 0) continue;
      out.push({ t: b * this.bucketMs, v: round(mean[this.m + i]!), lo: rest[this.lo + i]! / SCALE, hi: rest[this.hi + i]! / SCALE, n });
    }
    return out;
  }

  /** The ring as data; its bytes go to `blobs` when given, else into the data as base64. */
  snapshot(blobs?: BlobWriter): TrendRingState {
    const parts = (): ArrayBufferView[] => [this.mean.subarray(this.m, this.m + this.slots), this.rest.subarray(this.lo, this.lo + 3 * this.slots)];
    const data = blobs ? blobs.later(this.slots * BYTES_PER_SLOT, parts) : Buffer.concat(parts().map((p) => new Uint8Array(p.buffer, p.byteOffset, p.byteLength))).toString('base64');
    return { bucketMs: this.bucketMs, slots: this.slots, newest: this.newest, data };
  }

  /** Takes a snapshot's data in place of this ring's; one of another shape (a changed setting) is replayed into this shape. */
  load(s: TrendRingState, blobs: BlobReader = NO_BLOBS): void {
    const buf = typeof s.data === 'string' ? Buffer.from(s.data, 'base64') : blobs.get(s.data);
    if (buf.length !== s.slots * BYTES_PER_SLOT) throw new Error(`trend snapshot of ${buf.length} bytes, expected ${s.slots * BYTES_PER_SLOT}`);
    const same = s.bucketMs === this.bucketMs && s.slots === this.slots;
    const saved = same ? this : new TrendRing(s.bucketMs, s.slots);
    // copied byte for byte: the buffer's bytes need not be aligned for the typed arrays
    new Uint8Array(saved.mean.buffer, saved.mean.byteOffset + 4 * saved.m, 4 * s.slots).set(buf.subarray(0, 4 * s.slots));
    new Uint8Array(saved.rest.buffer, saved.rest.byteOffset + 2 * saved.lo, 6 * s.slots).set(buf.subarray(4 * s.slots));
    saved.newest = s.newest;
    if (same) return;
    this.rest.fill(0, this.n, this.n + this.slots);
    this.newest = EMPTY;
    for (const p of saved.points(Number.NEGATIVE_INFINITY)) this.add(p.t, p.v);
  }
}

/** A stored single-precision value as the value it stands for (`36.8`, not `36.799999237`). */
function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
