/**
 * Keeps frames that were refused (malformed, unknown metric, implausible) in a bounded JSON-lines
 * file beside the spool, so a clinical engineer can see exactly what a device sent. When the file
 * passes its bound it is rotated once (`.1`), so disk use stays under twice the bound.
 */
import { createWriteStream, renameSync, statSync, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';

export interface RejectedEntry {
  readonly ts: number;
  readonly device: string;
  readonly origin: string;
  readonly reason: string;
  readonly message: string;
  readonly payload?: Buffer;
}

/** Payload bytes kept per entry; the rest is noted as truncated. */
const MAX_PAYLOAD_KEPT = 1024;

export class RejectedLog {
  private stream: WriteStream;
  private bytes: number;

  constructor(
    private readonly file: string,
    private readonly maxBytes = 16 * 1024 * 1024,
  ) {
    mkdirSync(dirname(file), { recursive: true });
    try {
      this.bytes = statSync(file).size;
    } catch {
      this.bytes = 0;
    }
    this.stream = createWriteStream(file, { flags: 'a' });
  }

  write(e: RejectedEntry): void {
    const payload = e.payload;
    const line =
      JSON.stringify({
        ts: new Date(e.ts).toISOString(),
        device: e.device,
        origin: e.origin,
        reason: e.reason,
        message: e.message,
        ...(payload ? { payloadBase64: payload.subarray(0, MAX_PAYLOAD_KEPT).toString('base64'), payloadBytes: payload.length } : {}),
      }) + '\n';
    if (this.bytes + line.length > this.maxBytes) this.rotate();
    this.bytes += line.length;
    this.stream.write(line);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.stream.end(() => resolve()));
  }

  private rotate(): void {
    this.stream.end();
    renameSync(this.file, `${this.file}.1`);
    this.stream = createWriteStream(this.file, { flags: 'a' });
    this.bytes = 0;
  }
}
