/**
 * Binary parts of a saved state, kept beside its JSON rather than inside it. A snapshot of
 * typed arrays (the station's trends, NEWS2 and alarm logs: tens of MB at thousands of patients)
 * hands them to a `BlobWriter`, which keeps them (not a copy), or the object that gives them when
 * they are written (`later`), and gives a `BlobRef` for the JSON; the file holds the JSON, a
 * newline and the bytes. So the bytes must be written before the arrays change: in the same
 * synchronous run as the snapshot (`alarms/state-file.ts`). Base64 in the JSON cost a third
 * more bytes, a string of them and a JSON string of that, and a copy of the arrays another 70 MB:
 * at 5,000 patients a save held some 400 MB for a moment.
 */

/** Where a snapshot's bytes are among the blobs: offset and length. */
export interface BlobRef {
  readonly blob: number;
  readonly bytes: number;
}

/**
 * What gives a part when the blobs are written (`BlobWriter.later`): the object whose bytes they
 * are, so that a save of thousands of them holds no function or copy for each until then.
 */
export interface BlobSource {
  /** The bytes, as they are now: the length `later` was told. */
  blobParts(): readonly ArrayBufferView[];
}

/** A part made when the blobs are written, of the length promised. */
interface Later {
  readonly bytes: number;
  readonly source: BlobSource;
}

export class BlobWriter {
  private readonly list: Array<Uint8Array | Later> = [];
  private size = 0;

  /** Keeps `parts`, one after the other, and says where they will be. */
  add(...parts: ArrayBufferView[]): BlobRef {
    const at = this.size;
    for (const p of parts) {
      const bytes = asBytes(p);
      this.list.push(bytes);
      this.size += bytes.length;
    }
    return { blob: at, bytes: this.size - at };
  }

  /**
   * Says where the `bytes` bytes that `source` gives will be, asked for only when the blobs are
   * written: a snapshot whose bytes are views or copies made for the file (a log laid out oldest
   * first) then holds them one source at a time, not every one's until the end.
   */
  later(bytes: number, source: BlobSource): BlobRef {
    const at = this.size;
    this.list.push({ bytes, source });
    this.size += bytes;
    return { blob: at, bytes };
  }

  /** Everything added, in order: views of the arrays themselves, and those made now (`later`). */
  *parts(): Generator<Uint8Array> {
    for (const p of this.list) {
      if (p instanceof Uint8Array) {
        yield p;
        continue;
      }
      let made = 0;
      for (const part of p.source.blobParts()) {
        const bytes = asBytes(part);
        made += bytes.length;
        yield bytes;
      }
      if (made !== p.bytes) throw new Error(`a saved state's binary part made ${made} bytes where ${p.bytes} were named`);
    }
  }
}

function asBytes(p: ArrayBufferView): Uint8Array {
  return p instanceof Uint8Array ? p : new Uint8Array(p.buffer, p.byteOffset, p.byteLength);
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
