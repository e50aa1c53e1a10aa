/**
 * Flag framer for the GE/Datex-Ohmeda S/5 DRI byte stream (see README.md in this folder):
 * `0x7E` + escaped(body) + `0x7E`, where body bytes 0x7E and 0x7D are sent as `0x7D, byte ^ 0x20`.
 */
import type { Framer, FramerItem } from '../../src/core/profile.js';
import { DRI_ESCAPE as ESCAPE, DRI_ESCAPE_XOR as ESCAPE_XOR, DRI_FLAG as FLAG } from './dri.js';

export { FLAG, ESCAPE, ESCAPE_XOR };
/**
 * Most raw (escaped) bytes between two flags; anything longer is discarded. The largest DRI
 * record is 1,490 bytes with its header (VSCaptureWave reads records into 1,490 bytes), so a
 * frame of record and checksum, every byte escaped, stays under 3,000.
 */
export const DEFAULT_MAX_RAW_BYTES = 3000;

/**
 * Splits the stream at flags and unescapes each frame. Emits the unescaped body of every
 * non-empty stretch between two flags; consecutive flags (empty frames) are ignored.
 *
 * Errors (each stretch is reported once, at the flag that ends it, or as soon as it passes the
 * bound):
 * - `no_flag`: bytes before the first flag (the framer started mid-frame).
 * - `frame_too_long`: more than `maxRawBytes` raw bytes without a flag; the framer discards up
 *   to the next flag, reporting the discarded bytes once more at that flag (and again each time
 *   another `maxRawBytes` pass without one).
 * - `bad_escape`: an escape byte directly followed by a flag; the frame is dropped and the flag
 *   starts the next one.
 *
 * Every input byte is thus either a flag, part of an emitted frame, or counted in an error.
 */
export class FlagFramer implements Framer {
  readonly maxRawBytes: number;
  /** Unescaped bytes of the frame being read. Its size never passes `maxRawBytes`. */
  #body: Buffer;
  #bodyLength = 0;
  /** Raw bytes seen since the last flag (escapes included). */
  #raw = 0;
  #escaped = false;
  #synced = false;
  #discarding = false;

  constructor(options: { readonly maxRawBytes?: number } = {}) {
    const max = options.maxRawBytes ?? DEFAULT_MAX_RAW_BYTES;
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`maxRawBytes must be a positive integer, got ${max}`);
    this.maxRawBytes = max;
    this.#body = Buffer.alloc(max);
  }

  /** Raw bytes held for the frame being read (never more than `maxRawBytes`). */
  get buffered(): number {
    return this.#discarding || !this.#synced ? 0 : this.#raw;
  }

  push(chunk: Buffer): FramerItem[] {
    const out: FramerItem[] = [];
    for (const byte of chunk) {
      if (byte === FLAG) {
        this.#flag(out);
        continue;
      }
      this.#raw += 1;
      if (!this.#synced) {
        // Before the first flag: count and drop, and report it once the flag arrives. A device
        // that never sends a flag is still reported every `maxRawBytes`.
        if (this.#raw === this.maxRawBytes) this.#report(out, 'no_flag');
        continue;
      }
      if (this.#discarding) {
        if (this.#raw === this.maxRawBytes) this.#report(out, 'frame_too_long');
        continue;
      }
      if (this.#raw > this.maxRawBytes) {
        // The stretch passed the bound: report what was held and skip to the next flag.
        this.#raw -= 1;
        this.#report(out, 'frame_too_long');
        this.#raw = 1;
        this.#discarding = true;
        continue;
      }
      if (this.#escaped) {
        this.#escaped = false;
        this.#body[this.#bodyLength++] = byte ^ ESCAPE_XOR;
      } else if (byte === ESCAPE) {
        this.#escaped = true;
      } else {
        this.#body[this.#bodyLength++] = byte;
      }
    }
    return out;
  }

  #flag(out: FramerItem[]): void {
    if (!this.#synced) {
      if (this.#raw > 0) this.#report(out, 'no_flag');
      this.#synced = true;
    } else if (this.#discarding) {
      if (this.#raw > 0) this.#report(out, 'frame_too_long');
    } else if (this.#escaped) {
      this.#report(out, 'bad_escape');
    } else if (this.#bodyLength > 0) {
      out.push({ frame: Buffer.from(this.#body.subarray(0, this.#bodyLength)) });
    }
    this.#reset();
  }

  #report(out: FramerItem[], error: string): void {
    out.push({ error, bytes: this.#raw });
    this.#raw = 0;
    this.#bodyLength = 0;
    this.#escaped = false;
  }

  #reset(): void {
    this.#raw = 0;
    this.#bodyLength = 0;
    this.#escaped = false;
    this.#discarding = false;
  }
}

/** A fresh Datex flag framer (for `SerialProfile.createFramer`). */
export function createFlagFramer(options: { readonly maxRawBytes?: number } = {}): FlagFramer {
  return new FlagFramer(options);
}
