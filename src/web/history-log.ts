/**
 * A patient's histories as the station keeps them, oldest first, in as little memory as they
 * allow. Each log starts small, doubles as entries arrive and stops at `max`, after which the
 * oldest entry gives way; `dropBefore` ages entries out by their time.
 *
 * - NEWS2 changes: 6 bytes a change in typed arrays (time as a 32-bit offset, score, and band
 *   and completeness in one byte) instead of an object each.
 * - Alarm transitions: UTF-8 JSON text in one buffer per log, about 120 bytes a transition with
 *   its time and its share of the buffer, where an object with its strings took about 300.
 *
 * At 5,000 patients with every log full (1,000 NEWS2 changes and 100 alarm transitions each)
 * they hold 92 MB (31 and 61), where objects took some 530 MB.
 */
import { NO_BLOBS, type BlobReader, type BlobRef, type BlobSource, type BlobWriter } from '../core/blobs.js';
import type { AlarmKind, AlarmPriority, AlarmState, AlarmTransition } from '../core/types.js';
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
 *
 * Times are kept as 32-bit offsets in ms from a base (4 bytes an entry where a float takes 8)
 * while every time held is a whole ms within 24 days of the base: the base moves to the oldest
 * entry when a new time is too far off, and a time that still does not fit (a fraction of a ms,
 * or entries more than 24 days apart) turns the ring to floats for good. Either way a time reads
 * back exactly as it was given.
 */
abstract class TimedRing<T extends { ts: number }> {
  /** Entry times: `base +` an offset each, or (`wide`) the times themselves. */
  private times32: Int32Array | undefined;
  private times64: Float64Array | undefined;
  private base = 0;
  /** index of the oldest entry */
  private head = 0;
  private count = 0;

  constructor(
    /** most entries kept */
    readonly max: number,
  ) {
    this.times32 = new Int32Array(firstCapacity(max));
  }

  get length(): number {
    return this.count;
  }

  /** Appends an entry; the oldest gives way once `max` are kept. */
  push(e: T): void {
    this.pushAt(e.ts, (i) => this.put(i, e));
  }

  /** Appends an entry at `ts` whose payload `write` stores at the slot it is given. */
  protected pushAt(ts: number, write: (i: number) => void): void {
    if (this.count === this.capacity) {
      if (this.count < this.max) this.grow(Math.min(this.max, this.count * 2));
      else {
        this.head = (this.head + 1) % this.count;
        this.count--;
      }
    }
    const i = (this.head + this.count) % this.capacity;
    this.setTime(i, ts);
    write(i);
    this.count++;
  }

  /** Drops the entries before `cutoff` (epoch ms). */
  dropBefore(cutoff: number): void {
    while (this.count > 0 && this.time(this.head) < cutoff) {
      this.head = (this.head + 1) % this.capacity;
      this.count--;
    }
  }

  /** The entries at or after `sinceTs`, oldest first. */
  since(sinceTs: number): T[] {
    const out: T[] = [];
    for (let k = 0; k < this.count; k++) {
      const i = this.slot(k);
      if (this.time(i) >= sinceTs) out.push(this.get(i));
    }
    return out;
  }

  /** Whether times are kept as floats (see the class). */
  get wide(): boolean {
    return this.times64 !== undefined;
  }

  /** The time of the entry at slot `i`, epoch ms. */
  protected time(i: number): number {
    return this.times64 ? this.times64[i]! : this.base + this.times32![i]!;
  }

  /** The slot of the k-th oldest entry. */
  protected slot(k: number): number {
    return (this.head + k) % this.capacity;
  }

  /** `into`, its k-th element what `read` gives for the k-th oldest entry's slot: a column as a snapshot saves it. */
  protected inOrder<A extends Float64Array | Uint32Array | Uint8Array>(into: A, read: (i: number) => number): A {
    for (let k = 0; k < this.count; k++) into[k] = read(this.slot(k));
    return into;
  }

  /** The entries' times, oldest first, in an array of their own. */
  protected times(): Float64Array {
    return this.inOrder(new Float64Array(this.count), (i) => this.time(i));
  }

