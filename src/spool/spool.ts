/**
 * The durable spool: an append-only log of opaque records in segment files, with group commit,
 * crash recovery, per-reader cursors, retention and a size bound. An `append` resolves only once
 * its bytes are fsynced, so the MQTT PUBACK that waits on it never acknowledges anything that a
 * crash could lose. See README.md beside this file for the format and the guarantees.
 */
import { EventEmitter } from 'node:events';
import { mkdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Counters } from '../core/counters.js';
import { SpoolFullError } from '../core/errors.js';
import { log, type Logger } from '../core/log.js';
import type { Reporting } from '../core/types.js';
import { checkReaderName, loadCursors, saveCursor } from './cursor.js';
import { acquireLock } from './lock.js';
import { checkOptions, type Settings, type SpoolOptions } from './options.js';
import { Reader, type ReaderHost, type SegmentView } from './reader.js';
import { HEADER_BYTES, MAX_PAYLOAD_BYTES } from './record.js';
import { fsyncDir, listSegmentIds, recoverSegment } from './segment.js';
import type { SpoolHealth, SpoolPosition, SpoolReader, SpoolStats } from './types.js';
import { LogWriter, type AppendDone, type Appended, type Segment } from './writer.js';

export { SPOOL_DEFAULTS, type SpoolOptions } from './options.js';
export type { AppendDone, Appended } from './writer.js';

export interface AppendOptions {
  /** May use the room kept past `maxBytes` (see `reserveBytes`): for the few records that must be kept even when device data is refused. */
  readonly reserve?: boolean;
}

/**
 * State changes, for technical alarms. `nearFull`: bytes reached the warning ratio. `full`: an
 * append was refused. `recovered`: back to normal after either (below the ratio, appends
 * accepted). Each is announced once until `recovered`; `stats()` shows the current state, also
 * right after open, before any listener could be attached.
 */
export interface SpoolEvents {
  nearFull: [stats: SpoolStats];
  full: [stats: SpoolStats];
  recovered: [stats: SpoolStats];
}

export class Spool extends EventEmitter<SpoolEvents> implements Reporting {
  private readonly cursorDir: string;
  private readonly host: ReaderHost;
  private readonly readers = new Map<string, Promise<Reader>>();
  /** Committed positions of every known reader, including those with only a cursor file. */
  private readonly cursors = new Map<string, SpoolPosition>();
  private readonly dataWaiters = new Set<() => void>();
  /** Readers that hold data without delivering it: from the options and from their cursor files. */
  private readonly holders: Set<string>;
  private retention: Promise<void> = Promise.resolve();
  private closing: Promise<void> | undefined;
  private closed = false;
  private refused = 0;
  private nearFull = false;
  /** A `nearFull` or `full` was announced and `recovered` not yet. */
  private alarmed = false;
  /**
   * At the bound, as reported: set by a refusal, cleared only when retention frees space or the
   * spool drops below its warning ratio. At the bound refusals and small appends that still fit
   * alternate; reporting that flip would make health, metrics and alarms flap.
   */
  private atBound = false;

  private constructor(
    private readonly opts: Settings,
    private readonly logger: Logger,
    private readonly writer: LogWriter,
    private readonly recoveredBytesSkipped: number,
    private readonly releaseLock: () => Promise<void>,
  ) {
    super();
    this.holders = new Set(opts.holders);
    this.cursorDir = join(opts.dir, 'cursors');
    this.host = {
      dir: opts.dir,
      cursorDir: this.cursorDir,
      logger,
      isClosed: () => this.closed,
      holds: (name) => this.holders.has(name),
      lastSeq: () => this.writer.lastSeq,
      segments: (): readonly SegmentView[] => this.writer.segments.map((s) => ({ id: s.id, size: s.size })),
      committed: async (name, pos) => {
        this.cursors.set(name, pos);
        await this.retain();
      },
      onData: (cb) => {
        this.dataWaiters.add(cb);
        return () => this.dataWaiters.delete(cb);
      },
    };
  }

