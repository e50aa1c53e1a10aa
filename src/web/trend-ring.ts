/**
 * A fixed-size trend of one vital: the mean, lowest and highest value and count of each time
 * bucket, for the last `slots` buckets, in typed arrays (10 bytes a bucket, allocated once: the
 * mean in single precision, the lowest and highest to 0.1 of the unit, the bucket implied by the
 * slot). However long the gateway runs, a trend holds the same memory; data older than its window
 * is dropped.
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

/** A ring as JSON data: its shape and its arrays (little-endian as stored: among the saved state's blobs, or base64). */
export interface TrendRingState {
  readonly bucketMs: number;
  readonly slots: number;
  readonly newest: number;
  readonly data: string | BlobRef;
}

const EMPTY = -1;
/** lo and hi are kept in tenths of the unit. */
const SCALE = 10;
const BYTES_PER_SLOT = 4 + 2 + 2 + 2;

const tenths = (v: number): number => Math.max(-32768, Math.min(32767, Math.round(v * SCALE)));

export class TrendRing {
  private readonly mean: Float32Array;
  private readonly lo: Int16Array;
  private readonly hi: Int16Array;
  /** Values in the bucket; 0: an empty slot. */
  private readonly n: Uint16Array;
  /** The four arrays' bytes, one after the other (what a snapshot saves). */
  private readonly bytes: Uint8Array;
  /** The newest bucket number (`floor(t / bucketMs)`) seen, EMPTY before any. */
  private newest = EMPTY;

  constructor(
    /** ms a bucket covers */
    readonly bucketMs: number,
    /** buckets kept */
    readonly slots: number,
  ) {
    // one buffer for the four: one allocation, and one part of the saved state's blobs
    const buf = new ArrayBuffer(slots * BYTES_PER_SLOT);
    this.mean = new Float32Array(buf, 0, slots);
    this.lo = new Int16Array(buf, 4 * slots, slots);
    this.hi = new Int16Array(buf, 6 * slots, slots);
    this.n = new Uint16Array(buf, 8 * slots, slots);
    this.bytes = new Uint8Array(buf);
  }

  /** Start of the oldest bucket the ring covers now, epoch ms (+∞ while empty). */
  get from(): number {
    return this.newest === EMPTY ? Number.POSITIVE_INFINITY : (this.newest - this.slots + 1) * this.bucketMs;
  }

  /** Adds a value at `t` (epoch ms) to its bucket; dropped when older than the window. */
  add(t: number, v: number): void {
    const b = Math.floor(t / this.bucketMs);
    if (this.newest !== EMPTY && b <= this.newest - this.slots) return;
    if (b > this.newest) {
      // the buckets the window moves past are emptied for reuse
      const from = this.newest === EMPTY ? b : Math.max(this.newest + 1, b - this.slots + 1);
      for (let k = from; k <= b; k++) this.n[k % this.slots] = 0;
      this.newest = b;
    }
    const i = b % this.slots;
    const n = this.n[i]!;
    if (n === 0) {
      this.mean[i] = v;
      this.lo[i] = tenths(v);
      this.hi[i] = tenths(v);
      this.n[i] = 1;
      return;
    }
    const next = Math.min(n + 1, 0xffff);
    this.mean[i] = this.mean[i]! + (v - this.mean[i]!) / next;
    const x = tenths(v);
    if (x < this.lo[i]!) this.lo[i] = x;
    if (x > this.hi[i]!) this.hi[i] = x;
    this.n[i] = next;
  }

  /** Points of the buckets starting at or after `sinceTs` (and before `untilTs`), oldest first. */
  points(sinceTs: number, untilTs = Number.POSITIVE_INFINITY): TrendPoint[] {
    const out: TrendPoint[] = [];
    if (this.newest === EMPTY) return out;
    const first = Math.max(this.newest - this.slots + 1, Math.ceil(sinceTs / this.bucketMs));
    for (let b = first; b <= this.newest && b * this.bucketMs < untilTs; b++) {
      const i = b % this.slots;
      if (this.n[i] === 0) continue;
      out.push({ t: b * this.bucketMs, v: round(this.mean[i]!), lo: this.lo[i]! / SCALE, hi: this.hi[i]! / SCALE, n: this.n[i]! });
    }
    return out;
  }

  /** The ring as data; its arrays go to `blobs` when given, else into the data as base64. */
  snapshot(blobs?: BlobWriter): TrendRingState {
    const data = blobs ? blobs.add(this.bytes) : Buffer.from(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength).toString('base64');
    return { bucketMs: this.bucketMs, slots: this.slots, newest: this.newest, data };
  }

  /** A ring from a snapshot; one of another shape (a changed setting) is replayed into the new shape. */
  static restore(s: TrendRingState, bucketMs: number, slots: number, blobs: BlobReader = NO_BLOBS): TrendRing {
    const saved = new TrendRing(s.bucketMs, s.slots);
    const buf = typeof s.data === 'string' ? Buffer.from(s.data, 'base64') : blobs.get(s.data);
    if (buf.length !== s.slots * BYTES_PER_SLOT) throw new Error(`trend snapshot of ${buf.length} bytes, expected ${s.slots * BYTES_PER_SLOT}`);
    saved.bytes.set(buf);
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
