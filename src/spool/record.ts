/**
 * The on-disk record format and the scanner that finds valid records in a stretch of bytes.
 *
 * A record is a 20-byte little-endian header followed by the payload:
 *
 * | offset | size | field                                                    |
 * |-------:|-----:|----------------------------------------------------------|
 * |      0 |    4 | magic `VGL1`                                             |
 * |      4 |    4 | payload length, bytes                                    |
 * |      8 |    4 | sequence number, low 32 bits                             |
 * |     12 |    4 | sequence number, high bits (a safe integer: < 2^21)      |
 * |     16 |    4 | CRC-32 of bytes 4..16 (length and seq) and the payload   |
 *
 * The length is inside the checksum so a flipped length bit cannot make the scanner accept a
 * record of the wrong size.
 */
import { crc32 } from './crc32.js';

/** Header size, bytes. */
export const HEADER_BYTES = 20;
/** `VGL1` read as a little-endian u32. */
export const MAGIC = 0x314c4756;
/** Largest payload accepted, bytes. Also bounds what a corrupt length field can make a scan read. */
export const MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;

const TWO_32 = 0x1_0000_0000;

/** One record found by a scan. `payload` is a view into the scanned buffer, not a copy. */
export interface ScannedRecord {
  readonly seq: number;
  /** Offset of the record's header within the scanned buffer. */
  readonly offset: number;
  readonly payload: Buffer;
}

/** A stretch of bytes that held no valid record. */
export interface SkippedRange {
  /** Offset within the scanned buffer. */
  readonly offset: number;
  readonly length: number;
}

export interface ScanResult {
  readonly records: ScannedRecord[];
  readonly skipped: SkippedRange[];
  /**
   * Offset up to which the buffer is decided: just after the last record or skipped range. Bytes
   * past it are an incomplete record (or garbage that may be followed by one) that needs more
   * data, or, when the scan was `final`, a tail with no valid record.
   */
  readonly end: number;
  /** Sequence number of the last record returned (or `afterSeq` when none). */
  readonly lastSeq: number;
}

export interface ScanOptions {
  /** Accept only records with a greater seq: the log is strictly increasing. */
  readonly afterSeq: number;
  /** Stop after this many records. */
  readonly maxRecords?: number;
  /**
   * True when no more bytes follow the buffer. Then trailing garbage is reported as skipped and a
   * torn record at the end is left past `end`; otherwise both wait for more data.
   */
  readonly final: boolean;
}

/** Writes one record (header and payload) into `out` at `at`. @returns the offset after it. */
export function encodeRecord(out: Buffer, at: number, seq: number, payload: Buffer): number {
  out.writeUInt32LE(MAGIC, at);
  out.writeUInt32LE(payload.length, at + 4);
  out.writeUInt32LE(seq % TWO_32, at + 8);
  out.writeUInt32LE(Math.floor(seq / TWO_32), at + 12);
  const crc = crc32(payload, crc32(out, 0, at + 4, at + 16));
  out.writeUInt32LE(crc, at + 16);
  payload.copy(out, at + HEADER_BYTES);
  return at + HEADER_BYTES + payload.length;
}

type Probe =
  | { readonly kind: 'ok'; readonly seq: number; readonly length: number }
  | { readonly kind: 'bad' }
  | { readonly kind: 'short' };

/** Checks whether a valid record starts at `at`. `short` means the buffer ends inside it. */
function probe(buf: Buffer, at: number, afterSeq: number): Probe {
  if (buf.length - at < HEADER_BYTES) return { kind: 'short' };
  if (buf.readUInt32LE(at) !== MAGIC) return { kind: 'bad' };
  const length = buf.readUInt32LE(at + 4);
  if (length > MAX_PAYLOAD_BYTES) return { kind: 'bad' };
  const seq = buf.readUInt32LE(at + 8) + buf.readUInt32LE(at + 12) * TWO_32;
  if (!Number.isSafeInteger(seq) || seq <= afterSeq) return { kind: 'bad' };
  const stop = at + HEADER_BYTES + length;
  if (stop > buf.length) return { kind: 'short' };
  const crc = crc32(buf, crc32(buf, 0, at + 4, at + 16), at + HEADER_BYTES, stop);
  if (crc !== buf.readUInt32LE(at + 16)) return { kind: 'bad' };
  return { kind: 'ok', seq, length };
}

/**
 * Finds the records in `buf`, in order. A record that fails its checks is skipped by searching
 * forward for the next magic number that starts a record whose checksum holds, so one damaged
 * record costs only itself.
 */
export function scanRecords(buf: Buffer, opts: ScanOptions): ScanResult {
  const records: ScannedRecord[] = [];
  const skipped: SkippedRange[] = [];
  const max = opts.maxRecords ?? Number.POSITIVE_INFINITY;
  let lastSeq = opts.afterSeq;
  let at = 0;
  while (records.length < max && at < buf.length) {
    const p = probe(buf, at, lastSeq);
    if (p.kind === 'ok') {
      const start = at + HEADER_BYTES;
      records.push({ seq: p.seq, offset: at, payload: buf.subarray(start, start + p.length) });
      lastSeq = p.seq;
      at = start + p.length;
      continue;
    }
    if (p.kind === 'short' && !opts.final) break;
    // Damaged (or, at the very end of a final buffer, torn): look for the next valid record.
    const next = resync(buf, at + 1, lastSeq, opts.final);
    if (next === undefined) {
      // Nothing valid follows. In a final buffer this is a tail to drop; otherwise wait for
      // more bytes, which may complete a record that starts in this stretch.
      if (opts.final) {
        skipped.push({ offset: at, length: buf.length - at });
        at = buf.length;
      }
      break;
    }
    skipped.push({ offset: at, length: next - at });
    at = next;
  }
  return { records, skipped, end: at, lastSeq };
}

/**
 * Offset of the next valid record at or after `from`, or undefined. In a non-final buffer a
 * candidate that runs past the end also stops the search (more bytes may prove it valid).
 */
function resync(buf: Buffer, from: number, afterSeq: number, final: boolean): number | undefined {
  const first = MAGIC & 0xff;
  for (let i = buf.indexOf(first, from); i !== -1; i = buf.indexOf(first, i + 1)) {
    const p = probe(buf, i, afterSeq);
    if (p.kind === 'ok') return i;
    if (p.kind === 'short' && !final) return undefined;
  }
  return undefined;
}