  /**
   * Opens (creating when missing) the spool in `opts.dir` and recovers it: torn tails are
   * truncated, damaged records skipped, and numbering continues after the last valid record.
   * @throws ConfigError for bad options; Error when another live process holds the directory.
   */
  static async open(options: SpoolOptions): Promise<Spool> {
    const opts = checkOptions(options);
    const logger = options.logger ?? log().child({ component: 'spool' });
    if (opts.segmentBytes > opts.maxBytes / 4) {
      // The active segment is never deleted: one as large as the bound could fill it for good.
      const clamped = Math.max(1, Math.floor(opts.maxBytes / 4));
      logger.warn({ segmentBytes: opts.segmentBytes, clamped }, 'spool: segmentBytes above a quarter of maxBytes, using less');
      opts.segmentBytes = clamped;
    }
    // Patient data: only the gateway's user may list or read the spool.
    await mkdir(opts.dir, { recursive: true, mode: 0o700 });
    const releaseLock = await acquireLock(opts.dir);
    let writer: LogWriter | undefined;
    try {
      const ids = await listSegmentIds(opts.dir);
      const segments: Segment[] = [];
      let lastSeq = 0;
      let skipped = 0;
      for (const [i, id] of ids.entries()) {
        // A segment's records start at its id, so the id bounds the seq even when every record
        // before it has been deleted by retention or lost to damage.
        const r = await recoverSegment(opts.dir, id, Math.max(lastSeq, id - 1), i === ids.length - 1, logger);
        segments.push({ id: r.id, size: r.size });
        lastSeq = r.lastSeq;
        skipped += r.skippedBytes;
      }
      let spool: Spool | undefined;
      writer = await LogWriter.open(
        {
          dir: opts.dir,
          segmentBytes: opts.segmentBytes,
          commitIntervalMs: opts.commitIntervalMs,
          logger,
          onDurable: () => spool?.durable(),
          onFailed: (err, appends) => spool?.failed(err, appends) ?? err,
        },
        segments,
        lastSeq,
      );
      spool = new Spool(opts, logger, writer, skipped, releaseLock);
      await spool.loadReaders();
      // Makes the entries created at first open (cursors/, the first segment) durable.
      await fsyncDir(opts.dir);
      await spool.retain();
      spool.updateState();
      logger.info({ dir: opts.dir, segments: segments.length, lastSeq, bytes: writer.bytes, skippedBytes: skipped }, 'spool: opened');
      return spool;
    } catch (err) {
      await writer?.close().catch(() => undefined);
      await releaseLock();
      throw err;
    }
  }

  /**
   * Appends records, in order. Resolves with the seq of the last one only after they are fsynced.
   * `append([])` resolves with the last durable seq.
   * @throws SpoolFullError when the bound would be exceeded (nothing is written; keep the data
   *   upstream, e.g. withhold the PUBACK); RangeError/TypeError for bad payloads.
   */
  append(payloads: readonly Buffer[], opts: AppendOptions = {}): Promise<number> {
    return this.appendRecords(payloads, opts).then((a) => a.lastSeq);
  }

  /**
   * `append`, resolving with where the records are: the last one's seq and the position just
   * after it (what a reader would commit to continue after them).
   */
  appendRecords(payloads: readonly Buffer[], opts: AppendOptions = {}): Promise<Appended> {
    return new Promise((resolve, reject) => this.appendThen(payloads, opts, (err, a) => (err ? reject(err) : resolve(a!))));
  }

  /**
   * `appendRecords` with a callback, for the hot path: `done` is called once, never before this
   * returns, with where the records are once durable, or with why they were refused.
   */
  appendThen(payloads: readonly Buffer[], opts: AppendOptions | undefined, done: AppendDone): void {
    const checked = this.check(payloads, opts?.reserve === true);
    if (typeof checked === 'number') this.writer.enqueue(payloads, checked, done);
    else process.nextTick(done, checked.err, checked.appended);
  }

  /** The encoded bytes of `payloads` when they may be queued; else why not (or an empty append's result). */
  private check(payloads: readonly Buffer[], reserve: boolean): number | { err: Error | null; appended?: Appended } {
    if (this.closed) return { err: new Error('spool: append after close') };
    if (!Array.isArray(payloads)) return { err: new TypeError('spool: append needs an array of Buffers') };
    let bytes = 0;
    for (const p of payloads) {
      if (!Buffer.isBuffer(p)) return { err: new TypeError('spool: every payload must be a Buffer') };
      if (p.length > MAX_PAYLOAD_BYTES) return { err: new RangeError(`spool: payload of ${p.length} bytes exceeds ${MAX_PAYLOAD_BYTES}`) };
      bytes += HEADER_BYTES + p.length;
    }
    if (payloads.length === 0) return { err: null, appended: { lastSeq: this.writer.lastSeq, next: this.end() } };
    const used = this.writer.bytes + this.writer.pendingBytes;
    const bound = this.opts.maxBytes + (reserve ? this.reserveBytes() : 0);
    if (used + bytes > bound) {
      this.refused++;
      this.setFull();
      return { err: new SpoolFullError(`spool: full (${used} of ${this.opts.maxBytes} bytes); ${payloads.length} record(s) refused`) };
    }
    return bytes;
  }

