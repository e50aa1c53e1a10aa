/**
 * A virtual serial cable for tests: `socat -d -d pty,raw,echo=0,link=A pty,raw,echo=0,link=B`.
 * Bytes written to one end come out of the other. Stopping socat makes both ends vanish, the way
 * a USB serial adapter does when it is unplugged.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { own } from '../../src/bench/proc.js';

export interface PtyPair {
  /** Link to one end (the device side in tests). */
  readonly a: string;
  /** Link to the other end (the gateway side in tests). */
  readonly b: string;
  /** socat's pid. */
  readonly pid: number;
  /** Stops socat (SIGTERM, so it removes its links), waits for it to exit, removes any leftover link. Idempotent. */
  close(): Promise<void>;
}

export interface PtyPairOptions {
  /** File names of the two links inside `dir`; default `A` and `B`. */
  readonly names?: { readonly a: string; readonly b: string };
  /** How long to wait for the links, ms. */
  readonly timeoutMs?: number;
}

/** Starts socat and resolves once both links exist and socat is passing data. */
export async function createPtyPair(dir: string, options: PtyPairOptions = {}): Promise<PtyPair> {
  const a = join(dir, options.names?.a ?? 'A');
  const b = join(dir, options.names?.b ?? 'B');
  const timeoutMs = options.timeoutMs ?? 5_000;
  const child = own(
    spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    }),
  );
  let stderr = '';
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      resolve();
    });
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const spawnError = new Promise<Error>((resolve) =>
    child.once('error', (err) => {
      exited = true;
      resolve(err);
    }),
  );

  const close = async (): Promise<void> => {
    if (!exited && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await Promise.race([exit, spawnError]);
    for (const link of [a, b]) rmSync(link, { force: true });
  };

  const ready = (async () => {
    const deadline = Date.now() + timeoutMs;
    while (!(existsSync(a) && existsSync(b) && stderr.includes('starting data transfer loop'))) {
      if (exited) throw new Error(`socat exited before the pty pair was ready: ${stderr.trim()}`);
      if (Date.now() > deadline) throw new Error(`socat pty pair not ready after ${timeoutMs} ms: ${stderr.trim()}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  ready.catch(() => undefined);
  try {
    await Promise.race([ready, spawnError.then((err) => Promise.reject(new Error(`cannot start socat: ${err.message}`)))]);
  } catch (err) {
    await close();
    throw err;
  }
  return { a, b, pid: child.pid ?? -1, close };
}

