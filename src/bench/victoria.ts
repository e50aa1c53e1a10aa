/**
 * VictoriaMetrics (Debian `victoria-metrics`) for the benchmark: a time-series server on a
 * loopback port that takes InfluxDB's v2 write API, in a temporary data directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Path of the server binary; `VIGIL_VICTORIA_BIN` overrides it. */
export const VICTORIA_BIN = process.env.VIGIL_VICTORIA_BIN ?? '/usr/bin/victoria-metrics';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class BenchVictoria {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  readonly url: string;

  private constructor(
    readonly port: number,
    readonly dataDir: string,
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  /** Starts the server on `port` and waits for `/health`. */
  static async start(port: number): Promise<BenchVictoria> {
    if (!existsSync(VICTORIA_BIN)) throw new Error(`${VICTORIA_BIN} not found: install Debian's victoria-metrics (test/setup/ensure-services.sh does)`);
    const vm = new BenchVictoria(port, await mkdtemp(join(tmpdir(), 'vigil-bench-vm-')));
    await vm.launch();
    return vm;
  }

  /** Process id while running. */
  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  /** Whether the server process is running. */
  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  async launch(): Promise<void> {
    const proc = spawn(VICTORIA_BIN, [`-httpListenAddr=127.0.0.1:${this.port}`, `-storageDataPath=${this.dataDir}`, '-retentionPeriod=100y', '-dedup.minScrapeInterval=1ms', '-search.latencyOffset=0s'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let tail = '';
    proc.stderr?.on('data', (c: Buffer) => void (tail = (tail + c.toString()).slice(-4000)));
    this.child = proc;
    this.exited = new Promise((r) => proc.once('exit', () => r()));
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`victoria-metrics exited at start:\n${tail}`);
      try {
        if ((await fetch(`${this.url}/health`)).ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`victoria-metrics did not start on ${this.url}:\n${tail}`);
      await sleep(50);
    }
  }

  /** SIGTERM and wait. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.child?.kill('SIGTERM');
    await this.exited;
  }

  /** Stops the server and removes its data. */
  async dispose(): Promise<void> {
    await this.stop();
    await rm(this.dataDir, { recursive: true, force: true });
  }

  /** Samples stored for series matching `selector` within the last day (and a day ahead). */
  async count(selector: string): Promise<number> {
    await (await fetch(`${this.url}/internal/force_flush`)).arrayBuffer();
    const q = `sum(count_over_time(${selector}[2d]))`;
    const time = Math.floor(Date.now() / 1000) + 86_400;
    const res = await fetch(`${this.url}/api/v1/query?query=${encodeURIComponent(q)}&time=${time}`);
    const body = (await res.json()) as { data?: { result?: Array<{ value: [number, string] }> } };
    return Number(body.data?.result?.[0]?.value[1] ?? 0);
  }
}