  /**
   * Room past `maxBytes` kept for appends with `reserve` (nurses' acknowledgements, census
   * changes, alarm transitions), so they are still recorded while device data is refused.
   */
  reserveBytes(): number {
    return Math.max(16 * 1024, Math.floor(this.opts.maxBytes / 100));
  }

  /** The position after the last durable record. */
  private end(): SpoolPosition {
    const active = this.writer.segments.at(-1)!;
    return { seq: this.writer.lastSeq + 1, segment: active.id, offset: active.size };
  }

  /** The position of the oldest record on disk (retention deletes whole segments before it). */
  oldest(): SpoolPosition {
    const oldest = this.writer.segments[0]!;
    return { seq: oldest.id, segment: oldest.id, offset: 0 };
  }

  /** The reader `name`, created at the oldest record on disk when it has no cursor yet. */
  reader(name: string): Promise<SpoolReader> {
    try {
      checkReaderName(name);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    if (this.closed) return Promise.reject(new Error('spool: reader() after close'));
    let r = this.readers.get(name);
    if (r === undefined) {
      r = this.makeReader(name);
      this.readers.set(name, r);
      r.catch(() => this.readers.delete(name));
    }
    return r;
  }

  /**
   * A one-off reader from `from` (e.g. another reader's position) that keeps no cursor and holds
   * nothing on disk: page with `read` and `seek(batch.next)`, then `release`. Records that
   * retention deletes meanwhile are skipped, as for any reader.
   */
  scan(name: string, from: SpoolPosition): Reader {
    checkReaderName(name);
    if (this.closed) throw new Error('spool: scan() after close');
    return new Reader(name, this.host, from);
  }

  /**
   * Forgets reader `name` and deletes its cursor, so it no longer holds data on disk (for a sink
   * taken out of service). @returns false when there was no such reader.
   */
  async removeReader(name: string): Promise<boolean> {
    checkReaderName(name);
    if (this.closed) throw new Error('spool: removeReader() after close');
    const r = this.readers.get(name);
    if (r === undefined && !this.cursors.has(name)) return false;
    this.readers.delete(name);
    await (await r?.catch(() => undefined))?.release();
    this.cursors.delete(name);
    await unlink(join(this.cursorDir, `${name}.json`)).catch(() => undefined);
    await fsyncDir(this.cursorDir);
    await this.retain();
    return true;
  }

  stats(): SpoolStats {
    return {
      bytes: this.writer.bytes,
      maxBytes: this.opts.maxBytes,
      nearFull: this.nearFull,
      full: this.atBound,
      segments: this.writer.segments.length,
      lastSeq: this.writer.lastSeq,
      appended: this.writer.appended,
      fsyncs: this.writer.fsyncs,
      groups: this.writer.groups,
      refused: this.refused,
      recoveredBytesSkipped: this.recoveredBytesSkipped,
    };
  }

  /**
   * The spool's section of /healthz.
   * @param depth records not yet written to InfluxDB (the writer's lag); without a writer, every record
   */
  health(depth?: number): SpoolHealth {
    const s = this.stats();
    return { depth: depth ?? s.lastSeq, bytes: s.bytes, maxBytes: s.maxBytes, nearFull: s.nearFull, full: s.full, lastSeq: s.lastSeq, refused: s.refused };
  }

  /**
   * Registers the spool's gauges.
   * @param depth the writer's lag in records, or undefined without a writer (as for `health`)
   */
  registerMetrics(c: Counters, depth: () => number | undefined = () => undefined): void {
    c.gauge('vigil_spool_bytes', 'Bytes of spool segments on disk', () => this.stats().bytes);
    c.gauge('vigil_spool_max_bytes', 'Configured spool bound (spool.maxBytes)', () => this.stats().maxBytes);
    c.gauge('vigil_spool_near_full', '1 when the spool passed its warning ratio', () => (this.stats().nearFull ? 1 : 0));
    c.gauge('vigil_spool_full', '1 when the spool refuses new data', () => (this.stats().full ? 1 : 0));
    c.gauge('vigil_spool_depth_records', 'Records not yet written to InfluxDB', () => depth() ?? this.stats().lastSeq);
    // Their ratio is the group commit's size: how many records one write and one fsync made durable.
    c.externalCounter('vigil_spool_records_appended_total', 'Records made durable in the spool since start', () => this.stats().appended);
    c.externalCounter('vigil_spool_groups_total', 'Groups of appends written and fsynced together since start', () => this.stats().groups);
  }

  /** Writes and fsyncs pending appends, closes files and releases the directory. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.closeNow();
    return this.closing;
  }

  private async closeNow(): Promise<void> {
    this.closed = true;
    await this.writer.close();
    // Readers finish a read or commit in progress before their file closes.
    for (const r of this.readers.values()) await (await r.catch(() => undefined))?.release();
    await this.retention;
    await this.releaseLock();
    for (const cb of [...this.dataWaiters]) cb();
  }

  private async makeReader(name: string): Promise<Reader> {
    let pos = this.cursors.get(name);
    if (pos === undefined) {
      const oldest = this.writer.segments[0]!;
      pos = { seq: oldest.id, segment: oldest.id, offset: 0 };
      // Saved now so that retention keeps the data for this reader across a restart too.
      await saveCursor(this.cursorDir, name, pos, this.holders.has(name));
      this.cursors.set(name, pos);
    }
    return new Reader(name, this.host, pos);
  }

  /** Loads cursor files, pulling any that point past the recovered log back to its end. */
  private async loadReaders(): Promise<void> {
    const oldest = this.writer.segments[0]!;
    const end = this.end();
    for (const [name, { position: saved, holder }] of await loadCursors(this.cursorDir, this.logger)) {
      if (holder) this.holders.add(name);
      let pos = saved ?? { seq: oldest.id, segment: oldest.id, offset: 0 };
      const ahead = pos.seq > end.seq || pos.segment > end.segment || (pos.segment === end.segment && pos.offset > end.offset);
      if (ahead) {
        // Left there, it would hide the records appended next under the same numbers.
        this.logger.warn({ reader: name, cursor: pos, end }, 'spool: cursor is past the end of the log, moving it to the end');
        pos = end;
      }
      this.cursors.set(name, pos);
    }
  }

  /** After each durable group: wake waiting readers, re-check the state. */
  private durable(): void {
    this.updateState();
    for (const cb of [...this.dataWaiters]) cb();
  }

  /** A group failed to write. Disk full is reported as SpoolFullError, like the bound. */
  private failed(err: Error, appends: number): Error {
    this.logger.error({ err: err.message, appends }, 'spool: append failed');
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') return err;
    this.refused += appends;
    this.setFull();
    return new SpoolFullError(`spool: disk full: ${err.message}`);
  }

  /** Deletes sealed segments that every known reader has committed past. */
  private retain(): Promise<void> {
    this.retention = this.retention.then(() =>
      this.retainNow().catch((err: Error) => {
        this.logger.error({ err: err.message }, 'spool: retention failed');
      }),
    );
    return this.retention;
  }

  private async retainNow(): Promise<void> {
    // With no reader that delivers the data anywhere, nothing is deleted: it waits for one.
    if (![...this.cursors.keys()].some((name) => !this.holders.has(name))) return;
    let minSegment = Number.POSITIVE_INFINITY;
    for (const pos of this.cursors.values()) minSegment = Math.min(minSegment, pos.segment);
    const { freed, deleted } = await this.writer.deleteBefore(minSegment);
    if (deleted === 0) return;
    const wasAtBound = this.atBound;
    this.atBound = false;
    if (wasAtBound) this.logger.info({ bytes: this.writer.bytes, freed }, 'spool: space freed, accepting appends again');
    this.updateState();
    // Back below the bound but still over the warning ratio: say that much has recovered
    // (updateState announces the full return to normal itself).
    if (wasAtBound && this.alarmed) this.emitSafe('recovered');
  }

  private setFull(): void {
    // Announced once per time at the bound, not on every refusal.
    if (this.atBound) return;
    this.atBound = true;
    this.alarmed = true;
    this.logger.warn({ bytes: this.writer.bytes, maxBytes: this.opts.maxBytes }, 'spool: full, refusing appends');
    this.emitSafe('full');
  }

  /** Re-checks the warning ratio; announces rising `nearFull` and the return to normal. */
  private updateState(): void {
    const near = this.writer.bytes >= this.opts.maxBytes * this.opts.warnRatio;
    if (near && !this.nearFull) {
      this.nearFull = true;
      this.alarmed = true;
      this.logger.warn({ bytes: this.writer.bytes, maxBytes: this.opts.maxBytes }, 'spool: nearly full');
      this.emitSafe('nearFull');
    }
    this.nearFull = near;
    if (!this.nearFull) this.atBound = false;
    if (this.alarmed && !this.atBound && !this.nearFull) {
      this.alarmed = false;
      this.logger.info({ bytes: this.writer.bytes, maxBytes: this.opts.maxBytes }, 'spool: below its warning level again');
      this.emitSafe('recovered');
    }
  }

  /** A listener's exception must not fail an append or a commit. */
  private emitSafe(event: keyof SpoolEvents): void {
    try {
      this.emit(event, this.stats());
    } catch (err) {
      this.logger.error({ event, err: (err as Error).message }, 'spool: event listener threw');
    }
  }
}
