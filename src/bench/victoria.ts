/**
 * A real VictoriaMetrics (Debian `victoria-metrics`) on a 127.0.0.1 port, in a data directory of
 * its own: the time-series server of `vigil bench`, and of the integration tests
 * (test/support/victoria.ts). It accepts InfluxDB's v2 write API (`/api/v2/write`) from the
 * official client; data is read back with `/api/v1/export` and `/api/v1/query`.
 *
 * How VictoriaMetrics 1.79 maps line protocol: measurement `vitals` with field `hr` becomes the
 * metric `vitals_hr`, and the tags become labels. The org and bucket query parameters are
 * accepted and ignored. Malformed lines are skipped with a log line while the request still
 * gets 204, so rejection paths (400/413/422) cannot be exercised against it.
 *
 * Visibility: a new sample of an existing series shows in export after about 0.5–1 s, but a new
 * series only after about 9 s (its index entry sits in memory until a periodic flush). The
 * `/internal/force_flush` endpoint makes everything searchable at once; {@link Victoria.flush}
 * calls it, and {@link Victoria.count} and {@link Victoria.waitForCount} flush first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signalAlive } from '../spool/lock.js';
import { freePort } from './ports.js';
import { own } from './proc.js';

/** Path of the server binary; `VIGIL_VICTORIA_BIN` overrides it. */
export const VICTORIA_BIN = process.env.VIGIL_VICTORIA_BIN ?? '/usr/bin/victoria-metrics';

/** One series from `/api/v1/export`. */
export interface ExportedSeries {
  /** Labels, including `__name__`. */
  readonly metric: Record<string, string>;
  readonly values: number[];
  /** Epoch ms, ascending. */
  readonly timestamps: number[];
}

