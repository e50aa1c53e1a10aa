/**
 * Starts a real VictoriaMetrics (Debian `victoria-metrics`) on a free 127.0.0.1 port for
 * integration tests. It accepts InfluxDB's v2 write API (`/api/v2/write`) from the official
 * client, and data is read back with `/api/v1/export`.
 *
 * How VictoriaMetrics 1.79 maps line protocol: measurement `vitals` with field `hr` becomes the
 * metric `vitals_hr`, and the tags become labels. The org and bucket query parameters are
 * accepted and ignored. Malformed lines are skipped with a log line while the request still
 * gets 204, so rejection paths (400/413/422) cannot be exercised against it.
 *
 * Visibility: a new sample of an existing series shows in export after about 0.5–1 s, but a new
 * series only after about 9 s (its index entry sits in memory until a periodic flush). The
 * `/internal/force_flush` endpoint makes everything searchable at once; {@link Victoria.flush}
 * calls it, and {@link Victoria.waitForCount} flushes before each poll.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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

export interface Victoria {
  /** Base URL, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** Sends SIGTERM and waits for the process to exit (VictoriaMetrics flushes to disk on it). */
  stop(): Promise<void>;
  /** Sends SIGKILL and waits for the exit (data not yet flushed may be lost, as in a crash). */
  kill(): Promise<void>;
  /** Starts again on the same port with the same data directory; stops it first when running. */
  restart(): Promise<void>;
  /** Stops the server and removes the data directory when this harness created it. */
  dispose(): Promise<void>;
  /** Makes everything written so far visible to export (`/internal/force_flush`). */
  flush(): Promise<void>;
  /** Series matching a selector, e.g. `vitals_hr{device="ox-1"}` or `{__name__=~"vitals_.*"}`. */
  exportSeries(match: string): Promise<ExportedSeries[]>;
  /**
   * Polls export until the matching series hold at least `n` samples in total.
   * @throws Error naming the count it saw when `timeoutMs` passes first.
   */
  waitForCount(match: string, n: number, timeoutMs?: number): Promise<ExportedSeries[]>;
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

/** A port that was free a moment ago on 127.0.0.1 (bind port 0, read it, release it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Temporary data directories are named `vigil-vm-<pid>-XXXXXX` after the process that made them. */
const DIR_PREFIX = 'vigil-vm-';

/**
 * Removes temporary data directories left by processes that no longer exist (a test that only
 * called stop(), or a killed worker), so repeated runs do not fill /tmp.
 */
async function sweepStaleDirs(): Promise<void> {
  const names = await readdir(tmpdir()).catch(() => [] as string[]);
  for (const name of names) {
    const pid = Number(/^vigil-vm-(\d+)-/.exec(name)?.[1]);
    if (!Number.isInteger(pid) || pid === process.pid || processAlive(pid)) continue;
    await rm(join(tmpdir(), name), { recursive: true, force: true }).catch(() => undefined);
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function startVictoria(opts: VictoriaOptions = {}): Promise<Victoria> {
  if (!existsSync(VICTORIA_BIN)) {
    throw new Error(`${VICTORIA_BIN} not found: run test/setup/ensure-services.sh (installs Debian victoria-metrics)`);
  }
  const port = opts.port ?? (await freePort());
  const ownsDir = opts.dataDir === undefined;
  if (ownsDir) await sweepStaleDirs();
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), `${DIR_PREFIX}${process.pid}-`)));
  const url = `http://127.0.0.1:${port}`;
  const startTimeoutMs = opts.startTimeoutMs ?? 20_000;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let output = '';
  // When the process exits normally the server goes with it. Vitest workers are killed without
  // an 'exit' event, so tests must still call dispose() (or stop()) themselves.
  const killOnExit = (): void => {
    child?.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  const launch = async (): Promise<void> => {
    output = '';
    const proc = spawn(
      VICTORIA_BIN,
      [
        `-httpListenAddr=127.0.0.1:${port}`,
        `-storageDataPath=${dataDir}`,
        '-retentionPeriod=100y',
        // Keep one sample per series and millisecond, so a replayed batch does not double up.
        '-dedup.minScrapeInterval=1ms',
        // Make just-written samples queryable at once instead of after the default 30 s.
        '-search.latencyOffset=0s',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = proc;
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-8000);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    let hasExited = false;
    exited = new Promise<void>((resolve) => {
      proc.once('exit', () => {
        hasExited = true;
        resolve();
      });
    });
    const deadline = Date.now() + startTimeoutMs;
    for (;;) {
      if (hasExited) throw new Error(`victoria-metrics exited during start-up:\n${output}`);
      try {
        const res = await fetch(`${url}/health`);
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new Error(`victoria-metrics did not become healthy on ${url} within ${startTimeoutMs} ms:\n${output}`);
      }
      await sleep(50);
    }
  };

  const signal = async (sig: NodeJS.Signals): Promise<void> => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill(sig);
    await exited;
  };

  const exportSeries = async (match: string): Promise<ExportedSeries[]> => {
    // `end` a day ahead: tests that send accelerated device time write points a little in the
    // future, which export's default end (now) would leave out.
    const end = Math.floor(Date.now() / 1000) + 86_400;
    const res = await fetch(`${url}/api/v1/export?match[]=${encodeURIComponent(match)}&end=${end}`);
    const text = await res.text();
    if (!res.ok) throw new Error(`export ${match} failed: HTTP ${res.status} ${text}`);
    return text
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as ExportedSeries);
  };

  const flush = async (): Promise<void> => {
    const res = await fetch(`${url}/internal/force_flush`);
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`force_flush failed: HTTP ${res.status}`);
  };

  await launch();

  return {
    url,
    port,
    dataDir,
    stop: () => signal('SIGTERM'),
    kill: () => signal('SIGKILL'),
    async restart() {
      await signal('SIGTERM');
      const flush = async (): Promise<void> => {
    const res = await fetch(`${url}/internal/force_flush`);
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`force_flush failed: HTTP ${res.status}`);
  };

  await launch();
    },
    async dispose() {
      await signal('SIGTERM');
      process.removeListener('exit', killOnExit);
      if (ownsDir) await rm(dataDir, { recursive: true, force: true });
    },
    flush,
    exportSeries,
    async waitForCount(match, n, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        await flush();
        const series = await exportSeries(match);
        const count = series.reduce((sum, s) => sum + s.values.length, 0);
        if (count >= n) return series;
        if (Date.now() > deadline) throw new Error(`expected ${n} samples for ${match}, saw ${count} after ${timeoutMs} ms`);
        await sleep(100);
      }
    },
  };
}
