/**
 * The gateway under test for the benchmark: the real `vigil start` from dist/ as a child process
 * with a generated config, its resident memory read from /proc, its health and metrics read over
 * HTTP.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { GATEWAY_NODE_OPTIONS } from '../core/heap.js';
import { sumSamples } from '../core/counters.js';
import { cpuMsOf, own, VIGIL_CLI } from './proc.js';

export interface GatewayChildOptions {
  readonly config: Record<string, unknown>;
  readonly httpPort: number;
  /** Directory for a V8 CPU profile (`node --cpu-prof`), when profiling. */
  readonly cpuProfDir?: string;
  /** More options for node (e.g. `--heapsnapshot-signal=SIGUSR2`). */
  readonly nodeArgs?: readonly string[];
  /** Puts what the gateway should find into its data directory (given) before it starts. */
  readonly prepare?: (dataDir: string) => Promise<void>;
}

export class GatewayChild {
  private exited: Promise<number | null>;
  private stderrTail = '';

  private constructor(
    private readonly proc: ChildProcess,
    readonly dir: string,
    readonly httpPort: number,
  ) {
    this.exited = new Promise((r) => proc.once('exit', (code) => r(code)));
    proc.stderr?.on('data', (c: Buffer) => void (this.stderrTail = (this.stderrTail + c.toString()).slice(-4000)));
  }

  /** Writes the config, starts `vigil start` and waits for /healthz. */
  static async start(o: GatewayChildOptions): Promise<GatewayChild> {
    const dir = await mkdtemp(join(tmpdir(), 'vigil-bench-gw-'));
    const cfgFile = join(dir, 'vigil.yaml');
    await writeFile(cfgFile, stringify({ ...o.config, dataDir: join(dir, 'data') }));
    try {
      await o.prepare?.(join(dir, 'data'));
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
    const args = [...(o.nodeArgs ?? []), ...(o.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${o.cpuProfDir}`] : []), VIGIL_CLI, 'start', '-c', cfgFile];
    return GatewayChild.spawn(args, dir, o.httpPort, true);
  }

  /** Starts `vigil start` over an existing config and data (its directory is the caller's). */
  static startIn(dir: string, cfgFile: string, httpPort: number): Promise<GatewayChild> {
    return GatewayChild.spawn([VIGIL_CLI, 'start', '-c', cfgFile], dir, httpPort);
  }

  private static async spawn(args: string[], dir: string, httpPort: number, ownsDir = false): Promise<GatewayChild> {
    // as deployed (the systemd unit and the image launch it so), then what the run adds
    const proc = spawn(process.execPath, [...GATEWAY_NODE_OPTIONS, ...args], { cwd: dir, env: { ...process.env, VIGIL_LOG_LEVEL: 'error' }, stdio: ['ignore', 'ignore', 'pipe'] });
    own(proc, ownsDir ? dir : undefined);
    const gw = new GatewayChild(proc, dir, httpPort);
    try {
      await gw.waitHealthy();
      return gw;
    } catch (err) {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  private async waitHealthy(): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (this.proc.exitCode !== null) throw new Error(`gateway exited with ${this.proc.exitCode}:\n${this.stderrTail}`);
      try {
        const res = await fetch(`http://127.0.0.1:${this.httpPort}/healthz`);
        if (res.status === 200 || res.status === 503) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`gateway did not become healthy:\n${this.stderrTail}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  get pid(): number {
    return this.proc.pid ?? 0;
  }

  /** Whether the process is still running. */
  get alive(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Throws with the gateway's last words when it has exited. */
  assertAlive(): void {
    if (!this.alive) throw new Error(`the gateway exited (${this.proc.exitCode ?? this.proc.signalCode}) under load:\n${this.stderrTail.slice(-1500)}`);
  }

  /** Resident set size, bytes (VmRSS). */
  rss(): number {
    this.assertAlive();
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${this.pid}/status`, 'utf8'));
    return Number(m?.[1] ?? 0) * 1024;
  }

  /** CPU time used so far (user + system), ms. */
  cpuMs(): number {
    this.assertAlive();
    return cpuMsOf(this.pid);
  }

  async health(): Promise<Record<string, any>> {
    return (await (await fetch(`http://127.0.0.1:${this.httpPort}/healthz`)).json()) as Record<string, any>;
  }

  /** Sum of a Prometheus sample over every label set, or over those with the `labels` given. */
  async metric(name: string, labels: Readonly<Record<string, string>> = {}): Promise<number> {
    return sumSamples(await this.metrics(), name, labels);
  }

  /** One scrape of `/metrics` (Prometheus text), for reading several samples of one instant. */
  async metrics(): Promise<string> {
    return (await fetch(`http://127.0.0.1:${this.httpPort}/metrics`)).text();
  }

  /** SIGTERM (the gateway flushes and writes its CPU profile), wait, remove the data. */
  async stop(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      this.proc.kill('SIGTERM');
      const timer = setTimeout(() => this.proc.kill('SIGKILL'), 30_000);
      await this.exited;
      clearTimeout(timer);
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}
