/**
 * One writer per spool directory. Two processes appending to the same segment would interleave
 * records, so open takes `dir/LOCK` holding its pid. A lock left by a process that died (killed,
 * crashed) is taken over; a lock held by a live process is an error.
 */
import { link, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else, which still means it is alive.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the directory lock. @returns a function that releases it. */
export async function acquireLock(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, 'LOCK');
  // The pid is written before the lock appears (link is atomic), so a reader of LOCK never
  // sees it empty and mistakes a live holder for a dead one.
  const tmp = join(dir, `LOCK.${process.pid}.tmp`);
  await writeFile(tmp, String(process.pid), { mode: 0o600 });
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
      const holder = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (Number.isSafeInteger(holder) && holder > 0 && alive(holder)) {
        const self = holder === process.pid ? ' (this process: close the other Spool first)' : '';
        throw new Error(`spool directory ${dir} is in use by process ${holder}${self}`);
      }
      // The holder is gone: take the lock over.
      await unlink(path).catch(() => undefined);
    }
    throw new Error(`spool directory ${dir}: could not take ${path}`);
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}
