/**
 * A named reader over the spool. It reads from its committed cursor (so a read that is not
 * committed is simply read again: retry-safe), keeps the current segment's file open, and reads
 * it in large chunks so a batch of thousands of records costs a few `read` calls.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../core/log.js';
import { saveCursor } from './cursor.js';
import { scanRecords } from './record.js';
import { segmentFileName } from './segment.js';
import type { SpoolBatch, SpoolEntry, SpoolPosition, SpoolReader } from './types.js';

/** A segment as readers see it: `size` counts only bytes that are fsynced. */
export interface SegmentView {
  readonly id: number;
  readonly size: number;
}

/** What a reader needs from the spool that owns it. */
export interface ReaderHost {
  readonly dir: string;
  readonly cursorDir: string;
  readonly logger: Logger;
  isClosed(): boolean;
  /** Last durable sequence number. */
  lastSeq(): number;
  /** Segments in log order; the last one is the active (still growing) segment. */
  segments(): readonly SegmentView[];
  /** True for a reader that holds data without delivering it (see SpoolOptions.holders). */
  holds(name: string): boolean;
  /** Called after a reader's cursor is durably saved: updates retention. */
  committed(name: string, pos: SpoolPosition): Promise<void>;
  /** Calls `cb` after every durable append and at close. @returns an unsubscribe function. */
  onData(cb: () => void): () => void;
}

/** Largest first chunk read from a segment, bytes. A chunk grows when a record does not fit. */
const CHUNK_BYTES = 1024 * 1024;
/** Smallest first chunk, bytes; small reads (`read(1)`) need not pull a whole megabyte. */
const MIN_CHUNK_BYTES = 64 * 1024;

