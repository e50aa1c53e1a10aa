/**
 * The spool directory lock tells a live holder from a dead one whatever the PIDs: a holder
 * killed and not yet reaped, a PID now used by another process, a LOCK from before a reboot, a
 * LOCK left by an earlier process with this very PID (a container's PID 1 on every start). Each
 * case runs against real processes, with the OS lock (flock) and with the identity fallback.
 * Holders are child processes running the built lock module (dist/, built by `npm test`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireLock, currentHolder, holderAlive, parseHolder, probeProcess, SpoolInUseError, type LockHolder } from '../../../src/spool/lock.js';
import { until } from '../../support/wait.js';

const LOCK_JS = pathToFileURL(resolve(import.meta.dirname, '../../../dist/src/spool/lock.js')).href;
const HOLDER = `const m = await import(${JSON.stringify(LOCK_JS)});
try { await m.acquireLock(process.env.LOCK_DIR, { osLock: process.env.OS_LOCK !== '0' }); console.log('held ' + process.pid); }
catch (err) { console.log('refused ' + process.pid + ' ' + err.name); }
setInterval(() => {}, 60000);`;

const dirs: string[] = [];
const children: ChildProcess[] = [];
const releases: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const r of releases.splice(0)) await r();
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'vigil-lock-'));
  dirs.push(d);
  return d;
}

/** Starts a holder; with `orphanable` its parent is a `sleep` that never reaps it, so once killed it stays a zombie. */
async function startHolder(dir: string, osLock: boolean, orphanable = false): Promise<{ pid: number; line: string; child: ChildProcess }> {
  const env = { ...process.env, LOCK_DIR: dir, OS_LOCK: osLock ? '1' : '0', HOLDER };
  const child = orphanable
    ? spawn('sh', ['-c', `"${process.execPath}" --input-type=module -e "$HOLDER" & exec sleep 600`], { env, stdio: ['ignore', 'pipe', 'inherit'] })
    : spawn(process.execPath, ['--input-type=module', '-e', HOLDER], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  await until(() => out.includes('\n'), 'the holder to report');
  const line = out.trim();
  return { pid: Number(line.split(' ')[1]), line, child };
}

async function take(dir: string, osLock: boolean): Promise<void> {
  releases.push(await acquireLock(dir, { osLock }));
}

/** Threads of `pid` still listed (a zombie's ending threads included). */
const threads = (pid: number): number => {
  try {
    return readdirSync(`/proc/${pid}/task`).length;
  } catch {
    return 0;
  }
};

const state = (pid: number): string | undefined => {
  const p = probeProcess(pid);
  return p?.exists ? p.state : undefined;
};

describe.each([
  ['the OS lock (flock)', true],
  ['the identity fallback', false],
])('spool LOCK with %s', (_name, osLock) => {
  it('refuses while a live process holds it, naming that process', async () => {
    const dir = tempDir();
    const holder = await startHolder(dir, osLock);
    expect(holder.line).toMatch(/^held /);
    const err = await acquireLock(dir, { osLock }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SpoolInUseError);
    expect((err as Error).message).toBe(`spool directory ${dir} is in use by process ${holder.pid}`);
  });

  it('is free as soon as its holder is killed, while the holder is still an unreaped zombie', async () => {
    const dir = tempDir();
    const holder = await startHolder(dir, osLock, true);
    expect(holder.line).toMatch(/^held /);
    process.kill(holder.pid, 'SIGKILL');
    await until(() => state(holder.pid) === 'Z', `process ${holder.pid} to be a zombie`);
    // The main thread shows Z while the process's other threads may still be ending; its files
    // (and so the flock) are let go when the last of them has.
    await until(() => threads(holder.pid) <= 1, `process ${holder.pid}'s other threads to end`);
    await take(dir, osLock);
    expect(parseHolder(readFileSync(join(dir, 'LOCK'), 'utf8'))).toMatchObject({ pid: process.pid });
    expect(state(holder.pid)).toBe('Z'); // still unreaped: its PID was never free
  });

  it('is taken over when LOCK names a live process with another start time (the PID was reused)', async () => {
    const dir = tempDir();
    const other = await startHolder(tempDir(), osLock);
    const probe = probeProcess(other.pid);
    if (!probe?.exists) throw new Error('no /proc entry for a live child');
    const now = currentHolder();
    writeFileSync(join(dir, 'LOCK'), JSON.stringify({ ...now, pid: other.pid, start: probe.start - 100 }));
    await take(dir, osLock);
    expect(parseHolder(readFileSync(join(dir, 'LOCK'), 'utf8'))).toMatchObject({ pid: process.pid, start: now.start });
  });

  it('is taken over when LOCK is from another boot, even if its PID and start time match a live process', async () => {
    const dir = tempDir();
    const other = await startHolder(tempDir(), osLock);
    const probe = probeProcess(other.pid);
    if (!probe?.exists) throw new Error('no /proc entry for a live child');
    writeFileSync(join(dir, 'LOCK'), JSON.stringify({ pid: other.pid, boot: '00000000-0000-0000-0000-000000000000', start: probe.start }));
    await take(dir, osLock);
  });

  it('is taken over from an earlier process that had this very PID (a container PID 1 restarted), old format too', async () => {
    for (const text of [JSON.stringify({ ...currentHolder(), start: 1 }), String(process.pid)]) {
      const dir = tempDir();
      writeFileSync(join(dir, 'LOCK'), text);
      await take(dir, osLock);
    }
  });

  it('lets exactly one of several processes starting at once take it', async () => {
    const dir = tempDir();
    const lines = (await Promise.all([1, 2, 3, 4].map(() => startHolder(dir, osLock)))).map((h) => h.line);
    // The fallback is a check, not an atomic lock (see lock.ts); only the OS lock promises one winner.
    if (osLock) expect(lines.filter((l) => l.startsWith('held '))).toHaveLength(1);
    else expect(lines.filter((l) => l.startsWith('held ')).length).toBeGreaterThanOrEqual(1);
    expect(lines.filter((l) => l.startsWith('refused ')).every((l) => l.endsWith('SpoolInUseError'))).toBe(true);
  });

  it('refuses a second holder in this same process and frees the lock on release', async () => {
    const dir = tempDir();
    const release = await acquireLock(dir, { osLock });
    await expect(acquireLock(dir, { osLock })).rejects.toThrow(/\(this process: close the other Spool first\)$/);
    await release();
    await release(); // idempotent
    await take(dir, osLock);
  });
});

describe('holderAlive (the identity rule)', () => {
  const now: LockHolder = { pid: 500, boot: 'b1', start: 9000 };
  const never = (): boolean => {
    throw new Error('no signal check when /proc answers');
  };
  it.each([
    ['a running holder with its start time', { pid: 42, boot: 'b1', start: 100 }, { exists: true, state: 'S', start: 100 }, true],
    ['a holder from an older version (no start time) still running', { pid: 42 }, { exists: true, state: 'R', start: 100 }, true],
    ['another boot', { pid: 42, boot: 'b0', start: 100 }, { exists: true, state: 'S', start: 100 }, false],
    ['a reused PID', { pid: 42, boot: 'b1', start: 100 }, { exists: true, state: 'S', start: 101 }, false],
    ['a zombie', { pid: 42, boot: 'b1', start: 100 }, { exists: true, state: 'Z', start: 100 }, false],
    ['no such process', { pid: 42, boot: 'b1', start: 100 }, { exists: false }, false],
    ['this PID, not held here', { pid: 500, boot: 'b1', start: 1 }, { exists: true, state: 'R', start: 9000 }, false],
  ] as const)('%s', (_name, holder, probe, alive) => {
    expect(holderAlive(holder, now, probe, never)).toBe(alive);
  });

  it('uses the signal check only where there is no /proc', () => {
    expect(holderAlive({ pid: 42 }, { pid: 500 }, undefined, (pid) => pid === 42)).toBe(true);
    expect(holderAlive({ pid: 43 }, { pid: 500 }, undefined, (pid) => pid === 42)).toBe(false);
  });

  it('reads LOCK as JSON or as the bare PID older versions wrote, and nothing else', () => {
    expect(parseHolder('{"pid":7,"boot":"b","start":3}\n')).toEqual({ pid: 7, boot: 'b', start: 3 });
    expect(parseHolder('123\n')).toEqual({ pid: 123 });
    for (const bad of ['', 'x', '{"pid":0}', '{"pid":"7"}', '-5']) expect(parseHolder(bad)).toBeUndefined();
  });
});
