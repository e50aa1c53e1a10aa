/**
 * Reader cursors on disk: `cursors/<name>.json`. A cursor is replaced atomically (temporary file,
 * fsync, rename, fsync of the directory), so after a crash it holds either the old or the new
 * position, never a mix.
 */
import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../core/log.js';
import type { SpoolPosition } from './types.js';
import { fsyncDir } from './segment.js';

const NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;
const FILE_RE = /^(.+)\.json$/;

/** Throws a clear error when `name` cannot be a cursor file name. */
export function checkReaderName(name: string): void {
  if (!NAME_RE.test(name)) {
    throw new RangeError(
      `spool reader name ${JSON.stringify(name)}: use 1-64 letters, digits, '_', '-' or '.', not starting with '.' or '-'`,
    );
  }
}

function isPosition(v: unknown): v is SpoolPosition {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return (
    Number.isSafeInteger(o.seq) && (o.seq as number) >= 1 &&
    Number.isSafeInteger(o.segment) && (o.segment as number) >= 1 &&
    Number.isSafeInteger(o.offset) && (o.offset as number) >= 0
  );
}

/**
 * Loads every cursor in `cursorDir` (creating it when missing). A cursor file that cannot be
 * parsed is logged and returned as `null`: the reader still counts for retention and restarts
 * from the oldest record (replaying is harmless downstream; skipping would lose data).
 */
export async function loadCursors(cursorDir: string, logger: Logger): Promise<Map<string, { position: SpoolPosition | null; holder: boolean }>> {
  await mkdir(cursorDir, { recursive: true, mode: 0o700 });
  const out = new Map<string, { position: SpoolPosition | null; holder: boolean }>();
  for (const file of await readdir(cursorDir)) {
    if (file.endsWith('.tmp')) {
      // Left by a crash between write and rename; the .json beside it is still the truth.
      await unlink(join(cursorDir, file)).catch(() => undefined);
      continue;
    }
    const name = FILE_RE.exec(file)?.[1];
    if (name === undefined || !NAME_RE.test(name)) continue;
    try {
      const parsed = JSON.parse(await readFile(join(cursorDir, file), 'utf8')) as { position?: unknown; holder?: unknown } | null;
      const pos = parsed?.position;
      if (!isPosition(pos)) throw new Error('position is missing or malformed');
      out.set(name, { position: { seq: pos.seq, segment: pos.segment, offset: pos.offset }, holder: parsed?.holder === true });
    } catch (err) {
      logger.warn({ file: join(cursorDir, file), err: (err as Error).message }, 'spool: unreadable cursor, reader restarts from oldest record');
      out.set(name, { position: null, holder: false });
    }
  }
  return out;
}

/**
 * Durably replaces the cursor of reader `name`. `holder`: the reader keeps data for itself and
 * delivers it nowhere (see SpoolOptions.holders); said in the file, so any later open knows.
 */
export async function saveCursor(cursorDir: string, name: string, pos: SpoolPosition, holder = false): Promise<void> {
  const final = join(cursorDir, `${name}.json`);
  const tmp = `${final}.tmp`;
  const body = JSON.stringify({ version: 1, name, position: { seq: pos.seq, segment: pos.segment, offset: pos.offset }, ...(holder && { holder }) });
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(body, 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, final);
  await fsyncDir(cursorDir);
}
