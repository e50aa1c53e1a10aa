/**
 * Binary parts of a saved state, kept beside its JSON rather than inside it. A snapshot of
 * typed arrays (the station's trends, NEWS2 and alarm logs: tens of MB at thousands of patients)
 * hands them to a `BlobWriter`, which keeps them (not a copy) and gives a `BlobRef` for the
 * JSON; the file holds the JSON, a newline and the bytes. So the bytes must be written before the
 * arrays change: in the same synchronous run as the snapshot (`alarms/state-file.ts`). Base64 in the
 * JSON cost a third more bytes, a string of them and a JSON string of that, and a copy of the
 * arrays another 70 MB: at 5,000 patients a save held some 400 MB for a moment.
 */

/** Where a snapshot's bytes are among the blobs: offset and length. */
export interface BlobRef {
  readonly blob: number;
  readonly bytes: number;
}

export class BlobWriter {
  private readonly list: Uint8Array[] = [];
  private size = 0;

  /** Keeps `parts`, one after the other, and says where they will be. */
  add(...parts: ArrayBufferView[]): BlobRef {
    const at = this.size;
    for (const p of parts) {
      const bytes = p instanceof Uint8Array ? p : new Uint8Array(p.buffer, p.byteOffset, p.byteLength);
      this.list.push(bytes);
      this.size += bytes.length;
    }
    return { blob: at, bytes: this.size - at };
  }

  /** Everything added, in order: views of the arrays themselves. */
  parts(): readonly Uint8Array[] {
    return this.list;
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