  /**
   * The entries as saved among `blobs`: their times (`savedTimes`), then `bytes` more of the
   * subclass's, all given by `source` when the blobs are written.
   */
  protected savedEntries(blobs: BlobWriter, bytes: number, source: BlobSource): SavedEntries {
    // offsets from the base, or floats when the ring is wide
    const base = this.times64 ? undefined : this.base;
    const data = blobs.later(this.count * timeBytes(base) + bytes, source);
    return base === undefined ? { count: this.count, data } : { count: this.count, base, data };
  }

  /** The entries' times, oldest first, as views of the ring's own: as `savedEntries` names them. */
  protected savedTimes(): ArrayBufferView[] {
    return this.runs(this.times64 ?? this.times32!);
  }

  /**
   * A column of the ring (an element a slot) oldest first, as views of it: the run from the
   * oldest entry's slot, then the one from slot 0 when the ring has wrapped round.
   */
  protected runs<A extends Float64Array | Int32Array | Uint8Array>(a: A): A[] {
    const end = this.head + this.count;
    const cap = this.capacity;
    if (this.count === 0) return [];
    if (end <= cap) return [a.subarray(this.head, end) as A];
    return [a.subarray(this.head, cap) as A, a.subarray(0, end - cap) as A];
  }

  /** Stores `e`'s payload at slot `i`. */
  protected abstract put(i: number, e: T): void;
  /** Reads the entry at slot `i`. */
  protected abstract get(i: number): T;
  /** Gives the payload arrays `capacity` slots, slot k taking what `from(k)` names (the old slot). */
  protected abstract resize(capacity: number, from: (k: number) => number): void;

  private get capacity(): number {
    return (this.times64 ?? this.times32!).length;
  }

  private setTime(i: number, ts: number): void {
    if (this.times64) {
      this.times64[i] = ts;
      return;
    }
    if (this.count === 0) this.base = ts;
    let offset = ts - this.base;
    // not a whole number of ms within 32 bits of the base, or not one that gives the time back
    if (offset !== (offset | 0) || this.base + offset !== ts) {
      if (!this.rebase(ts)) return this.setTime(i, ts);
      offset = ts - this.base;
    }
    this.times32![i] = offset;
  }

  /**
   * Moves the base to the earliest of the times held and `ts` if all then fit in 32 bits
   * (true), else turns the ring to floats (false).
   */
  private rebase(ts: number): boolean {
    const held = this.times();
    let lo = ts;
    let hi = ts;
    for (const t of held) {
      lo = Math.min(lo, t);
      hi = Math.max(hi, t);
    }
    const fits = Number.isInteger(ts) && Number.isInteger(lo) && hi - lo <= 0x7fffffff;
    const old = this.times32!;
    if (!fits) this.times64 = new Float64Array(old.length);
    else this.base = lo;
    for (let k = 0; k < this.count; k++) {
      const i = this.slot(k);
      if (this.times64) this.times64[i] = held[k]!;
      else old[i] = held[k]! - lo;
    }
    if (this.times64) this.times32 = undefined;
    return fits;
  }

  private grow(capacity: number): void {
    const old = this.capacity;
    const at = (k: number): number => (this.head + k) % old;
    if (this.times64) {
      const times = new Float64Array(capacity);
      for (let k = 0; k < this.count; k++) times[k] = this.times64[at(k)]!;
      this.times64 = times;
    } else {
      const times = new Int32Array(capacity);
      for (let k = 0; k < this.count; k++) times[k] = this.times32![at(k)]!;
      this.times32 = times;
    }
    this.resize(capacity, at);
    this.head = 0;
  }
}

/**
 * `count` elements of `Type` from `at` in a saved state's bytes (native byte order), copied to a
 * buffer of their own: the bytes need not be aligned for the typed array.
 */
function aligned<A>(Type: { new (buf: ArrayBufferLike): A; readonly BYTES_PER_ELEMENT: number }, b: Buffer, at: number, count: number): A {
  return new Type(b.buffer.slice(b.byteOffset + at, b.byteOffset + at + count * Type.BYTES_PER_ELEMENT));
}

