/**
 * Segment files: naming, listing, and the recovery scan run at open. A segment is named after the
 * sequence number its first record was given (`00000000000000000001.seg`), so the names sort in
 * log order and say where each segment starts.
 */
import { open, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../core/log.js';
import { scanRecords } from './record.js';

const SEGMENT_RE = /^(\d{20})\.seg$/;

/** File name of segment `id`. */
export function segmentFileName(id: number): string {
  return `${String(id).padStart(20, '0')}.seg`;
}

/** Segment ids found in `dir`, ascending. Other files are ignored. */
export async function listSegmentIds(dir: string): Promise<number[]> {
  const ids: number[] = [];
  for (const name of await readdir(dir)) {
    const m = SEGMENT_RE.exec(name);
    if (m?.[1] !== undefined) {
      const id = Number(m[1]);
      if (Number.isSafeInteger(id) && id > 0) ids.push(id);
    }
  }
  return ids.sort((a, b) => a - b);
}

/** fsync a directory so that a created, renamed or removed entry in it survives a crash. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** What the recovery scan learned about one segment. */
export interface RecoveredSegment {
  readonly id: number;
  /** Bytes on disk after recovery (after truncating a torn tail, for the last segment). */
  readonly size: number;
  /** Seq of the last valid record in it, or `afterSeq` when it holds none. */
  readonly lastSeq: number;
  /** Bytes that held no valid record: damaged records, plus the torn tail when truncated. */
  readonly skippedBytes: number;
}

/**
 * Scans one segment. Damaged records in the middle are skipped (the scanner finds the next valid
 * one) and logged with file and offset. When `isLast`, bytes after the last valid record are a
 * write torn by a crash: the file is truncated there and fsynced, so new appends follow the last
 * good record.
 */
export async function recoverSegment(
  dir: string,
  id: number,
  afterSeq: number,
  isLast: boolean,
  logger: Logger,
): Promise<RecoveredSegment> {
  const file = join(dir, segmentFileName(id));
  const buf = await readFile(file);
  const scan = scanRecords(buf, { afterSeq, final: true });
  let skippedBytes = 0;
  let size = buf.length;
  for (const s of scan.skipped) {
    skippedBytes += s.length;
    const tail = s.offset + s.length === buf.length;
    if (isLast && tail) {
      logger.warn({ file, offset: s.offset, bytes: s.length }, 'spool: truncating torn tail of last segment');
      size = s.offset;
    } else {
      logger.warn({ file, offset: s.offset, bytes: s.length }, 'spool: skipping damaged bytes in segment');
    }
  }
  if (size < buf.length) {
    const fh = await open(file, 'r+');
    try {
      await fh.truncate(size);
      await fh.datasync();
    } finally {
      await fh.close();
    }
  }
  return { id, size, lastSeq: scan.lastSeq, skippedBytes };
}
