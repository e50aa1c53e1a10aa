/**
 * A fixed-size trend of one vital: the mean, lowest and highest value and count of each time
 * bucket, for the last `slots` buckets, in typed arrays (10 bytes a bucket, allocated once: the
 * mean in single precision, the lowest and highest to 0.1 of the unit, the bucket implied by the
 * slot). However long the gateway runs, a trend holds the same memory; data older than its window
 * is dropped.
 *
 * A patient's trends (`Trends`: every trended vital's fine and coarse ring) share one buffer,
 * with each ring's newest bucket in it too, and no object of their own: a ring is worked on
 * through a `TrendRing` placed over its part of the buffer for the moment. A typed array costs
 * about 100 bytes of heap besides its bytes, a buffer of its own another allocation and a ring
 * object 100 more: with two rings, two views and a buffer a vital, seven trended vitals took
 * 3.3 KB a patient besides their 25 KB of data (at 5,000 patients, 16 MB), and take 0.1 KB.
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
  private mean: Float32Array;
  private rest: Int16Array;
  /** The means of this ring's slots are `mean[m + i]`. */
  private m = 0;
  /** Its lowest, highest and count (16 bits, as stored) are `rest[lo + i]`, `rest[hi + i]`, `rest[n + i]`; count 0: an empty slot. */
  private lo = 0;
  private hi = 0;
  private n = 0;
  /** The newest bucket number (`floor(t / bucketMs)`) seen, EMPTY before any, is `heads[h]`. */
  private heads: Float64Array;
  private h = 0;

  constructor(
    /** ms a bucket covers */
    public bucketMs: number,
    /** buckets kept */
    public slots: number,
  ) {
    this.mean = new Float32Array(slots);
    this.rest = new Int16Array(3 * slots);
    this.heads = new Float64Array([EMPTY]);
    this.place(bucketMs, slots, this.mean, this.rest, 0, this.heads, 0);
  }

  /** Makes this ring the one of `shape` whose values are in `mean` and `rest` from slot `at`, its newest bucket in `heads[h]`. */
  place(bucketMs: number, slots: number, mean: Float32Array, rest: Int16Array, at: number, heads: Float64Array, h: number): this {
    this.bucketMs = bucketMs;
    this.slots = slots;
    this.mean = mean;
    this.rest = rest;
    this.m = at;
    this.lo = 3 * at;
    this.hi = this.lo + slots;
    this.n = this.hi + slots;
    this.heads = heads;
    this.h = h;
    return this;
  }

  private get newest(): number {
    return this.heads[this.h]!;
  }

  private set newest(b: number) {
    this.heads[this.h] = b;
  }

  /** Start of the oldest bucket the ring covers now, epoch ms (+∞ while empty). */
  get from(): number {
    return this.newest === EMPTY ? Number.POSITIVE_INFINITY : (this.newest - this.slots + 1) * this.bucketMs;
  }

  /** Adds a value at `t` (epoch ms) to its bucket; dropped when older than the window. */
  add(t: number, v: number): void {
    const b = Math.floor(t / this.bucketMs);
    const newest = this.newest;
    if (newest !== EMPTY && b <= newest - this.slots) return;
    const { mean, rest } = this;
    if (b > newest) {
      // the buckets the window moves past are emptied for reuse
      const from = newest === EMPTY ? b : Math.max(newest + 1, b - this.slots + 1);
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
    const newest = this.newest;
    if (newest === EMPTY) return out;
    const { mean, rest } = this;
    const first = Math.max(newest - this.slots + 1, Math.ceil(sinceTs / this.bucketMs));
    for (let b = first; b <= newest && b * this.bucketMs < untilTs; b++) {
      const i = b % this.slots;
      const n = rest[this.n + i]! & 0xffff;
      if (n === 0) continue;
      out.push({ t: b * this.bucketMs, v: round(mean[this.m + i]!), lo: rest[this.lo + i]! / SCALE, hi: rest[this.hi + i]! / SCALE, n });
    }
    return out;
  }

  /**
   * The ring as data; its bytes go to `blobs` when given (taken from where the ring is when they
   * are written), else into the data as base64.
   */
  snapshot(blobs?: BlobWriter): TrendRingState {
    const { mean, rest, m, lo, slots } = this;
    const parts = (): ArrayBufferView[] => [mean.subarray(m, m + slots), rest.subarray(lo, lo + 3 * slots)];
    const data = blobs ? blobs.later(slots * BYTES_PER_SLOT, parts) : Buffer.concat(parts().map((p) => new Uint8Array(p.buffer, p.byteOffset, p.byteLength))).toString('base64');
    return { bucketMs: this.bucketMs, slots, newest: this.newest, data };
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

/**
 * A patient's trends: for each vital of `0 … 31` it is given values of, a ring of each shape
 * (fine, then coarse), all in one buffer that grows by a vital's rings when a vital first comes.
 * A vital's rings are whole from its first value. The buffer holds, for the vitals present in
 * the order of their numbers, each ring's newest bucket (f64), then the means (f32) of every
 * ring's slots, then their lowest, highest and count (i16 each).
 */
export class Trends {
  /** Bit k set: vital k has its rings here. */
  private present = 0;
  private heads: Float64Array | undefined;
  private mean: Float32Array | undefined;
  private rest: Int16Array | undefined;

  constructor(private readonly shapes: TrendShapes) {}

  /** Whether vital `k` has been given a value. */
  has(k: number): boolean {
    return (this.present & (1 << k)) !== 0;
  }

  /** Adds a value of vital `k` at `t` (epoch ms) to each of its rings. */
  add(k: number, t: number, v: number): void {
    const at = this.place(k);
    for (let r = 0; r < this.shapes.list.length; r++) this.ring(at, r).add(t, v);
  }

  /**
   * Points of vital `k` since `sinceTs`, oldest first: the coarse rings' buckets up to where the
   * next finer one starts, then that one's.
   */
  points(k: number, sinceTs: number): TrendPoint[] {
    if (!this.has(k)) return [];
    const at = this.blockOf(k);
    const out: TrendPoint[] = [];
    let until = Number.POSITIVE_INFINITY;
    const parts: TrendPoint[][] = [];
    for (let r = 0; r < this.shapes.list.length; r++) {
      const ring = this.ring(at, r);
      const from = Math.max(sinceTs, ring.from);
      parts.push(ring.points(sinceTs, until));
      until = Math.min(until, from);
    }
    for (let r = parts.length - 1; r >= 0; r--) out.push(...parts[r]!);
    return out;
  }

  /** Vital `k`'s rings as data (fine first); their bytes go to `blobs` when given. */
  snapshot(k: number, blobs?: BlobWriter): TrendRingState[] {
    if (!this.has(k)) return [];
    const at = this.blockOf(k);
    return this.shapes.list.map((_, r) => this.ring(at, r).snapshot(blobs));
  }

  /** Takes vital `k`'s rings from their data (fine first); a ring not in the data stays empty. */
  load(k: number, rings: readonly (TrendRingState | undefined)[], blobs: BlobReader = NO_BLOBS): void {
    const at = this.place(k);
    rings.forEach((s, r) => s && r < this.shapes.list.length && this.ring(at, r).load(s, blobs));
  }

  /** The vital's block: how many vitals present come before it. */
  private blockOf(k: number): number {
    return popcount(this.present & ((1 << k) - 1));
  }

  /** The ring-worker placed over ring `r` of block `at`. */
  private ring(at: number, r: number): TrendRing {
    const { list, offsets, slots } = this.shapes;
    return WORKER.place(list[r]!.bucketMs, list[r]!.slots, this.mean!, this.rest!, at * slots + offsets[r]!, this.heads!, at * list.length + r);
  }

  /** Vital `k`'s block, made (empty) if it is new. */
  private place(k: number): number {
    const at = this.blockOf(k);
    if (this.has(k)) return at;
    const rings = this.shapes.list.length;
    const slots = this.shapes.slots;
    const blocks = popcount(this.present) + 1;
    const buf = new ArrayBuffer(blocks * (8 * rings + BYTES_PER_SLOT * slots));
    const heads = new Float64Array(buf, 0, blocks * rings).fill(EMPTY);
    const mean = new Float32Array(buf, 8 * rings * blocks, blocks * slots);
    const rest = new Int16Array(buf, (8 * rings + 4 * slots) * blocks, 3 * blocks * slots);
    if (this.heads) {
      // the blocks before the new one stay where they were; those after it move up one
      const split = (a: Float64Array | Float32Array | Int16Array, per: number, to: Float64Array | Float32Array | Int16Array): void => {
        to.set(a.subarray(0, at * per));
        to.set(a.subarray(at * per), (at + 1) * per);
      };
      split(this.heads, rings, heads);
      split(this.mean!, slots, mean);
      split(this.rest!, 3 * slots, rest);
    }
    this.heads = heads;
    this.mean = mean;
    this.rest = rest;
    this.present |= 1 << k;
    return at;
  }
}

/** The shapes of every patient's rings of a vital (fine first), shared by their `Trends`. */
export class TrendShapes {
  /** Slots of all the rings of a vital. */
  readonly slots: number;
  /** Where ring r's slots start among a vital's. */
  readonly offsets: readonly number[];

  constructor(readonly list: readonly TrendShape[]) {
    if (list.length === 0) throw new Error('a trend needs at least one ring');
    let at = 0;
    this.offsets = list.map((s) => ((at += s.slots), at - s.slots));
    this.slots = at;
  }
}

/**
 * The one ring object rings of `Trends` are worked on through, placed over each in turn: it is
 * used within a call and never kept, so every call can share it.
 */
const WORKER = new TrendRing(1, 1);

function popcount(x: number): number {
  let n = 0;
  for (let b = x; b !== 0; b &= b - 1) n++;
  return n;
}

/** A stored single-precision value as the value it stands for (`36.8`, not `36.799999237`). */
function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
