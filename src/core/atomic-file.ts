/** Small durable-file helpers: a reader never sees a half-written file, even after a crash. */
import { open, readFile, rename, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Writes JSON to `file` durably: temp file, fsync, rename, fsync of the directory. */
export async function writeJsonAtomic(file: string, value: unknown, mode?: number): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n', mode);
}

/**
 * Writes `text` (or the buffers, one after the other) to `file` durably: temp file, fsync,
 * rename, fsync of the directory.
 * @param mode permissions of a new file (e.g. 0o600 for patient data and secrets)
 */
export async function writeFileAtomic(file: string, text: string | readonly Uint8Array[], mode?: number): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  const fh = await open(tmp, 'w', mode);
  try {
    // each writeFile continues where the previous one ended
    if (typeof text === 'string') await fh.writeFile(text);
    else for (const part of text) await fh.writeFile(part);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
  const dir = await open(dirname(file), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/** Reads and parses JSON, or undefined when the file does not exist. */
export async function readJsonIfExists<T>(file: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new Error(`${file}: not valid JSON (${(err as Error).message}); restore it from backup or remove it`);
  }
}
