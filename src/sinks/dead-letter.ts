/**
 * The dead-letter file: items a destination refused for good, or records that could not be
 * encoded for it, kept as JSON lines with their reason. A forwarder commits past a record only
 * after its dead letter is on disk, so nothing leaves the spool without a trace.
 */
import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';

/** One refused record, as written (one JSON object per line). */
export interface DeadLetter {
  /** Epoch ms when it was dead-lettered. */
  readonly ts: number;
  /** Status the destination answered (HTTP), or null when the record never reached it (encoding failed). */
  readonly status: number | null;
  readonly reason: string;
  /** What was sent (a line-protocol line, an alarm transition as JSON), or the raw spool record when it could not be encoded. */
  readonly line: string;
  /** Spool sequence number of the record. */
  readonly seq: number;
}

/** Appends dead letters durably. One instance per file; appends are serialised. */
export class DeadLetterFile {
  #count = 0;
  #tail: Promise<void> = Promise.resolve();

  constructor(
    /** Path of the JSON-lines file; its directory is created when missing. */
    readonly path: string,
  ) {}

  /** Dead letters written since this instance was created. */
  get count(): number {
    return this.#count;
  }

  /**
   * Appends the letters and fsyncs the file before resolving.
   * @throws the file-system error when the file cannot be written (the caller keeps the batch).
   */
  append(letters: readonly DeadLetter[]): Promise<void> {
    if (letters.length === 0) return this.#tail;
    const next = this.#tail.then(() => this.#write(letters));
    // A failed append must not poison the ones queued behind it.
    this.#tail = next.catch(() => undefined);
    return next;
  }

  async #write(letters: readonly DeadLetter[]): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    const text = letters.map((l) => JSON.stringify(l)).join('\n') + '\n';
    const fh = await open(this.path, 'a');
    try {
      await fh.appendFile(text, 'utf8');
      await fh.datasync();
    } finally {
      await fh.close();
    }
    this.#count += letters.length;
  }
}
