/** Small durable-file helpers: a reader never sees a half-written file, even after a crash. */
import { close, closeSync, fsync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';

/** Writes JSON to `file` durably: temp file, fsync, rename, fsync of the directory. */
export async function writeJsonAtomic(file: string, value: unknown, mode?: number): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n', mode);
}

/**
 * Writes `text` to `file` durably: temp file, fsync, rename, fsync of the directory (`TempFile`).
 * @param mode permissions of a new file (e.g. 0o600 for patient data and secrets)
 */
export async function writeFileAtomic(file: string, text: string, mode?: number): Promise<void> {
  await TempFile.write(file, mode, (out) => out.text(text)).commit();
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

const TEXT_CHUNK = 1024 * 1024;

/** The temp file a process writes `file` through (see `TempFile`) is named `file` + this + its pid. */
const TEMP_SUFFIX = '.tmp-';

/**
 * Removes the temp files of `file` that other processes left: each stopped (killed, or out of
 * memory) between writing one and committing it, and each is as large as the file. Call it only
 * where no other live process writes `file` (under the lock of the directory that owns it).
 * @returns the files removed, with their sizes
 */
export async function removeLeftTempFiles(file: string): Promise<Array<{ readonly path: string; readonly bytes: number }>> {
  const dir = dirname(file);
  const prefix = basename(file) + TEMP_SUFFIX;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const removed: Array<{ path: string; bytes: number }> = [];
  for (const name of names) {
    const pid = name.startsWith(prefix) ? name.slice(prefix.length) : '';
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    const path = join(dir, name);
    const bytes = (await stat(path).catch(() => undefined))?.size ?? 0;
    await rm(path, { force: true });
    removed.push({ path, bytes });
  }
  return removed;
}

/**
 * A file written now, synchronously, beside the one it will replace: for data that must be
 * taken as it stands at one moment without first being copied (it cannot change while this
 * writes it). `commit` makes it durable and puts it in place (fsync, rename, fsync of the
 * directory); `discard` removes it. Until `commit`, the file it replaces is untouched.
 */
export class TempFile {
  private readonly chunk = Buffer.allocUnsafe(TEXT_CHUNK);
  private used = 0;
  private written = 0;
  private fd: number | undefined;

  private constructor(
    private readonly file: string,
    private readonly tmp: string,
    fd: number,
  ) {
    this.fd = fd;
  }

  /** @param mode permissions of a new file (e.g. 0o600 for patient data) */
  static open(file: string, mode?: number): TempFile {
    mkdirSync(dirname(file), { recursive: true });
    const tmp = file + TEMP_SUFFIX + process.pid;
    return new TempFile(file, tmp, openSync(tmp, 'w', mode));
  }

  /**
   * Opens one and has `fill` write it.
   * @throws what `fill` throws, with nothing left behind
   */
  static write(file: string, mode: number | undefined, fill: (out: TempFile) => void): TempFile {
    const out = TempFile.open(file, mode);
    try {
      fill(out);
    } catch (err) {
      out.discardNow();
      throw err;
    }
    return out;
  }

  /** Bytes written so far. */
  get size(): number {
    return this.written + this.used;
  }

  /** Appends text as UTF-8 (gathered into chunks before it is written). */
  text(s: string): void {
    if (s.length * 3 > TEXT_CHUNK - this.used) {
      this.flush();
      if (s.length * 3 > TEXT_CHUNK) return this.bytes(Buffer.from(s));
    }
    this.used += this.chunk.write(s, this.used);
  }

  /** Appends bytes: small ones gathered like text, large ones written from where they are. */
  bytes(b: Uint8Array): void {
    if (b.length > TEXT_CHUNK - this.used) {
      this.flush();
      if (b.length >= TEXT_CHUNK) return this.writeAll(b);
    }
    this.chunk.set(b, this.used);
    this.used += b.length;
  }

  /** Makes it durable and puts it in place; when that fails, it is removed and the file it would replace stays. */
  async commit(): Promise<void> {
    try {
      this.flush();
      const fd = this.take();
      try {
        await promisify(fsync)(fd);
      } finally {
        await promisify(close)(fd);
      }
      await rename(this.tmp, this.file);
      await syncDir(dirname(this.file));
    } catch (err) {
      await this.discard().catch(() => {});
      throw err;
    }
  }

  async discard(): Promise<void> {
    this.discardNow();
  }

  private discardNow(): void {
    if (this.fd !== undefined) closeSync(this.take());
    rmSync(this.tmp, { force: true });
  }

  private flush(): void {
    if (this.used === 0) return;
    this.writeAll(this.chunk.subarray(0, this.used));
    this.used = 0;
  }

  private writeAll(b: Uint8Array): void {
    if (this.fd === undefined) throw new Error(`${this.tmp}: already committed or discarded`);
    for (let off = 0; off < b.length; ) off += writeSync(this.fd, b, off, b.length - off);
    this.written += b.length;
  }

  private take(): number {
    const fd = this.fd;
    if (fd === undefined) throw new Error(`${this.tmp}: already committed or discarded`);
    this.fd = undefined;
    return fd;
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