/**
 * A log's entries among the saved state's blobs: their times first, oldest first, as 32-bit
 * offsets from `base` or (no `base`: a wide log, and every save before state format 4) as floats;
 * then the log's own columns.
 */
export interface SavedEntries {
  readonly count: number;
  readonly base?: number;
  readonly data: BlobRef;
}

/** Bytes an entry's time takes among the blobs, saved from `base` or (none) as a float. */
const timeBytes = (base: number | undefined): number => (base === undefined ? 8 : 4);

/** The saved times of `s` (its bytes in `b`) as epoch ms; throws naming what does not fit. */
function readTimes(s: SavedEntries, b: Buffer): ArrayLike<number> {
  const { count, base } = s;
  if (base === undefined) return aligned(Float64Array, b, 0, count);
  if (typeof base !== 'number' || !Number.isFinite(base)) throw new Error(`saved log times from base ${String(base)}, not a time`);
  return Array.from(aligned(Int32Array, b, 0, count), (t) => base + t);
}

const BANDS: readonly News2Band[] = ['none', 'low', 'low-medium', 'medium', 'high'];
const COMPLETE = 0x80;

/** A NEWS2 log as saved: its changes among the saved state's blobs (time, score, flags), or (older saves) as a list. */
export type News2LogState = readonly News2Point[] | SavedEntries;

