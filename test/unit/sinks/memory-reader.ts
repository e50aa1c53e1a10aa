/** An in-memory SpoolReader for unit tests of forwarding: same contract, no disk. */
import type { SpoolBatch, SpoolEntry, SpoolPosition, SpoolReader } from '../../../src/spool/types.js';
import type { SpoolRecord } from '../../../src/core/types.js';

export class MemoryReader implements SpoolReader {
  readonly name = 'memory';
  readonly entries: SpoolEntry[] = [];
  /** Every position passed to commit, in order. */
  readonly commits: SpoolPosition[] = [];
  /** Sequence number of the next record to read. */
  committedSeq = 1;
  #waiters: Array<() => void> = [];

  /** Appends raw payloads and wakes waiters. */
  appendRaw(...payloads: Buffer[]): void {
    for (const payload of payloads) this.entries.push({ seq: this.entries.length + 1, payload });
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  append(...records: SpoolRecord[]): void {
    this.appendRaw(...records.map((r) => Buffer.from(JSON.stringify(r))));
  }

  async read(max: number): Promise<SpoolBatch> {
    const slice = this.entries.slice(this.committedSeq - 1, this.committedSeq - 1 + max);
    const last = slice.at(-1);
    const nextSeq = last ? last.seq + 1 : this.committedSeq;
    return { entries: slice, next: { seq: nextSeq, segment: 0, offset: nextSeq } };
  }

  async commit(pos: SpoolPosition): Promise<void> {
    this.commits.push(pos);
    this.committedSeq = pos.seq;
  }

  position(): SpoolPosition {
    return { seq: this.committedSeq, segment: 0, offset: this.committedSeq };
  }

  lag(): number {
    return this.entries.length - (this.committedSeq - 1);
  }

  waitForData(signal?: AbortSignal): Promise<void> {
    if (this.lag() > 0 || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      this.#waiters.push(resolve);
      signal?.addEventListener('abort', () => resolve(), { once: true });
    });
  }
}
