import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

/** A fresh directory under the OS temp dir; `cleanup` removes it. */
export async function tempDir(prefix = 'vigil-spool-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A logger that keeps its JSON lines in memory, so tests can check what was warned. */
export function memoryLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString('utf8').split('\n')) if (l.trim() !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

/** A payload whose content is derived from `i`, so each record can be checked by value. */
export function payloadFor(i: number, size = 32): Buffer {
  const b = Buffer.alloc(size);
  const head = Buffer.from(`rec-${i}-`);
  for (let k = 0; k < size; k++) b[k] = head[k % head.length]!;
  return b;
}
