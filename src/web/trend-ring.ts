/**
 * A fixed-size trend of one vital: the mean, lowest and highest value and count of each time
 * bucket, for the last `slots` buckets, in typed arrays (8 bytes a bucket, allocated once: the
 * mean, lowest and highest to 0.1 of the unit, as the station shows them, and the count, 16 bits
 * each; the bucket implied by the slot). However long the gateway runs, a trend holds the same
 * memory; data older than its window is dropped.
 *
 * The newest bucket's mean is also kept as a float (single precision, as saved), so a bucket of
 * many values is their mean to 0.1: a running mean taken in tenths would drift by up to half a
 * tenth each value. Only a late value, into an older bucket, is averaged in from the tenths. (A
 * float mean for every bucket took 2 bytes a bucket more: 25 MB at 5,000 patients.)
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
 * A ring as JSON data: its shape and its bytes (among the saved state's blobs, or base64) as it
 * keeps them: the mean, lowest, highest and count of each slot (16 bits each, native byte order),
 * with the newest bucket's mean as a float (`mean`). Saved before `mean` (state format 3 and
 * older), the means were floats (f32) before the rest.
 */
export interface TrendRingState {
  readonly bucketMs: number;
  readonly slots: number;
  readonly newest: number;
  /** The newest bucket's mean in full; absent from the older layout. */
  readonly mean?: number;
  readonly data: string | BlobRef;
}

/** A ring's shape: ms a bucket covers, buckets kept. */
export interface TrendShape {
  readonly bucketMs: number;
  readonly slots: number;
}

const EMPTY = -1;
/** mean, lo and hi are kept in tenths of the unit. */
const SCALE = 10;
/** 16-bit stripes a ring keeps (mean, lo, hi, count), a slot each. */
const STRIPES = 4;
/** Floats a ring keeps beside its stripes: its newest bucket number and that bucket's mean. */
const HEAD = 2;
/** Bytes a slot took as saved in the older layout: the mean as a float (f32), then lo, hi and count (i16). */
const OLDER_PER_SLOT = 4 + 2 + 2 + 2;

const tenths = (v: number): number => Math.max(-32768, Math.min(32767, Math.round(v * SCALE)));

export class TrendRing {
  private rest: Int16Array;
  /** This ring's slot i has its mean, lowest, highest and count (16 bits, as stored) at `rest[m + i]`, `rest[lo + i]`, `rest[hi + i]`, `rest[n + i]`; count 0: an empty slot. */
  private m = 0;
  private lo = 0;
  private hi = 0;
  private n = 0;
  /** The newest bucket number (`floor(t / bucketMs)`) seen, EMPTY before any, is `heads[h]`; that bucket's mean in full `heads[h + 1]`. */
  private heads: Float64Array;
  private h = 0;

  constructor(
    /** ms a bucket covers */
    public bucketMs: number,
    /** buckets kept */
    public slots: number,
  ) {
    this.rest = new Int16Array(STRIPES * slots);
    this.heads = new Float64Array([EMPTY, 0]);
    this.place(bucketMs, slots, this.rest, 0, this.heads, 0);
  }

