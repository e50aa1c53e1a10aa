/**
 * A patient's histories as the station keeps them, oldest first, in as little memory as they
 * allow. Each log starts small, doubles as entries arrive and stops at `max`, after which the
 * oldest entry gives way; `dropBefore` ages entries out by their time.
 *
 * - NEWS2 changes: 10 bytes a change in typed arrays (time, score, and band and completeness in
 *   one byte) instead of an object each.
 * - Alarm transitions: the transitions themselves (about 300 bytes each with their strings; kept
 *   as JSON text they took more).
 *
 * At 5,000 patients with every NEWS2 log full (1,000 changes each) it holds 50 MB where objects
 * took some 400 MB.
 */
import { NO_BLOBS, type BlobReader, type BlobRef, type BlobWriter } from '../core/blobs.js';
import type { AlarmTransition } from '../core/types.js';
import type { News2Band } from '../detectors/news2-score.js';

/** One NEWS2 change as the station shows it. */
export interface News2Point {
  readonly ts: number;
  readonly score: number;
  readonly band: News2Band;
  readonly complete: boolean;
}

/** Slots a log starts with: it doubles from there up to its `max`. */
const firstCapacity = (max: number): number => Math.max(1, Math.min(max, 8));

/**
 * A ring of timestamped entries whose payload a subclass keeps in its own arrays, made with
 * `firstCapacity(max)` slots and resized by `resize` as the ring grows.
 */
abstract class TimedRing<T extends { ts: number }> {
  protected ts: Float64Array;
  /** index of the oldest entry */
  private head = 0;
  private count = 0;

  constructor(
    /** most entries kept */
    readonly max: number,
  ) {
    this.ts = new Float64Array(firstCapacity(max));
  }

  get length(): number {
    return this.count;
  }

  /** Appends an entry; the oldest gives way once `max` are kept. */
  push(e: T): void {
    if (this.count === this.ts.length) {
      if (this.count < this.max) this.grow(Math.min(this.max, this.count * 2));
      else {
        this.head = (this.head + 1) % this.count;
        this.count--;
      }
    }
    const i = (this.head + this.count) % this.ts.length;
    this.ts[i] = e.ts;
    this.put(i, e);
    this.count++;
  }

  /** Drops the entries before `cutoff` (epoch ms). */
  dropBefore(cutoff: number): void {
    while (this.count > 0 && this.ts[this.head]! < cutoff) {
      this.head = (this.head + 1) % this.ts.length;
      this.count--;
    }
  }

  /** The entries at or after `sinceTs`, oldest first. */
  since(sinceTs: number): T[] {
    const out: T[] = [];
    for (let k = 0; k < this.count; k++) {
      const i = this.slot(k);
      if (this.ts[i]! >= sinceTs) out.push(this.get(i));
    }
    return out;
  }

  /** The slot of the k-th oldest entry. */
  protected slot(k: number): number {
    return (this.head + k) % this.ts.length;
  }

  /** Stores `e`'s payload at slot `i`. */
  protected abstract put(i: number, e: T): void;
  /** Reads the entry at slot `i`. */
  protected abstract get(i: number): T;
  /** Gives the payload arrays `capacity` slots, slot k taking what `from(k)` names (the old slot). */
  protected abstract resize(capacity: number, from: (k: number) => number): void;

  private grow(capacity: number): void {
    const old = this.ts;
    const at = (k: number): number => (this.head + k) % old.length;
    this.ts = new Float64Array(capacity);
    for (let k = 0; k < this.count; k++) this.ts[k] = old[at(k)]!;
    this.resize(capacity, at);
    this.head = 0;
  }
}

const BANDS: readonly News2Band[] = ['none', 'low', 'low-medium', 'medium', 'high'];
const COMPLETE = 0x80;
/** Bytes a NEWS2 change takes among the blobs: time (f64), score, band and completeness. */
const NEWS2_BYTES = 10;

/** A NEWS2 log as saved: its changes among the saved state's blobs, or (older saves) as a list. */
export type News2LogState = readonly News2Point[] | { readonly count: number; readonly data: BlobRef };

export class News2Log extends TimedRing<News2Point> {
  private score = new Uint8Array(firstCapacity(this.max));
  /** band index | COMPLETE */
  private flags = new Uint8Array(firstCapacity(this.max));

  static from(points: readonly News2Point[], max: number): News2Log {
    const log = new News2Log(max);
    for (const p of points) log.push(p);
    return log;
  }

  /** The log from `snapshot`'s data (its bytes in `blobs`). */
  static restore(s: News2LogState, max: number, blobs: BlobReader = NO_BLOBS): News2Log {
    if (Array.isArray(s)) return News2Log.from(s as readonly News2Point[], max);
    const { count, data } = s as Exclude<News2LogState, readonly News2Point[]>;
    const b = blobs.get(data);
    if (b.length !== count * NEWS2_BYTES) throw new Error(`NEWS2 log of ${b.length} bytes for ${count} changes`);
    // the times as stored (native byte order), copied to an aligned buffer
    const ts = new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + count * 8));
    const log = new News2Log(max);
    for (let k = 0; k < count; k++) {
      const f = b[count * 9 + k]!;
      log.push({ ts: ts[k]!, score: b[count * 8 + k]!, band: BANDS[f & ~COMPLETE] ?? 'none', complete: (f & COMPLETE) !== 0 });
    }
    return log;
  }

  /** The log as data, oldest first: its arrays go to `blobs` when given, else a list of changes. */
  snapshot(blobs?: BlobWriter): News2LogState {
    if (!blobs) return this.since(Number.NEGATIVE_INFINITY);
    const n = this.length;
    const ts = new Float64Array(n);
    const score = new Uint8Array(n);
    const flags = new Uint8Array(n);
    for (let k = 0; k < n; k++) {
      const i = this.slot(k);
      ts[k] = this.ts[i]!;
      score[k] = this.score[i]!;
      flags[k] = this.flags[i]!;
    }
    return { count: n, data: blobs.add(ts, score, flags) };
  }

  protected put(i: number, p: News2Point): void {
    this.score[i] = Math.max(0, Math.min(255, p.score));
    this.flags[i] = Math.max(0, BANDS.indexOf(p.band)) | (p.complete ? COMPLETE : 0);
  }

  protected get(i: number): News2Point {
    const f = this.flags[i]!;
    return { ts: this.ts[i]!, score: this.score[i]!, band: BANDS[f & ~COMPLETE] ?? 'none', complete: (f & COMPLETE) !== 0 };
  }

  protected resize(capacity: number, from: (k: number) => number): void {
    const score = new Uint8Array(capacity);
    const flags = new Uint8Array(capacity);
    for (let k = 0; k < this.length; k++) {
      score[k] = this.score[from(k)]!;
      flags[k] = this.flags[from(k)]!;
    }
    this.score = score;
    this.flags = flags;
  }
}

export class AlarmLog extends TimedRing<AlarmTransition> {
  private items = new Array<AlarmTransition>(firstCapacity(this.max));

  static from(transitions: readonly AlarmTransition[], max: number): AlarmLog {
    const log = new AlarmLog(max);
    for (const a of transitions) log.push(a);
    return log;
  }

  protected put(i: number, a: AlarmTransition): void {
    this.items[i] = a;
  }

  protected get(i: number): AlarmTransition {
    return this.items[i]!;
  }

  protected resize(capacity: number, from: (k: number) => number): void {
    const items = new Array<AlarmTransition>(capacity);
    for (let k = 0; k < this.length; k++) items[k] = this.items[from(k)]!;
    this.items = items;
  }
}
