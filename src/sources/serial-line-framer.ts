/**
 * Line framer for ASCII bedside monitors (Masimo Radical-7 style, Nellcor N-595 style): one
 * frame per line, terminated by LF, with an optional CR before it. Bounded: a device that
 * never sends a newline cannot grow memory.
 */
import type { Framer, FramerItem } from '../core/profile.js';

const LF = 0x0a;
const CR = 0x0d;
const NUL = 0x00;

/** Default bound on bytes held while waiting for a newline. */
export const DEFAULT_MAX_LINE_BYTES = 512;

export interface LineFramerOptions {
  /**
   * Most bytes held without a newline, in bytes (CR included). One more byte that is not a
   * newline discards the held bytes as `line_too_long` and skips to the next newline.
   */
  readonly maxBytes?: number;
}

/**
 * Splits a byte stream at LF. Each emitted frame is the line without its LF and without one
 * trailing CR; empty lines are emitted as empty frames (the decoder decides what they mean).
 *
 * Overflow: when a line passes `maxBytes`, the held bytes are reported as one
 * `{ error: 'line_too_long', bytes }` item and the framer discards everything up to and
 * including the next LF, reporting those bytes (without the LF) as further `line_too_long`
 * items: one each time `maxBytes` more have been discarded, and one for the rest at the LF.
 * Every input byte is thus either part of a frame, a line terminator, counted in an error, or
 * NUL fill before a line: NULs at a line's start are skipped, not held, so a run of them longer
 * than the bound does not cost the line after it.
 */
export class LineFramer implements Framer {
  readonly maxBytes: number;
  #held: Buffer[] = [];
  #heldBytes = 0;
  /** True after an overflow until the next LF. */
  #discarding = false;
  #discarded = 0;

  constructor(options: LineFramerOptions = {}) {
    const max = options.maxBytes ?? DEFAULT_MAX_LINE_BYTES;
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`maxBytes must be a positive integer, got ${max}`);
    this.maxBytes = max;
  }

  /** Bytes currently held while waiting for a newline (never more than `maxBytes`). */
  get buffered(): number {
    return this.#heldBytes;
  }

  push(chunk: Buffer): FramerItem[] {
    const out: FramerItem[] = [];
    let start = 0;
    while (start < chunk.length) {
      const lf = chunk.indexOf(LF, start);
      const end = lf === -1 ? chunk.length : lf;
      this.#take(chunk.subarray(start, end), out);
      if (lf === -1) break;
      this.#endLine(out);
      start = lf + 1;
    }
    return out;
  }

  /** Adds bytes that contain no LF to the current line, or to the discarded stretch. */
  #take(part: Buffer, out: FramerItem[]): void {
    let rest = part;
    while (rest.length > 0) {
      if (!this.#discarding && this.#heldBytes === 0) {
        // NUL fill before a line (some monitors send it while idle) is no part of it
        let k = 0;
        while (k < rest.length && rest[k] === NUL) k++;
        rest = rest.subarray(k);
        if (rest.length === 0) return;
      }
      if (this.#discarding) {
        const n = Math.min(rest.length, this.maxBytes - this.#discarded);
        this.#discarded += n;
        rest = rest.subarray(n);
        if (this.#discarded === this.maxBytes) {
          out.push({ error: 'line_too_long', bytes: this.#discarded });
          this.#discarded = 0;
        }
        continue;
      }
      const room = this.maxBytes - this.#heldBytes;
      if (rest.length <= room) {
        this.#hold(rest);
        return;
      }
      // The line is longer than the bound: drop what is held and skip to the next LF.
      this.#hold(rest.subarray(0, room));
      out.push({ error: 'line_too_long', bytes: this.#heldBytes });
      this.#held = [];
      this.#heldBytes = 0;
      this.#discarding = true;
      rest = rest.subarray(room);
    }
  }

  #hold(part: Buffer): void {
    if (part.length === 0) return;
    // Copy: the caller may reuse its read buffer.
    this.#held.push(Buffer.from(part));
    this.#heldBytes += part.length;
  }

  #endLine(out: FramerItem[]): void {
    if (this.#discarding) {
      if (this.#discarded > 0) out.push({ error: 'line_too_long', bytes: this.#discarded });
      this.#discarding = false;
      this.#discarded = 0;
      return;
    }
    let line = Buffer.concat(this.#held, this.#heldBytes);
    this.#held = [];
    this.#heldBytes = 0;
    if (line.length > 0 && line[line.length - 1] === CR) line = line.subarray(0, line.length - 1);
    out.push({ frame: line });
  }
}

/** A fresh line framer (for `SerialProfile.createFramer`). */
export function createLineFramer(options: LineFramerOptions = {}): LineFramer {
  return new LineFramer(options);
}
