/**
 * The durable spool's contract. The spool is an append-only log of opaque records on disk; each
 * reader keeps its own persisted cursor, so a crash replays at most the last uncommitted batch
 * (harmless downstream: InfluxDB overwrites identical points).
 */

/** A position in the log. Opaque to readers apart from `seq`. */
export interface SpoolPosition {
  /** Sequence number of the next record to read (records are numbered from 1). */
  readonly seq: number;
  /** Segment file id. */
  readonly segment: number;
  /** Byte offset in that segment. */
  readonly offset: number;
}

export interface SpoolEntry {
  readonly seq: number;
  readonly payload: Buffer;
}

export interface SpoolBatch {
  readonly entries: readonly SpoolEntry[];
  /** Position just after the last entry: pass it to `commit` once the batch is safely downstream. */
  readonly next: SpoolPosition;
}

export interface SpoolStats {
  /** Bytes on disk across all segments. */
  readonly bytes: number;
  /** Configured bound. */
  readonly maxBytes: number;
  /** `bytes / maxBytes` reached the warning ratio. */
  readonly nearFull: boolean;
  /**
   * At the bound: an append was refused, and since then retention has not freed space nor has
   * the spool dropped below its warning ratio. (Small appends that still fit go through.)
   */
  readonly full: boolean;
  readonly segments: number;
  /** Last sequence number appended (0 when empty). */
  readonly lastSeq: number;
  /** Records appended since open. */
  readonly appended: number;
  /** fsync calls since open (group commit makes this far smaller than `appended`). */
  readonly fsyncs: number;
  /** Groups made durable since open: appends that came while one group was written went in the next, with one write and one fsync. */
  readonly groups: number;
  /** Appends refused because the spool was full, since open. */
  readonly refused: number;
  /** Bytes skipped at open because a record was torn or corrupt. */
  readonly recoveredBytesSkipped: number;
}

/** The spool's section of /healthz. */
export interface SpoolHealth extends Pick<SpoolStats, 'bytes' | 'maxBytes' | 'nearFull' | 'full' | 'lastSeq' | 'refused'> {
  /** Records not yet written to InfluxDB (every record when no writer is configured). */
  readonly depth: number;
}

export interface SpoolReader {
  readonly name: string;
  /**
   * Reads up to `max` records starting at the last committed position (so calling it again
   * without a commit returns the same records: retry-safe). Resolves with an empty batch when
   * there is nothing new.
   */
  read(max: number): Promise<SpoolBatch>;
  /** Durably records that everything before `pos` is safely downstream. */
  commit(pos: SpoolPosition): Promise<void>;
  /** The committed position: where the next `read` starts. */
  position(): SpoolPosition;
  /** Records appended but not yet committed by this reader. */
  lag(): number;
  /** Resolves when records exist past the committed position, or when `signal` aborts. */
  waitForData(signal?: AbortSignal): Promise<void>;
}