export class News2Log extends TimedRing<News2Point> implements BlobSource {
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
    const saved = s as SavedEntries;
    const { count } = saved;
    const b = blobs.get(saved.data);
    const tb = timeBytes(saved.base);
    if (!Number.isSafeInteger(count) || count < 0 || b.length !== count * (tb + 2)) throw new Error(`NEWS2 log of ${b.length} bytes for ${count} changes`);
    const ts = readTimes(saved, b);
    const log = new News2Log(max);
    for (let k = 0; k < count; k++) {
      const f = b[count * (tb + 1) + k]!;
      log.push({ ts: ts[k]!, score: b[count * tb + k]!, band: BANDS[f & ~COMPLETE] ?? 'none', complete: (f & COMPLETE) !== 0 });
    }
    return log;
  }

  /**
   * The log as data, oldest first: with `blobs`, its columns go there as views of its own arrays
   * (written before it can change: a save made copies, 10 KB a full log, 50 MB at 5,000 patients
   * for a moment), else a list of changes.
   */
  snapshot(blobs?: BlobWriter): News2LogState {
    return blobs ? this.savedEntries(blobs, 2 * this.length, this) : this.since(Number.NEGATIVE_INFINITY);
  }

  /** Its bytes as `snapshot` names them (a `BlobSource`). */
  blobParts(): ArrayBufferView[] {
    return [...this.savedTimes(), ...this.runs(this.score), ...this.runs(this.flags)];
  }

  protected put(i: number, p: News2Point): void {
    this.score[i] = Math.max(0, Math.min(255, p.score));
    this.flags[i] = Math.max(0, BANDS.indexOf(p.band)) | (p.complete ? COMPLETE : 0);
  }

  protected get(i: number): News2Point {
    const f = this.flags[i]!;
    return { ts: this.time(i), score: this.score[i]!, band: BANDS[f & ~COMPLETE] ?? 'none', complete: (f & COMPLETE) !== 0 };
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

/**
 * A transition's fields after its time, in the order the alarm manager writes them: each entry
 * of the alarm log is the JSON array of their values (absent ones null, trailing ones left out).
 */
const FIELDS = ['id', 'kind', 'priority', 'state', 'reason', 'patientId', 'ward', 'bed', 'metric', 'deviceId', 'by', 'value', 'escalation'] as const satisfies ReadonlyArray<keyof AlarmTransition>;
const KNOWN: ReadonlySet<string> = new Set(['ts', ...FIELDS]);
/** Values of these fields are kept as their index in the list (a name not listed, as itself). */
const CODES: Partial<Record<(typeof FIELDS)[number], readonly string[]>> = {
  kind: ['limit', 'news2', 'trend', 'technical'] satisfies AlarmKind[],
  priority: ['high', 'medium', 'low'] satisfies AlarmPriority[],
  state: ['raised', 'escalated', 'acknowledged', 'cleared', 'resolved'] satisfies AlarmState[],
};
/**
 * In place of the patient id: the transition is the log's own patient's, and its alarm id is
 * written without the `<patient>:` it starts with (a patient id is never a number).
 */
const OWN = 0;
const PATIENT = FIELDS.indexOf('patientId');
/** An alarm log as saved: its transitions among the saved state's blobs (time, length, then the text), or (older saves) as a list. */
export type AlarmLogState = readonly AlarmTransition[] | SavedEntries;

/** Bytes the text of a log starts with. */
const FIRST_TEXT = 256;

/**
 * An alarm log whose transitions are kept as UTF-8 JSON text in one buffer, each a list of its
 * values (`FIELDS`), and are made again when read (the station reads a patient's at a time, and
 * seldom). An object a transition with its strings took about 300 bytes; as text it takes about
 * 95, and 120 with its time, its place and room to spare. Entries sit in the text in
 * the order of the ring, so when the end of the text is reached the live ones move to its start
 * (or to a larger buffer): no entry is split, and every byte before the end is kept by an entry
 * or reclaimed at the next move.
 */
export class AlarmLog extends TimedRing<AlarmTransition> implements BlobSource {
  /** Each slot's entry: its start and length in `text`. */
  private at = new Uint32Array(2 * firstCapacity(this.max));
  private text = Buffer.alloc(FIRST_TEXT);
  /** End of the last entry written. */
  private end = 0;

  constructor(
    max: number,
    /**
     * The patient whose log it is, when known: a transition of theirs is written without their
     * id, and its alarm id without the `<patient>:` it starts with (`OWN`).
     */
    readonly patientId?: string,
  ) {
    super(max);
  }

  static from(transitions: readonly AlarmTransition[], max: number, patientId?: string): AlarmLog {
    const log = new AlarmLog(max, patientId);
    for (const a of transitions) log.push(a);
    return log;
  }

  /** The log from `snapshot`'s data (its bytes in `blobs`); throws naming what does not fit. */
  static restore(s: AlarmLogState, max: number, blobs: BlobReader = NO_BLOBS, patientId?: string): AlarmLog {
    if (Array.isArray(s)) return AlarmLog.from(s as readonly AlarmTransition[], max, patientId);
    const saved = s as SavedEntries;
    const { count } = saved;
    const b = blobs.get(saved.data);
    const tb = timeBytes(saved.base);
    const head = count * (tb + 4);
    if (!Number.isSafeInteger(count) || count < 0 || b.length < head) throw new Error(`alarm log of ${b.length} bytes for ${count} transitions`);
    const ts = readTimes(saved, b);
    const lens = aligned(Uint32Array, b, count * tb, count);
    const text = b.subarray(head);
    const log = new AlarmLog(max, patientId);
    let start = 0;
    for (let k = 0; k < count; k++) {
      const len = lens[k]!;
      if (start + len > text.length || !Array.isArray(parse(text.toString('utf8', start, start + len)))) throw new Error(`alarm log entry ${k + 1} of ${count} is not a transition`);
      const from = start;
      log.pushAt(ts[k]!, (i) => log.putEntry(i, len, (at) => text.copy(log.text, at, from, from + len)));
      start += len;
    }
    if (start !== text.length) throw new Error(`alarm log of ${count} transitions holds ${text.length - start} bytes more than they take`);
    return log;
  }

  /**
   * The log as data, oldest first: with `blobs`, its times, entry lengths and text go there
   * (the times and text as views of its own: the live entries are one run of the text), else a
   * list of transitions.
   */
  snapshot(blobs?: BlobWriter): AlarmLogState {
    return blobs ? this.savedEntries(blobs, 4 * this.length + this.end - this.firstText, this) : this.since(Number.NEGATIVE_INFINITY);
  }

  /** Its bytes as `snapshot` names them (a `BlobSource`). */
  blobParts(): ArrayBufferView[] {
    return [...this.savedTimes(), this.inOrder(new Uint32Array(this.length), (i) => this.at[2 * i + 1]!), this.text.subarray(this.firstText, this.end)];
  }

  /** Where the oldest entry's text starts: the live entries are one run of the text from there to `end`. */
  private get firstText(): number {
    return this.length > 0 ? this.at[2 * this.slot(0)]! : this.end;
  }

  protected put(i: number, a: AlarmTransition): void {
    const json = encode(a, this.patientId);
    this.putEntry(i, Buffer.byteLength(json), (at) => this.text.write(json, at));
  }

  /** Stores at slot `i` an entry of `bytes` bytes that `write` puts into the text at the offset it is given. */
  private putEntry(i: number, bytes: number, write: (at: number) => void): void {
    // at the end of the text, or emptied (by age) while holding more than a new log
    if (this.end + bytes > this.text.length || (this.length === 0 && this.text.length > FIRST_TEXT)) this.makeRoom(bytes);
    write(this.end);
    this.at[2 * i] = this.end;
    this.at[2 * i + 1] = bytes;
    this.end += bytes;
  }

  /** Bytes the text buffer holds (entries and room for more). */
  get textBytes(): number {
    return this.text.length;
  }

  protected get(i: number): AlarmTransition {
    const start = this.at[2 * i]!;
    return decode(this.time(i), this.text.toString('utf8', start, start + this.at[2 * i + 1]!), this.patientId);
  }

  protected resize(capacity: number, from: (k: number) => number): void {
    const at = new Uint32Array(2 * capacity);
    for (let k = 0; k < this.length; k++) at.set(this.at.subarray(2 * from(k), 2 * from(k) + 2), 2 * k);
    this.at = at;
  }

  /**
   * Moves the live entries to the start of the text, into a buffer with room for `bytes` more
   * and a quarter to spare: the present one when that fits, else a new one.
   */
  private makeRoom(bytes: number): void {
    let live = 0;
    for (let k = 0; k < this.length; k++) live += this.at[2 * this.slot(k) + 1]!;
    const want = live + bytes;
    const size = want <= this.text.length && want * 1.25 >= this.text.length / 2 ? this.text.length : Math.max(FIRST_TEXT, Math.ceil(want * 1.25));
    const text = size === this.text.length ? this.text : Buffer.alloc(size);
    let end = 0;
    for (let k = 0; k < this.length; k++) {
      const i = this.slot(k);
      const start = this.at[2 * i]!;
      const len = this.at[2 * i + 1]!;
      // entries are in the text in ring order, so one never lands on another not yet moved
      this.text.copy(text, end, start, start + len);
      this.at[2 * i] = end;
      end += len;
    }
    this.text = text;
    this.end = end;
  }
}

function encode(a: AlarmTransition, owner: string | undefined): string {
  const own = owner !== undefined && a.patientId === owner && a.id.startsWith(`${owner}:`);
  const values: unknown[] = FIELDS.map((f) => {
    if (own && f === 'patientId') return OWN;
    if (own && f === 'id') return a.id.slice(owner.length + 1);
    const v = a[f];
    if (v === undefined) return null;
    const i = CODES[f]?.indexOf(v as string) ?? -1;
    return i >= 0 ? i : v;
  });
  const extra = Object.keys(a).filter((k) => !KNOWN.has(k));
  if (extra.length > 0) values.push(Object.fromEntries(extra.map((k) => [k, (a as unknown as Record<string, unknown>)[k]])));
  while (values.length > 0 && values[values.length - 1] === null) values.pop();
  return JSON.stringify(values);
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function decode(ts: number, text: string, owner: string | undefined): AlarmTransition {
  const values = JSON.parse(text) as unknown[];
  const own = values[PATIENT] === OWN;
  if (own && owner === undefined) throw new Error('an alarm log entry of its patient read without the patient');
  const a: Record<string, unknown> = { ts };
  FIELDS.forEach((f, k) => {
    const v = values[k];
    if (v === null || v === undefined) return;
    a[f] = typeof v === 'number' && CODES[f] ? CODES[f][v] : v;
  });
  if (own) {
    a.patientId = owner;
    a.id = `${owner}:${String(a.id)}`;
  }
  if (values.length > FIELDS.length) Object.assign(a, values[FIELDS.length]);
  return a as unknown as AlarmTransition;
}