export interface VictoriaOptions {
  /** Port to listen on; a free one is chosen when absent. */
  readonly port?: number;
  /**
   * Storage directory; a temporary one when absent, removed by `dispose()` (or, when only
   * `stop()` was called, by a later start once this process is gone).
   */
  readonly dataDir?: string;
  /** Longest wait for `/health` at start, in ms. Default 20000. */
  readonly startTimeoutMs?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Temporary data directories are named `vigil-vm-<pid>-XXXXXX` after the process that made them. */
const DIR_PREFIX = 'vigil-vm-';

/**
 * Removes temporary data directories left by processes that no longer exist (a run that only
 * called stop(), or a killed worker), so repeated runs do not fill /tmp.
 */
async function sweepStaleDirs(): Promise<void> {
  const names = await readdir(tmpdir()).catch(() => [] as string[]);
  for (const name of names) {
    const pid = Number(/^vigil-vm-(\d+)-/.exec(name)?.[1]);
    if (!Number.isInteger(pid) || pid === process.pid || signalAlive(pid)) continue;
    await rm(join(tmpdir(), name), { recursive: true, force: true }).catch(() => undefined);
  }
}

export class Victoria {
  /** Base URL, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private output = '';
  private constructor(
    readonly port: number,
    readonly dataDir: string,
    private readonly ownsDir: boolean,
    private readonly startTimeoutMs: number,
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  /** Starts a server and waits for `/health`. */
  static async start(opts: VictoriaOptions = {}): Promise<Victoria> {
    if (!existsSync(VICTORIA_BIN)) throw new Error(`${VICTORIA_BIN} not found: install Debian's victoria-metrics (test/setup/ensure-services.sh does)`);
    const port = opts.port ?? (await freePort());
    const ownsDir = opts.dataDir === undefined;
    if (ownsDir) await sweepStaleDirs();
    const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), `${DIR_PREFIX}${process.pid}-`)));
    const vm = new Victoria(port, dataDir, ownsDir, opts.startTimeoutMs ?? 20_000);
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

  /** Starts the server (again, after `stop` or `kill`) on the same port and data, and waits for `/health`. */
  async launch(): Promise<void> {
    this.output = '';
    const args = [
      `-httpListenAddr=127.0.0.1:${this.port}`,
      `-storageDataPath=${this.dataDir}`,
      '-retentionPeriod=100y',
      // Keep one sample per series and millisecond, so a replayed batch does not double up.
      '-dedup.minScrapeInterval=1ms',
      // Make just-written samples queryable at once instead of after the default 30 s.
      '-search.latencyOffset=0s',
    ];
    // killed, and a data directory of its own removed, if this process ends first
    const proc = own(spawn(VICTORIA_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] }), this.ownsDir ? this.dataDir : undefined);
    this.child = proc;
    const keep = (chunk: Buffer): void => void (this.output = (this.output + chunk.toString('utf8')).slice(-8000));
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    const deadline = Date.now() + this.startTimeoutMs;
    for (;;) {
      if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`victoria-metrics exited during start-up:\n${this.output}`);
      try {
        if ((await fetch(`${this.url}/health`)).ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new Error(`victoria-metrics did not become healthy on ${this.url} within ${this.startTimeoutMs} ms:\n${this.output}`);
      }
      await sleep(50);
    }
  }

  /** Sends SIGTERM and waits for the process to exit (VictoriaMetrics flushes to disk on it). */
  stop(): Promise<void> {
    return this.signal('SIGTERM');
  }

  /** Sends SIGKILL and waits for the exit (data not yet flushed may be lost, as in a crash). */
  kill(): Promise<void> {
    return this.signal('SIGKILL');
  }

  /** Starts again on the same port with the same data directory; stops it first when running. */
  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }

  /** Stops the server and removes the data directory when this harness created it. */
  async dispose(): Promise<void> {
    await this.stop();
    if (this.ownsDir) await rm(this.dataDir, { recursive: true, force: true });
  }

  /** Makes everything written so far visible to export and queries (`/internal/force_flush`). */
  async flush(): Promise<void> {
    const res = await fetch(`${this.url}/internal/force_flush`);
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`force_flush failed: HTTP ${res.status}`);
  }

  /** Series matching a selector, e.g. `vitals_hr{device="ox-1"}` or `{__name__=~"vitals_.*"}`. */
  async exportSeries(match: string): Promise<ExportedSeries[]> {
    // `end` a day ahead: accelerated device time writes points a little in the future, which
    // export's default end (now) would leave out.
    const end = Math.floor(Date.now() / 1000) + 86_400;
    const res = await fetch(`${this.url}/api/v1/export?match[]=${encodeURIComponent(match)}&end=${end}`);
    const text = await res.text();
    if (!res.ok) throw new Error(`export ${match} failed: HTTP ${res.status} ${text}`);
    return text
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as ExportedSeries);
  }

  /** Samples stored for series matching `selector` within the last day (and a day ahead). */
  async count(selector: string): Promise<number> {
    await this.flush();
    const q = `sum(count_over_time(${selector}[2d]))`;
    const time = Math.floor(Date.now() / 1000) + 86_400;
    const res = await fetch(`${this.url}/api/v1/query?query=${encodeURIComponent(q)}&time=${time}`);
    const body = (await res.json()) as { data?: { result?: Array<{ value: [number, string] }> } };
    return Number(body.data?.result?.[0]?.value[1] ?? 0);
  }

  /**
   * Polls export until the matching series hold at least `n` samples in total, flushing before
   * each poll. The timeout is a safety net for a hung caller, not a bound.
   * @throws Error naming the count it saw when `timeoutMs` passes first.
   */
  async waitForCount(match: string, n: number, timeoutMs = 15_000): Promise<ExportedSeries[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await this.flush();
      const series = await this.exportSeries(match);
      const count = series.reduce((sum, s) => sum + s.values.length, 0);
      if (count >= n) return series;
      if (Date.now() > deadline) throw new Error(`expected ${n} samples for ${match}, saw ${count} after ${timeoutMs} ms`);
      await sleep(100);
    }
  }

  private async signal(sig: NodeJS.Signals): Promise<void> {
    if (!this.running) return;
    this.child?.kill(sig);
    await this.exited;
  }
}