  /** Makes this ring the one of `shape` whose stripes are in `rest` from slot `at` (of `STRIPES` each), its head at `heads[h]`. */
  place(bucketMs: number, slots: number, rest: Int16Array, at: number, heads: Float64Array, h: number): this {
    this.bucketMs = bucketMs;
    this.slots = slots;
    this.rest = rest;
    this.m = STRIPES * at;
    this.lo = this.m + slots;
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
    const { rest, heads } = this;
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
      if (b === this.newest) heads[this.h + 1] = Math.fround(v);
      rest[this.m + i] = x;
      rest[this.lo + i] = x;
      rest[this.hi + i] = x;
      rest[this.n + i] = 1;
      return;
    }
    const next = Math.min(n + 1, 0xffff);
    if (b === this.newest) {
      const mean = Math.fround(heads[this.h + 1]! + (v - heads[this.h + 1]!) / next);
      heads[this.h + 1] = mean;
      rest[this.m + i] = tenths(mean);
    } else {
      const mean = rest[this.m + i]! / SCALE;
      rest[this.m + i] = tenths(mean + (v - mean) / next);
    }
    if (x < rest[this.lo + i]!) rest[this.lo + i] = x;
    if (x > rest[this.hi + i]!) rest[this.hi + i] = x;
    rest[this.n + i] = next;
  }

  /** Points of the buckets starting at or after `sinceTs` (and before `untilTs`), oldest first. */
  points(sinceTs: number, untilTs = Number.POSITIVE_INFINITY): TrendPoint[] {
    const out: TrendPoint[] = [];
    const newest = this.newest;
    if (newest === EMPTY) return out;
    const { rest } = this;
    const first = Math.max(newest - this.slots + 1, Math.ceil(sinceTs / this.bucketMs));
    for (let b = first; b <= newest && b * this.bucketMs < untilTs; b++) {
      const i = b % this.slots;
      const n = rest[this.n + i]! & 0xffff;
      if (n === 0) continue;
      out.push({ t: b * this.bucketMs, v: rest[this.m + i]! / SCALE, lo: rest[this.lo + i]! / SCALE, hi: rest[this.hi + i]! / SCALE, n });
    }
    return out;
  }

  /**
   * The ring as data. `stripes` names where the array the ring lies in (the `rest` it was placed
   * over, whole) is among the saved state's blobs: the data names the ring's part of it. Without
   * it, the ring's bytes go into the data as base64.
   */
  snapshot(stripes?: BlobRef): TrendRingState {
    const bytes = 2 * STRIPES * this.slots;
    const data = stripes ? { blob: stripes.blob + 2 * this.m, bytes } : Buffer.from(this.rest.buffer, this.rest.byteOffset + 2 * this.m, bytes).toString('base64');
    return { bucketMs: this.bucketMs, slots: this.slots, newest: this.newest, mean: this.heads[this.h + 1]!, data };
  }

  /** Takes a snapshot's data in place of this ring's; one of another shape (a changed setting) is replayed into this shape. */
  load(s: TrendRingState, blobs: BlobReader = NO_BLOBS): void {
    const buf = typeof s.data === 'string' ? Buffer.from(s.data, 'base64') : blobs.get(s.data);
    const older = s.mean === undefined;
    if (!older && !Number.isFinite(s.mean)) throw new Error(`trend snapshot whose newest mean is ${String(s.mean)}, not a number`);
    const expected = s.slots * (older ? OLDER_PER_SLOT : 2 * STRIPES);
    if (buf.length !== expected) throw new Error(`trend snapshot of ${buf.length} bytes, expected ${expected}`);
    const same = s.bucketMs === this.bucketMs && s.slots === this.slots;
    const saved = same ? this : new TrendRing(s.bucketMs, s.slots);
    // copied byte for byte: the buffer's bytes need not be aligned for typed arrays
    const stripes = new Uint8Array(saved.rest.buffer, saved.rest.byteOffset + 2 * saved.m, 2 * STRIPES * s.slots);
    if (older) {
      const means = new Float32Array(new Uint8Array(buf.subarray(0, 4 * s.slots)).buffer);
      stripes.set(buf.subarray(4 * s.slots), 2 * s.slots);
      for (let i = 0; i < s.slots; i++) saved.rest[saved.m + i] = tenths(means[i]!);
      saved.heads[saved.h + 1] = s.newest === EMPTY ? 0 : means[s.newest % s.slots]!;
    } else {
      stripes.set(buf);
      saved.heads[saved.h + 1] = s.mean!;
    }
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
 * the order of their numbers, each ring's newest bucket and its mean in full (f64 each), then
 * the mean, lowest, highest and count (i16 each) of every ring's slots.
 */
export class Trends {
  /** Bit k set: vital k has its rings here. */
  private present = 0;
  private heads: Float64Array | undefined;
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

  /**
   * Every vital's rings as data (fine first), at the vital's number (none for a vital not given
   * values). With `blobs`, all their bytes go there as one view of this patient's buffer, each
   * ring's part of it named: a save of thousands of patients holds no object for each ring until
   * the bytes are written.
   */
  snapshot(blobs?: BlobWriter): Array<TrendRingState[] | undefined> {
    const stripes = blobs && this.rest ? blobs.add(this.rest) : undefined;
    const out: Array<TrendRingState[] | undefined> = [];
    let at = 0;
    for (let k = 0; k < 32; k++) {
      if (!this.has(k)) continue;
      out[k] = this.shapes.list.map((_, r) => this.ring(at, r).snapshot(stripes));
      at++;
    }
    return out;
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
    return WORKER.place(list[r]!.bucketMs, list[r]!.slots, this.rest!, at * slots + offsets[r]!, this.heads!, HEAD * (at * list.length + r));
  }

  /** Vital `k`'s block, made (empty) if it is new. */
  private place(k: number): number {
    const at = this.blockOf(k);
    if (this.has(k)) return at;
    const rings = this.shapes.list.length;
    const slots = this.shapes.slots;
    const blocks = popcount(this.present) + 1;
    const buf = new ArrayBuffer(blocks * (8 * HEAD * rings + 2 * STRIPES * slots));
    const heads = new Float64Array(buf, 0, blocks * HEAD * rings).fill(EMPTY);
    const rest = new Int16Array(buf, 8 * HEAD * rings * blocks, STRIPES * blocks * slots);
    if (this.heads) {
      // the blocks before the new one stay where they were; those after it move up one
      const split = (a: Float64Array | Int16Array, per: number, to: Float64Array | Int16Array): void => {
        to.set(a.subarray(0, at * per));
        to.set(a.subarray(at * per), (at + 1) * per);
      };
      split(this.heads, HEAD * rings, heads);
      split(this.rest!, STRIPES * slots, rest);
    }
    this.heads = heads;
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
