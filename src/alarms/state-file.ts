/**
 * The saved alarm state: a checkpoint of the detectors and alarm manager (`PipelineState`) and of
 * the views built from the same records (the nurse station's ward store), with the spool seq of
 * the last input it includes. A restart loads it and replays the spool after that seq, so the
 * state after a restart is the state before it.
 *
 * One file, replaced atomically (written beside, fsynced, renamed), readable by the gateway's
 * user only: it holds patient data. It is the state as one line of JSON, then a newline and the
 * binary parts the JSON refers to (see `core/blobs.ts`). Format 4 keeps the station's trends and
 * logs as they are held (a trend bucket's mean in tenths like its lowest and highest, a log's
 * times as 32-bit offsets), written from their own arrays; formats 1 (JSON only), 2 (alarm
 * histories in the JSON) and 3 (trend means and log times as floats) are still read. A build
 * that reads only older formats refuses a newer file by its format.
 *
 * It is written as it is taken, in one synchronous run (`writeStateNow`): deferred parts are
 * made one at a time and written (`core/json-stream.ts`), the blobs straight from the arrays.
 * Nothing can change meanwhile, so the file is the state of one moment, and the state is never
 * held whole as objects, as text and as bytes at once (at 5,000 patients those came to 190 MB).
 */
import { readFile } from 'node:fs/promises';
import { TempFile } from '../core/atomic-file.js';
import { BlobReader, NO_BLOBS, type BlobWriter } from '../core/blobs.js';
import { writeJson, type Deferring } from '../core/json-stream.js';
import { PIPELINE_STATE_VERSION, type PipelineState } from './pipeline.js';

/** What the file holds. */
export interface SavedState {
  /** The file's own format. */
  readonly format: typeof STATE_FORMAT;
  /** epoch ms, by the gateway's clock */
  readonly savedAt: number;
  /** Seq of the last spool record whose effects the state includes. */
  readonly seq: number;
  readonly pipeline: PipelineState;
  /** Views built from the same records, by name (e.g. `ward`). */
  readonly views: Readonly<Record<string, unknown>>;
}

export const STATE_FORMAT = 4;
/** Where in the gateway's data directory the state is kept. */
export const STATE_FILE_IN_DATA_DIR = 'state/alarms.json';
/** Formats this build reads. */
const READABLE = new Set<unknown>([1, 2, 3, STATE_FORMAT]);
const NEWLINE = 0x0a;

/** What reading the file found. */
export type LoadedState =
  | { readonly kind: 'loaded'; readonly state: SavedState; readonly blobs: BlobReader }
  | { readonly kind: 'none' }
  /** There is a file, but this build cannot use it (why, in words for the log and the station). */
  | { readonly kind: 'unusable'; readonly problem: string };

/** Reads the saved state, never throwing for what a file can hold. */
export async function loadState(file: string): Promise<LoadedState> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'none' };
    return { kind: 'unusable', problem: `${file} cannot be read: ${(err as Error).message}` };
  }
  // JSON never holds a raw newline: the first one ends it
  const nl = bytes.indexOf(NEWLINE);
  let raw: Partial<SavedState>;
  try {
    raw = JSON.parse(bytes.toString('utf8', 0, nl === -1 ? bytes.length : nl)) as Partial<SavedState>;
  } catch (err) {
    return { kind: 'unusable', problem: `${file} is not valid JSON: ${(err as Error).message}` };
  }
  if (!READABLE.has(raw.format)) return { kind: 'unusable', problem: `${file} is in format ${String(raw.format)}; this build reads formats ${[...READABLE].join(', ').replace(/, (\d+)$/, ' and $1')}` };
  if (raw.pipeline?.version !== PIPELINE_STATE_VERSION) {
    return { kind: 'unusable', problem: `${file} holds detector state of version ${String(raw.pipeline?.version)}; this build reads version ${PIPELINE_STATE_VERSION}` };
  }
  if (!Number.isSafeInteger(raw.seq) || typeof raw.savedAt !== 'number' || typeof raw.views !== 'object' || raw.views === null) {
    return { kind: 'unusable', problem: `${file} is incomplete (seq, savedAt or views missing)` };
  }
  return { kind: 'loaded', state: raw as SavedState, blobs: nl === -1 ? NO_BLOBS : new BlobReader(bytes.subarray(nl + 1)) };
}

/** A state to write: its pipeline's parts may be deferred, and so may the views' data. */
export type StateToWrite = Omit<SavedState, 'pipeline'> & { readonly pipeline: PipelineState | Deferring<PipelineState> };

/** A state written beside its file, not yet in place. */
export interface WrittenState {
  readonly bytes: number;
  /** Makes it durable and puts it in place of the previous state. */
  commit(): Promise<void>;
  /** Drops it: the previous state stays. */
  discard(): Promise<void>;
}

/**
 * Writes the state beside `file` now, synchronously: the deferred parts are made as they are
 * written, and the blobs' bytes are taken from their arrays, which cannot change meanwhile.
 * @throws when it cannot be written (nothing is left behind)
 */
export function writeStateNow(file: string, s: StateToWrite, blobs: BlobWriter): WrittenState {
  const out = TempFile.write(file, 0o600, (o) => {
    writeJson(s, (text) => o.text(text));
    o.text('\n');
    for (const part of blobs.parts()) o.bytes(part);
  });
  return { bytes: out.size, commit: () => out.commit(), discard: () => out.discard() };
}
