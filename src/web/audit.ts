/**
 * The audit log: an append-only JSON-lines file under the data dir
 * (`dataDir/audit/audit.jsonl`) of who did what and when at the nurse station and through the
 * API: sign-ins (also failed ones), sign-outs, acknowledgements, silences, manual observations,
 * census changes and alarm-limit changes. Each line is written and fsynced before the action's
 * answer goes out, so an answered action is on record. Refused sign-ins (the limiter said no) are
 * recorded once per blocked address or username and block, not once per attempt, so a client
 * hammering the sign-in cannot push real entries out of the audit view (see routes-session.ts).
 */
import { mkdir, open, stat, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface AuditEntry {
  /** epoch ms */
  readonly ts: number;
  /** Username, or `api-token` for machine clients. */
  readonly who: string;
  readonly role: string;
  /** e.g. `signin`, `signin.failed`, `alarm.ack`, `alarm.silence`, `obs.manual`, `census.admit`, `limits.set`. */
  readonly action: string;
  /** Patient the action concerns, when there is one. */
  readonly patientId?: string;
  /** Client address. */
  readonly ip?: string;
  /** What exactly: alarm id, values, bed, … */
  readonly detail?: Record<string, unknown>;
}

export class AuditLog {
  private handle: FileHandle | undefined;
  /** Lines waiting for the next write, with the callers waiting for them to be on disk. */
  private pending: Array<{ line: string; done: (err?: Error) => void }> = [];
  private flushing: Promise<void> | undefined;

  constructor(
    readonly file: string,
    private readonly clock: () => number = Date.now,
  ) {}

  /**
   * Appends one entry; resolves once it is on disk. Entries that arrive while a write is in
   * flight go out together in the next write with one fsync (group commit), so a burst of
   * entries costs one fsync per batch, and a nurse's action never queues behind one fsync per
   * earlier entry.
   */
  record(entry: Omit<AuditEntry, 'ts'> & { ts?: number }): Promise<void> {
    const line = JSON.stringify({ ts: entry.ts ?? this.clock(), ...entry }) + '\n';
    return new Promise((resolve, reject) => {
      this.pending.push({ line, done: (err) => (err ? reject(err) : resolve()) });
      this.flushing ??= this.flush();
    });
  }

  private async flush(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      try {
        if (!this.handle) {
          await mkdir(dirname(this.file), { recursive: true });
          this.handle = await open(this.file, 'a', 0o600);
        }
        await this.handle.write(batch.map((b) => b.line).join(''));
        await this.handle.datasync();
        for (const b of batch) b.done();
      } catch (err) {
        for (const b of batch) b.done(err as Error);
      }
    }
    this.flushing = undefined;
  }

  /** The newest entries, newest first (reads at most the last 4 MiB of the file). */
  async recent(limit: number, filter: { patientId?: string } = {}): Promise<AuditEntry[]> {
    await this.flushing;
    let size: number;
    try {
      size = (await stat(this.file)).size;
    } catch {
      return [];
    }
    const start = Math.max(0, size - 4 * 1024 * 1024);
    const fh = await open(this.file, 'r');
    try {
      const buf = Buffer.alloc(size - start);
      await fh.read(buf, 0, buf.length, start);
      const lines = buf.toString('utf8').split('\n');
      if (start > 0) lines.shift(); // partial first line
      const out: AuditEntry[] = [];
      for (let i = lines.length - 1; i >= 0 && out.length < limit; i--) {
        const l = lines[i];
        if (!l) continue;
        try {
          const e = JSON.parse(l) as AuditEntry;
          if (filter.patientId === undefined || e.patientId === filter.patientId) out.push(e);
        } catch {
          /* a torn last line after a crash is skipped */
        }
      }
      return out;
    } finally {
      await fh.close();
    }
  }

  async close(): Promise<void> {
    await this.flushing;
    await this.handle?.close();
    this.handle = undefined;
  }
}
