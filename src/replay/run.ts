/**
 * Replays a recording through the same detector and alarm pipeline the gateway runs live
 * (`Pipeline`), in virtual time and as fast as the CPU allows. No ticks are added: each line's
 * time moves the clock (see alarms/pipeline.ts for why that reproduces live output exactly).
 */
import type { Readable } from 'node:stream';
import type { DetectorConfig } from '../detectors/config.js';
import { Pipeline, inputTs, type PipelineOutput } from '../alarms/pipeline.js';
import { formatOutput } from './format.js';
import { ReplayLineError, parseLine } from './reader.js';
import { ReplaySummary } from './summary.js';

/** Where replay writes. `out` gets JSON lines or the summary; `err` gets bad lines and progress. */
export interface ReplayIO {
  readonly out: {
    write(chunk: string): boolean;
    once?(event: 'drain' | 'error' | 'close', cb: () => void): unknown;
    off?(event: 'drain' | 'error' | 'close', cb: () => void): unknown;
  };
  readonly err: { write(chunk: string): boolean };
}

export interface ReplayOptions {
  readonly config: DetectorConfig;
  /** Print the summary table instead of the events. */
  readonly summary?: boolean;
  /** Draw a progress bar on `err`, against this many bytes of input. */
  readonly progressBytes?: number;
  /** Name used in bad-line reports, e.g. the file name. */
  readonly source?: string;
}

export interface ReplayResult {
  readonly lines: number;
  readonly badLines: number;
  readonly outputs: number;
}

const FLUSH_CHARS = 64 * 1024;

/**
 * The lines of a text stream, a chunk's worth at a time (LF or CRLF ends a line; a last line
 * without one counts). Cheaper than one promise per line for a recording of a million lines.
 */
export async function* linesOf(stream: Readable | AsyncIterable<string>): AsyncGenerator<string[]> {
  let rest = '';
  for await (const chunk of stream as AsyncIterable<string>) {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop()!;
    yield lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  }
  if (rest !== '') yield [rest.endsWith('\r') ? rest.slice(0, -1) : rest];
}

/** Runs replay over the lines of a recording (one at a time, or a chunk's worth at a time). */
export async function runReplay(lines: AsyncIterable<string | readonly string[]> | Iterable<string>, opts: ReplayOptions, io: ReplayIO): Promise<ReplayResult> {
  const summary = opts.summary ? new ReplaySummary() : undefined;
  const pipeline = new Pipeline(opts.config);
  let buf = '';
  let outputs = 0;
  const emit = (o: PipelineOutput): void => {
    outputs++;
    if (summary) summary.addOutput(o);
    else buf += formatOutput(o) + '\n';
  };
  const flush = async (): Promise<void> => {
    if (buf === '') return;
    const chunk = buf;
    buf = '';
    if (io.out.write(chunk) || !io.out.once) return;
    // wait for the reader to catch up; a broken pipe ends the wait too (the caller stops reading)
    const events = ['drain', 'error', 'close'] as const;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        for (const ev of events) io.out.off?.(ev, done);
        resolve();
      };
      for (const ev of events) io.out.once?.(ev, done);
    });
  };

  let lineNo = 0;
  let bad = 0;
  let bytes = 0;
  let shown = -1;
  let lastTs = Number.NEGATIVE_INFINITY;
  const where = opts.source ? `${opts.source}: ` : '';
  const take = (text: string): void => {
    lineNo++;
    bytes += Buffer.byteLength(text) + 1;
    let parsed;
    try {
      parsed = parseLine(text, lineNo);
    } catch (e) {
      if (!(e instanceof ReplayLineError)) throw e;
      bad++;
      io.err.write(`${where}${e.message} (skipped)\n`);
      return;
    }
    if (!parsed) return;
    const ts = inputTs(parsed);
    if (ts < lastTs) io.err.write(`${where}line ${lineNo}: ts is ${(lastTs - ts) / 1000} s before the line above; handled at that line's time\n`);
    else lastTs = ts;
    summary?.addInput(parsed);
    for (const o of pipeline.push(parsed)) emit(o);
  };
  for await (const item of lines) {
    if (typeof item === 'string') take(item);
    else for (const text of item) take(text);
    if (buf.length >= FLUSH_CHARS) await flush();
    if (opts.progressBytes) {
      const pct = Math.min(100, Math.floor((100 * bytes) / opts.progressBytes));
      if (pct !== shown) {
        shown = pct;
        const n = Math.round(pct / 5);
        io.err.write(`\rreplay [${'#'.repeat(n)}${' '.repeat(20 - n)}] ${pct}%`);
      }
    }
  }
  if (opts.progressBytes) io.err.write('\r\x1b[K');
  if (summary) buf += summary.render();
  await flush();
  if (bad > 0) io.err.write(`replay: ${bad} bad line${bad === 1 ? '' : 's'} skipped\n`);
  return { lines: lineNo, badLines: bad, outputs };
}
