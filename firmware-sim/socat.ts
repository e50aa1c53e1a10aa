/**
 * A virtual serial cable: `socat` joins two ptys and leaves stable symlinks to them. The simulator
 * writes to one end; the gateway opens the other as if it were /dev/ttyUSB0. Pulling the cable is
 * modelled by ending socat (both ptys vanish) and starting it again at the same link paths.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/**
 * socat runs in its own process group (see `start`), so it would outlive a process that ends
 * without stopping its pairs (a crash, an uncaught error, a test run cut short): every pair still
 * running is ended when this process exits.
 */
const LIVE = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of LIVE) c.kill('SIGTERM');
});

/** True when `socat` can be run. */
export function socatAvailable(): boolean {
  const r = spawnSync('socat', ['-V'], { stdio: 'ignore' });
  return r.error === undefined && r.status === 0;
}

export class SocatPair {
  /** The end the simulated device writes to. */
  readonly devicePath: string;
  /** The end the gateway opens. */
  readonly gatewayPath: string;
  private child: ChildProcess | undefined;
  private ready = false;

  constructor(dir: string, name: string) {
    this.devicePath = join(dir, `${name}.device`);
    this.gatewayPath = join(dir, `${name}`);
  }

  /** True once both links exist, until the pair is stopped. */
  get running(): boolean {
    return this.ready;
  }

  /** Starts socat and resolves once both links exist. */
  async start(timeoutMs = 5000): Promise<void> {
    if (this.child) return;
    for (const p of [this.devicePath, this.gatewayPath]) rmSync(p, { force: true });
    const child = spawn('socat', [`pty,raw,echo=0,link=${this.devicePath}`, `pty,raw,echo=0,link=${this.gatewayPath}`], {
      stdio: 'ignore',
      // Its own process group: Ctrl-C in a terminal reaches Vigil, which then stops the cable in
      // order, instead of cutting it first and logging a spurious "device offline".
      detached: true,
    });
    this.child = child;
    LIVE.add(child);
    child.once('exit', () => LIVE.delete(child));
    let exited: string | undefined;
    child.once('exit', (code, signal) => {
      exited = `socat exited (${signal ?? code})`;
      if (this.child === child) {
        this.child = undefined;
        this.ready = false;
      }
    });
    child.once('error', (err) => (exited = `socat failed: ${err.message}`));
    const deadline = Date.now() + timeoutMs;
    while (!(existsSync(this.devicePath) && existsSync(this.gatewayPath))) {
      if (exited) throw new Error(exited);
      if (Date.now() > deadline) {
        await this.stop();
        throw new Error(`socat did not create ${this.gatewayPath} within ${timeoutMs} ms`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    this.ready = true;
  }

  /** Ends socat (the cable is pulled). Idempotent. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    this.ready = false;
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      await gone;
    }
    // socat removes its links on SIGTERM; make sure no stale link survives a crash.
    for (const p of [this.devicePath, this.gatewayPath]) rmSync(p, { force: true });
  }
}
