/**
 * Runs the real `vigil start` (built output in dist/) as a child process on free loopback
 * ports with a temp data dir, and captures its JSON log lines for assertions.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { freePort } from './victoria.js';
import { own } from '../../src/bench/proc.js';
import { sumSamples } from '../../src/core/counters.js';

export const CLI = resolve(import.meta.dirname, '../../dist/src/cli/main.js');

export interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly [key: string]: unknown;
}

export interface GatewayProcess {
  readonly mqttPort: number;
  readonly httpPort: number;
  readonly dataDir: string;
  readonly configFile: string;
  /** Process id of the running gateway (changes on restart). */
  readonly pid: number | undefined;
  /** Every JSON log line so far (across restarts). */
  readonly logs: LogLine[];
  /** Raw stderr text that was not JSON (should stay empty). */
  readonly otherStderr: string[];
  health(): Promise<Record<string, unknown> & { ok: boolean }>;
  /** Value of a Prometheus sample, summing over series that match the labels. */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  /** Waits until a log line matches. */
  waitForLog(pred: (l: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** SIGTERM and wait; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait. */
  kill(): Promise<void>;
  /** Starts again on the same ports, config and data dir (with `cli`: another build of `vigil`). */
  restart(opts?: { cli?: string }): Promise<void>;
  /** Removes the temp dir (after stop/kill). */
  cleanup(): Promise<void>;
}

export interface GatewayProcessOptions {
  /** Config object, written as YAML; ports and dataDir are filled in. */
  readonly config: Record<string, unknown>;
  readonly env?: Record<string, string>;
}

export async function startGatewayProcess(opts: GatewayProcessOptions): Promise<GatewayProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'vigil-gw-'));
  const mqttPort = await freePort();
  const httpPort = await freePort();
  const dataDir = join(dir, 'data');
  const cfg = opts.config;
  const config = {
    ...cfg,
    dataDir,
    mqtt: { ...(cfg.mqtt as object | undefined), host: '127.0.0.1', port: mqttPort },
    http: { ...(cfg.http as object | undefined), host: '127.0.0.1', port: httpPort },
  };
  const configFile = join(dir, 'vigil.yaml');
  await writeFile(configFile, stringify(config));
  const logs: LogLine[] = [];
  const otherStderr: string[] = [];
  let child: ChildProcess | undefined;
  let exited: Promise<number | null> = Promise.resolve(null);

  const launch = async (cli = CLI) => {
    const proc = own(
      spawn(process.execPath, [cli, 'start', '-c', configFile], {
        env: { ...process.env, VIGIL_LOG_LEVEL: 'info', ...opts.env },
        stdio: ['ignore', 'ignore', 'pipe'],
      }),
    );
    child = proc;
    exited = new Promise((res) => proc.once('exit', (code) => res(code)));
    let buf = '';
    proc.stderr!.on('data', (chunk: Buffer) => {
      buf += chunk.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          logs.push(JSON.parse(line) as LogLine);
        } catch {
          if (line.trim() !== '') otherStderr.push(line);
        }
      }
    });
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`gateway exited with ${proc.exitCode}: ${otherStderr.join('\n')} ${JSON.stringify(logs.slice(-3))}`);
      try {
        const res = await fetch(`http://127.0.0.1:${httpPort}/healthz`);
        if (res.status === 200 || res.status === 503) return;
      } catch {
        /* not listening yet */
      }
      if (Date.now() > deadline) throw new Error('gateway did not become healthy within 20 s');
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  await launch();

  const gp: GatewayProcess = {
    mqttPort,
    httpPort,
    dataDir,
    configFile,
    get pid() {
      return child?.pid;
    },
    logs,
    otherStderr,
    async health() {
      const res = await fetch(`http://127.0.0.1:${httpPort}/healthz`);
      return (await res.json()) as Record<string, unknown> & { ok: boolean };
    },
    async metric(name, labels = {}) {
      return sumSamples(await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text(), name, labels);
    },
    async waitForLog(pred, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = logs.find(pred);
        if (hit) return hit;
        if (Date.now() > deadline) throw new Error(`no matching log line within ${timeoutMs} ms; last: ${JSON.stringify(logs.slice(-5))}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      child?.kill('SIGTERM');
      return exited;
    },
    async kill() {
      child?.kill('SIGKILL');
      await exited;
    },
    async restart(o = {}) {
      await launch(o.cli);
    },
    async cleanup() {
      if (child && child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
  return gp;
}
