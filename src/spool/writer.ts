/**
 * The append side of the log: the active segment file, group commit and segment rolling.
 * Appends queue up for at most `commitIntervalMs`; a whole group is then encoded into one buffer,
 * written with one positional `write` and made durable with one `fdatasync`, and only then does
 * each caller's promise resolve. Appends that arrive during that fsync form the next group.
 */
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../core/log.js';
import { encodeRecord } from './record.js';
import { fsyncDir, segmentFileName } from './segment.js';
import type { SpoolPosition } from './types.js';

/** Segments hold patient data: readable by the gateway's user only. */
const FILE_MODE = 0o600;

/** A segment on disk. `size` counts only fsynced bytes, the ones readers may see. */
export interface Segment {
  readonly id: number;
  size: number;
}

/** Where an append ended up, once durable. */
export interface Appended {
  /** Seq of its last record. */
  readonly lastSeq: number;
  /** The position just after its last record (a reader's position to continue from). */
  readonly next: SpoolPosition;
}

/** Called once an append is durable (with where it is), or with the error that refused it. */
export type AppendDone = (err: Error | null, appended?: Appended) => void;

interface Pending {
  readonly payloads: readonly Buffer[];
  /** Encoded size, bytes. */
  readonly bytes: number;
  readonly done: AppendDone;
}

export interface LogWriterOptions {
  readonly dir: string;
  readonly segmentBytes: number;
  readonly commitIntervalMs: number;
  readonly logger: Logger;
  /** Called after every durable group, once its callers have been told. */
  readonly onDurable: () => void;
  /** Called with a group's error just before its callers are told. */
  readonly onFailed: (err: Error, appends: number) => Error;
}

export class LogWriter {
  /** Log order; the last is the active segment, the only one written to. */
  readonly segments: Segment[];
  /** Bytes of all segment files. */
  bytes: number;
  /** Last fsynced sequence number. */
  lastSeq: number;
  /** Encoded bytes queued but not yet durable (they count against the size bound). */
  pendingBytes = 0;
  appended = 0;
  fsyncs = 0;
  /** Groups written and fsynced. */
  groups = 0;
  private pending: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;

  private constructor(
    private readonly opts: LogWriterOptions,
    segments: Segment[],
    private fh: FileHandle,
    lastSeq: number,
  ) {
    this.segments = segments;
    this.lastSeq = lastSeq;
    this.bytes = segments.reduce((n, s) => n + s.size, 0);
  }

  /** Starts writing after `lastSeq` into the last of `segments` (creating segment 1 if none). */
  static async open(opts: LogWriterOptions, segments: Segment[], lastSeq: number): Promise<LogWriter> {
    let active = segments.at(-1);
    if (active === undefined) {
      active = { id: lastSeq + 1, size: 0 };
      segments.push(active);
      await (await open(join(opts.dir, segmentFileName(active.id)), 'wx', FILE_MODE)).close();
      await fsyncDir(opts.dir);
    }
    const fh = await open(join(opts.dir, segmentFileName(active.id)), 'r+');
    return new LogWriter(opts, segments, fh, lastSeq);
  }

