/**
 * Binary parts of a saved state, kept beside its JSON rather than inside it. A snapshot of
 * typed arrays (the station's trends and NEWS2 logs: tens of MB at thousands of patients) hands
 * their bytes to a `BlobWriter`, which copies them at once (the arrays go on changing) into a few
 * large chunks, and keeps a `BlobRef` in the JSON; the file holds the JSON, a newline and the
 * bytes. Base64 in the JSON cost a third more bytes, a string of them and a JSON string of that:
 * at 5,000 patients a save held some 400 MB of heap for a moment and stopped the event loop for
 * half a second.
 */

/** Where a snapshot's bytes are among the blobs: offset and length. */
export interface BlobRef {
  readonly blob: number;
  readonly bytes: number;
}

const CHUNK = 4 * 1024 * 1024;

export class BlobWriter {
  private readonly full: Buffer[] = [];
  private chunk: Buffer = Buffer.allocUnsafe(0);
  private used = 0;
  private size = 0;

  /** Copies `parts`, one after the other, and says where they are. */
  add(...parts: ArrayBufferView[]): BlobRef {
    const at = this.size;
    for (const p of parts) {
      let bytes = p instanceof Uint8Array ? p : new Uint8Array(p.buffer, p.byteOffset, p.byteLength);
      if (bytes.length <= this.chunk.length - this.used) {
        // the usual case: it fits in the chunk being filled
        this.chunk.set(bytes, this.used);
        this.used += bytes.length;
        this.size += bytes.length;
        continue;
      }
      while (bytes.length > 0) {
        if (this.used === this.chunk.length) this.next(bytes.length);
        const n = Math.min(bytes.length, this.chunk.length - this.used);
        this.chunk.set(bytes.subarray(0, n), this.used);
        this.used += n;
        this.size += n;
        bytes = bytes.subarray(n);
      }
    }
    return { blob: at, bytes: this.size - at };
  }

  /** Everything added, in order. */
  parts(): Buffer[] {
    return [...this.full, this.chunk.subarray(0, this.used)].filter((b) => b.length > 0);
  }

  private next(atLeast: number): void {
    if (this.used > 0) this.full.push(this.chunk.subarray(0, this.used));
    this.chunk = Buffer.allocUnsafe(Math.max(CHUNK, atLeast));
    this.used = 0;
  }
}

export class BlobReader {
  constructor(private readonly bytes: Buffer) {}

  /** The bytes `ref` names; throws naming the problem when the file holds fewer. */
  get(ref: BlobRef): Buffer {
    if (!Number.isSafeInteger(ref.blob) || !Number.isSafeInteger(ref.bytes) || ref.blob < 0 || ref.bytes < 0 || ref.blob + ref.bytes > this.bytes.length) {
      throw new Error(`saved state names bytes ${ref.blob}–${ref.blob + ref.bytes} of its binary part, which holds ${this.bytes.length}`);
    }
    return this.bytes.subarray(ref.blob, ref.blob + ref.bytes);
  }
}

/** A reader with no bytes (a state saved with everything in its JSON). */
export const NO_BLOBS = new BlobReader(Buffer.alloc(0));

export function isBlobRef(x: unknown): x is BlobRef {
  return typeof x === 'object' && x !== null && typeof (x as BlobRef).blob === 'number' && typeof (x as BlobRef).bytes === 'number';
}