export class Reader implements SpoolReader {
  private cursor: SpoolPosition;
  private fh: FileHandle | undefined;
  private fhSegment = 0;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    readonly name: string,
    private readonly host: ReaderHost,
    start: SpoolPosition,
  ) {
    this.cursor = start;
  }

  /** The committed position (for retention and tests). */
  position(): SpoolPosition {
    return this.cursor;
  }

  /**
   * Moves the position in memory only (no cursor file, no effect on retention): for a one-off
   * scan made with `Spool.scan`, which pages through with `read` and `seek(batch.next)`.
   */
  seek(pos: SpoolPosition): void {
    this.cursor = pos;
  }

  read(max: number): Promise<SpoolBatch> {
    if (!Number.isSafeInteger(max) || max < 1) {
      return Promise.reject(new RangeError(`spool reader ${this.name}: read(max) needs a positive integer, got ${max}`));
    }
    return this.serial(() => this.readNow(max));
  }

  commit(pos: SpoolPosition): Promise<void> {
    return this.serial(() => this.commitNow(pos));
  }

  lag(): number {
    return Math.max(0, this.host.lastSeq() - (this.cursor.seq - 1));
  }

  waitForData(signal?: AbortSignal): Promise<void> {
    const ready = (): boolean => this.host.isClosed() || this.host.lastSeq() >= this.cursor.seq;
    if (signal?.aborted || ready()) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        off();
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const off = this.host.onData(() => {
        if (ready()) done();
      });
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /** Closes the open segment file. */
  async release(): Promise<void> {
    await this.serial(async () => this.closeFile());
  }

  /** Runs reads and commits one at a time: they share the open file and the cursor. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private closed(): Error {
    return new Error(`spool reader ${this.name}: spool is closed`);
  }

  private async readNow(max: number): Promise<SpoolBatch> {
    if (this.host.isClosed()) throw this.closed();
    const segs = this.host.segments();
    const entries: SpoolEntry[] = [];
    let pos = this.cursor;
    let idx = segs.findIndex((s) => s.id === pos.segment);
    if (idx < 0) {
      // The cursor's segment is gone (it predates retention seeing this reader, or the cursor
      // file was restored from elsewhere): go on with the next segment that exists.
      idx = segs.findIndex((s) => s.id > pos.segment);
      const seg = segs[idx];
      if (seg === undefined) return { entries, next: pos };
      this.host.logger.warn({ reader: this.name, from: pos.segment, to: seg.id }, 'spool: cursor segment missing, continuing at next segment');
      pos = { seq: seg.id, segment: seg.id, offset: 0 };
    }
    // About 256 bytes a record (a JSON observation is ~200) sizes the first chunk.
    const firstChunk = Math.min(CHUNK_BYTES, Math.max(MIN_CHUNK_BYTES, max * 256));
    let chunk = firstChunk;
    while (entries.length < max) {
      const seg = segs[idx]!;
      if (pos.offset >= seg.size) {
        const nextSeg = segs[idx + 1];
        if (nextSeg === undefined) break;
        idx++;
        pos = { seq: pos.seq, segment: nextSeg.id, offset: 0 };
        chunk = firstChunk;
        continue;
      }
      const len = Math.min(chunk, seg.size - pos.offset);
      const final = pos.offset + len === seg.size;
      const buf = await this.readAt(seg.id, pos.offset, len);
      const scan = scanRecords(buf, { afterSeq: pos.seq - 1, maxRecords: max - entries.length, final });
      for (const r of scan.records) entries.push({ seq: r.seq, payload: r.payload });
      for (const s of scan.skipped) {
        this.host.logger.warn(
          { reader: this.name, file: segmentFileName(seg.id), offset: pos.offset + s.offset, bytes: s.length },
          'spool: reader skipped damaged bytes',
        );
      }
      if (scan.end === 0) {
        // A record (or a damaged stretch) runs past the chunk: read a larger one.
        chunk *= 2;
        continue;
      }
      pos = { seq: scan.lastSeq + 1, segment: seg.id, offset: pos.offset + scan.end };
      chunk = firstChunk;
    }
    // Past the end of a sealed segment, point at the next one so that committing this position
    // lets retention delete the finished segment.
    for (let s = segs[idx]; s !== undefined && pos.offset >= s.size; s = segs[idx]) {
      const nextSeg = segs[++idx];
      if (nextSeg === undefined) break;
      pos = { seq: pos.seq, segment: nextSeg.id, offset: 0 };
    }
    // A finished segment is deleted once committed past; an open handle would pin its space.
    if (pos.segment !== this.fhSegment) await this.closeFile();
    return { entries, next: pos };
  }

  private async readAt(segment: number, offset: number, length: number): Promise<Buffer> {
    if (this.fhSegment !== segment || this.fh === undefined) {
      await this.closeFile();
      this.fh = await open(join(this.host.dir, segmentFileName(segment)), 'r');
      this.fhSegment = segment;
    }
    const buf = Buffer.allocUnsafe(length);
    let got = 0;
    while (got < length) {
      const { bytesRead } = await this.fh.read(buf, got, length - got, offset + got);
      if (bytesRead === 0) throw new Error(`spool: ${segmentFileName(segment)} ended at ${offset + got}, expected ${offset + length} bytes`);
      got += bytesRead;
    }
    return buf;
  }

  private async closeFile(): Promise<void> {
    const fh = this.fh;
    this.fh = undefined;
    this.fhSegment = 0;
    await fh?.close();
  }

  private async commitNow(pos: SpoolPosition): Promise<void> {
    if (this.host.isClosed()) throw this.closed();
    const bad = (why: string): RangeError =>
      new RangeError(`spool reader ${this.name}: cannot commit ${JSON.stringify(pos)}: ${why}`);
    if (typeof pos !== 'object' || pos === null || ![pos.seq, pos.segment, pos.offset].every((n) => Number.isSafeInteger(n) && n >= 0)) {
      throw bad('not a position returned by read()');
    }
    if (pos.seq > this.host.lastSeq() + 1) throw bad(`beyond the last record (${this.host.lastSeq()})`);
    const cur = this.cursor;
    // Committing a position at or before the cursor (a batch committed twice) changes nothing.
    if (pos.segment < cur.segment || (pos.segment === cur.segment && pos.offset <= cur.offset)) return;
    const seg = this.host.segments().find((s) => s.id === pos.segment);
    if (seg === undefined) throw bad('no such segment');
    if (pos.offset > seg.size) throw bad(`offset past the end of the segment (${seg.size} bytes)`);
    const next = { seq: pos.seq, segment: pos.segment, offset: pos.offset };
    await saveCursor(this.host.cursorDir, this.name, next, this.host.holds(this.name));
    this.cursor = next;
    await this.host.committed(this.name, next);
  }
}