  /**
   * Queues records of `bytes` encoded bytes; `done` is called with where they are once durable.
   * A callback, not a promise: thousands of appends wait here at a time, each for its fsync, and
   * what each holds while it waits is what the collector copies and promotes.
   */
  enqueue(payloads: readonly Buffer[], bytes: number, done: AppendDone): void {
    this.pendingBytes += bytes;
    this.pending.push({ payloads, bytes, done });
    if (this.flushing !== undefined || this.timer !== undefined) return; // the running flush takes it
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flushing = this.flushLoop();
    }, this.opts.commitIntervalMs);
  }

  /** Writes whatever is queued now (skipping the window), then closes the active file. */
  async close(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.flushing ??= this.pending.length > 0 ? this.flushLoop() : undefined;
    await this.flushing;
    await this.fh.close();
  }

  /**
   * Deletes sealed segments whose ids are below `segment` (the active one always stays).
   * @returns bytes freed and segments deleted.
   */
  async deleteBefore(segment: number): Promise<{ freed: number; deleted: number }> {
    let freed = 0;
    let deleted = 0;
    while (this.segments.length > 1 && this.segments[0]!.id < segment) {
      const seg = this.segments[0]!;
      await unlink(join(this.opts.dir, segmentFileName(seg.id)));
      this.segments.shift();
      this.bytes -= seg.size;
      freed += seg.size;
      deleted++;
      this.opts.logger.debug({ segment: seg.id, bytes: seg.size }, 'spool: segment deleted, all readers past it');
    }
    // Not needed for safety (a segment that reappears after a crash is deleted again), but it
    // makes the freed space real before the spool reports it.
    if (deleted > 0) await fsyncDir(this.opts.dir);
    return { freed, deleted };
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const group = this.pending;
        this.pending = [];
        await this.writeGroup(group);
      }
    } finally {
      this.flushing = undefined;
    }
  }

  private async writeGroup(group: Pending[]): Promise<void> {
    let total = 0;
    for (const p of group) total += p.bytes;
    try {
      if (this.segments.at(-1)!.size >= this.opts.segmentBytes) await this.roll();
    } catch (err) {
      this.fail(group, total, err as Error);
      return;
    }
    const active = this.segments.at(-1)!;
    // Seqs are given here, in queue order, so a failed group leaves no gap in the numbering.
    const buf = Buffer.allocUnsafe(total);
    /** Each append's last seq, and where it ends in `buf`. */
    const ends = new Float64Array(group.length * 2);
    let seq = this.lastSeq;
    let at = 0;
    for (let i = 0; i < group.length; i++) {
      for (const payload of group[i]!.payloads) at = encodeRecord(buf, at, ++seq, payload);
      ends[2 * i] = seq;
      ends[2 * i + 1] = at;
    }
    try {
      for (let off = 0; off < total; ) {
        const { bytesWritten } = await this.fh.write(buf, off, total - off, active.size + off);
        off += bytesWritten;
      }
      await this.fh.datasync();
      this.fsyncs++;
    } catch (err) {
      // Cut back to the last durable record so a half-written group is neither read nor
      // followed; the next group is written at the same offset anyway.
      await this.fh
        .truncate(active.size)
        .then(() => this.fh.datasync())
        .catch((e: Error) => this.opts.logger.error({ err: e.message }, 'spool: could not cut back a failed write'));
      this.fail(group, total, err as Error);
      return;
    }
    const start = active.size;
    active.size += total;
    this.bytes += total;
    this.pendingBytes -= total;
    this.appended += seq - this.lastSeq;
    this.lastSeq = seq;
    this.groups++;
    for (let i = 0; i < group.length; i++) {
      const last = ends[2 * i]!;
      this.tell(group[i]!, null, { lastSeq: last, next: { seq: last + 1, segment: active.id, offset: start + ends[2 * i + 1]! } });
    }
    this.opts.onDurable();
  }

  private fail(group: Pending[], total: number, err: Error): void {
    this.pendingBytes -= total;
    const toCallers = this.opts.onFailed(err, group.length);
    for (const p of group) this.tell(p, toCallers);
  }

  /** Calls one append's callback: one that throws is logged, and the rest of its group are still told. */
  private tell(p: Pending, err: Error | null, appended?: Appended): void {
    try {
      p.done(err, appended);
    } catch (e) {
      this.opts.logger.error({ err: (e as Error).message }, 'spool: a caller failed on hearing its append was done');
    }
  }

  /** Starts a new segment named after the next seq. The old one is already fsynced. */
  private async roll(): Promise<void> {
    const id = this.lastSeq + 1;
    const fh = await open(join(this.opts.dir, segmentFileName(id)), 'wx', FILE_MODE);
    try {
      await fsyncDir(this.opts.dir);
      this.fsyncs++;
    } catch (err) {
      // Leave no file behind, or the next roll would find the name taken.
      await fh.close();
      await unlink(join(this.opts.dir, segmentFileName(id))).catch(() => undefined);
      throw err;
    }
    await this.fh.close();
    this.fh = fh;
    this.segments.push({ id, size: 0 });
    this.opts.logger.debug({ segment: id }, 'spool: new segment');
  }
}
