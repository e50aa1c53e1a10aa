/** A debug-level logger whose JSON lines the test can read back. */
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

export function captureLogs(): { logger: Logger; logs: Array<Record<string, unknown>> } {
  const logs: Array<Record<string, unknown>> = [];
  const out = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, out), logs };
}
