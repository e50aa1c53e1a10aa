/**
 * One writer per spool directory. Two processes appending to the same segment would interleave
 * records, so open takes `dir/LOCK`, and a second opener fails with {@link SpoolInUseError}.
 *
 * The lock is an OS lock: flock(2), exclusive, on an open descriptor of LOCK. The kernel drops
 * it the moment the holder's descriptors close, however the holder ends (exit, crash, SIGKILL,
 * even while it waits unreaped as a zombie), and it does not survive a reboot. So it is right
 * whatever PIDs the holders had: a reused PID, the same PID 1 in every container start, a
 * restart within a second of a SIGKILL. It also holds between containers sharing a volume (one
 * kernel). Node has no flock binding, so util-linux `flock` takes the lock on a descriptor it
 * inherits from this process: a flock lock belongs to the open file description, not to the
 * process that asked for it, so it stays held after `flock` exits, until this process closes its
 * descriptor or dies.
 *
 * Where `flock` is missing (not Linux) or the filesystem refuses flock locks, the fallback tells
 * a live holder from a dead one by identity instead: the PID, the boot id and the process start
 * time recorded in LOCK. Another boot id means a reboot; another start time means the PID was
 * reused; a zombie has closed its files. The fallback is a check, not an atomic lock: two
 * processes starting at the same instant could both take a dead holder's place.
 *
 * LOCK holds the holder's identity as one JSON line, for the error message and the fallback.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { link, open, readFile, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';

/** Another live process (or another Spool in this one) holds the directory. */
export class SpoolInUseError extends Error {
  override readonly name = 'SpoolInUseError';
}

/** Who holds (or held) a LOCK. */
export interface LockHolder {
  readonly pid: number;
  /** /proc/sys/kernel/random/boot_id of the holder's boot (Linux). */
  readonly boot?: string;
  /** Start time of the holder process, clock ticks after boot (/proc/PID/stat field 22). */
  readonly start?: number;
  readonly host?: string;
}

/** What /proc says about a PID right now: absent, or its state letter and start time. */
export type ProcessProbe = { readonly exists: false } | { readonly exists: true; readonly state: string; readonly start: number };

/** Exit code asked of `flock` for "held by someone else", apart from its other failures. */
const FLOCK_CONFLICT = 75;
/** LOCK files this process holds, so a second Spool on the same directory is named as ours. */
const heldHere = new Set<string>();

function readOptional(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** The state letter and start time of a process from /proc, or undefined without /proc. */
export function probeProcess(pid: number): ProcessProbe | undefined {
  const stat = readOptional(`/proc/${pid}/stat`);
  if (stat === undefined) return readOptional('/proc/self/stat') === undefined ? undefined : { exists: false };
  // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { exists: true, state: fields[0] ?? '?', start: Number(fields[19]) };
}

/** This process's identity as recorded in LOCK. */
export function currentHolder(): LockHolder {
  const boot = readOptional('/proc/sys/kernel/random/boot_id')?.trim();
  const self = probeProcess(process.pid);
  return { pid: process.pid, ...(boot ? { boot } : {}), ...(self?.exists ? { start: self.start } : {}), host: hostname() };
}

/** Parses LOCK: one JSON line, or the bare PID older versions wrote. */
export function parseHolder(text: string): LockHolder | undefined {
  const t = text.trim();
  if (/^\d+$/.test(t)) return { pid: Number(t) };
  try {
    const h = JSON.parse(t) as Partial<LockHolder>;
    return Number.isSafeInteger(h.pid) && (h.pid ?? 0) > 0 ? (h as LockHolder) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether the process recorded in LOCK still runs, judged by identity (the fallback).
 * @param probe what /proc says about `holder.pid` now; undefined where there is no /proc.
 * @param isAlive signal-0 check, used only without /proc.
 */
export function holderAlive(holder: LockHolder, now: LockHolder, probe: ProcessProbe | undefined, isAlive: (pid: number) => boolean): boolean {
  if (holder.boot !== undefined && now.boot !== undefined && holder.boot !== now.boot) return false; // rebooted since
  if (holder.pid === now.pid) return false; // not held here (heldHere says so), so an earlier process with our PID
  if (probe === undefined) return isAlive(holder.pid);
  if (!probe.exists) return false;
  if (probe.state === 'Z' || probe.state === 'X') return false; // dead, not yet reaped: its files are closed
  return holder.start === undefined || holder.start === probe.start; // another start time: the PID was reused
}

/** Whether a process with this PID exists (signal 0), whoever it belongs to. */
export function signalAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else, which still means it is alive.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function describe(dir: string, holder: LockHolder | undefined): string {
  if (holder === undefined) return `spool directory ${dir} is in use by another process`;
  const where = holder.host && holder.host !== hostname() ? ` on ${holder.host}` : '';
  return `spool directory ${dir} is in use by process ${holder.pid}${where}`;
}

async function readHolder(path: string): Promise<LockHolder | undefined> {
  return parseHolder(await readFile(path, 'utf8').catch(() => ''));
}

/** Runs `flock --exclusive --nonblock` on `fd`. @returns locked, busy, or unavailable (no flock, or refused). */
function flockOn(fd: number): Promise<'locked' | 'busy' | 'unavailable'> {
  return new Promise((done) => {
    const child = spawn('flock', ['--exclusive', '--nonblock', '--conflict-exit-code', String(FLOCK_CONFLICT), '3'], { stdio: ['ignore', 'ignore', 'ignore', fd] });
    child.on('error', () => done('unavailable'));
    child.on('exit', (code) => done(code === 0 ? 'locked' : code === FLOCK_CONFLICT ? 'busy' : 'unavailable'));
  });
}

/** The OS lock. @returns the release function, 'busy', or 'unavailable' to fall back. */
async function takeFlock(path: string): Promise<(() => Promise<void>) | 'busy' | 'unavailable'> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const handle: FileHandle = await open(path, 'a+', 0o600);
    const result = await flockOn(handle.fd).catch(() => 'unavailable' as const);
    if (result !== 'locked') {
      await handle.close();
      return result;
    }
    // LOCK may have been replaced between open and flock (an older version unlinked it on
    // release): then the lock is on a file nobody else will open. Take the one at the path.
    const [held, atPath] = await Promise.all([handle.stat(), stat(path).catch(() => undefined)]);
    if (atPath === undefined || atPath.ino !== held.ino || atPath.dev !== held.dev) {
      await handle.close();
      continue;
    }
    await handle.truncate(0);
    await handle.write(`${JSON.stringify(currentHolder())}\n`, 0);
    return async () => {
      // Closing the only descriptor drops the flock. LOCK stays: unlinking it would let a
      // process that opened it just before lock a file no longer at the path.
      await handle.close().catch(() => undefined);
    };
  }
  throw new SpoolInUseError(`spool directory: could not take ${path} (it keeps being replaced)`);
}

/** The identity fallback: LOCK is created atomically with link(2) and taken over from a dead holder. */
async function takeByIdentity(dir: string, path: string): Promise<() => Promise<void>> {
  const me = currentHolder();
  const tmp = join(dir, `LOCK.${process.pid}.tmp`);
  // The identity is written before the lock appears (link is atomic), so a reader of LOCK
  // never sees it empty and mistakes a live holder for a dead one.
  await writeFile(tmp, `${JSON.stringify(me)}\n`, { mode: 0o600 });
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await link(tmp, path);
        return async () => {
          await unlink(path).catch(() => undefined);
        };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const holder = await readHolder(path);
      if (holder !== undefined && holderAlive(holder, me, probeProcess(holder.pid), signalAlive)) throw new SpoolInUseError(describe(dir, holder));
      await unlink(path).catch(() => undefined); // the holder is gone: take the lock over
    }
    throw new SpoolInUseError(`spool directory ${dir}: could not take ${path}`);
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

export interface LockOptions {
  /** Use the OS lock where it works (default true); false forces the identity fallback (tests). */
  readonly osLock?: boolean;
}

/**
 * Takes the directory lock.
 * @returns a function that releases it.
 * @throws SpoolInUseError when a live process (or another Spool in this one) holds it.
 */
export async function acquireLock(dir: string, options: LockOptions = {}): Promise<() => Promise<void>> {
  const path = resolve(dir, 'LOCK');
  if (heldHere.has(path)) throw new SpoolInUseError(`${describe(dir, { pid: process.pid })} (this process: close the other Spool first)`);
  let release = options.osLock === false ? 'unavailable' : await takeFlock(path);
  if (release === 'busy') throw new SpoolInUseError(describe(dir, await readHolder(path)));
  if (release === 'unavailable') release = await takeByIdentity(dir, path);
  const releaseOs = release;
  heldHere.add(path);
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    heldHere.delete(path);
    await releaseOs();
  };
}
