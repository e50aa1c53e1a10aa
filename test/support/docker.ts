/**
 * A Docker engine for the deployment tests. `ensureDocker()` runs test/setup/ensure-docker.sh
 * (Debian's docker.io, dockerd when none answers, the base image or its local stand-in) and
 * returns a handle whose `stop()` stops dockerd only when this run started it. `docker()` runs
 * the CLI; `Cleanup` removes the containers and volumes a test made, even when it fails.
 */
import { execFile, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { probeProcess } from '../../src/spool/lock.js';
import { until } from './wait.js';

export const ROOT = resolve(import.meta.dirname, '../..');
const SETUP = resolve(ROOT, 'test/setup/ensure-docker.sh');

export interface DockerResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `docker ...args`; never throws for a non-zero exit (see `dockerOk`). */
export function docker(args: readonly string[], opts: { input?: string; timeoutMs?: number; env?: Record<string, string>; cwd?: string } = {}): Promise<DockerResult> {
  return new Promise((done) => {
    const child = execFile('docker', [...args], { cwd: opts.cwd ?? ROOT, timeout: opts.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, ...opts.env } }, (err, stdout, stderr) => {
      done({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1) : 0, stdout, stderr });
    });
    child.stdin!.end(opts.input ?? '');
  });
}

/** Runs `docker ...args` and returns stdout; throws with the command and its stderr when it fails. */
export async function dockerOk(args: readonly string[], opts: Parameters<typeof docker>[1] = {}): Promise<string> {
  const r = await docker(args, opts);
  if (r.code !== 0) throw new Error(`docker ${args.join(' ')} exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}

export interface DockerEngine {
  /** Stops dockerd (SIGTERM, then waits) if this run started it; otherwise leaves it alone. */
  stop(): Promise<void>;
}

/** Makes sure an engine answers and the base image exists (minutes the first time, a second after). */
export async function ensureDocker(): Promise<DockerEngine> {
  if (process.getuid?.() !== 0) throw new Error('the Docker tests start the Docker engine: run them as root (npm test does, like CI)');
  const out = await new Promise<string>((done, fail) => {
    const child = spawn('bash', [SETUP], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => (code === 0 ? done(stdout.trim()) : fail(new Error(`${SETUP} exited ${code}:\n${stderr.slice(-4000)}`))));
  });
  const started = /^started (\d+)$/.exec(out);
  const pid = started ? Number(started[1]) : undefined;
  return {
    async stop() {
      if (pid === undefined) return;
      process.kill(pid, 'SIGTERM');
      // dockerd runs in its own session, so init reaps it; an unreaped one has stopped all the same.
      await until(() => {
        const p = probeProcess(pid);
        return !p?.exists || p.state === 'Z';
      }, `dockerd ${pid} to stop`, 60_000, 100);
    },
  };
}

/** Health status of a container from its HEALTHCHECK: starting, healthy or unhealthy. */
export async function health(container: string): Promise<string> {
  return (await dockerOk(['inspect', '-f', '{{if .State.Health}}{{.State.Health.Status}}{{end}} {{.State.Status}}', container])).trim();
}

/** Waits until the container's health check passes; fails early, with its log, if it stops. */
export async function waitHealthy(container: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await health(container);
    if (status === 'healthy running') return;
    if (!status.endsWith('running') || Date.now() > deadline) {
      const logs = await docker(['logs', '--tail', '20', container]);
      throw new Error(`container ${container} is "${status}", not healthy:\n${logs.stdout}${logs.stderr}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Containers and volumes a test made; `run()` removes them all, ignoring ones already gone. */
export class Cleanup {
  private readonly containers: string[] = [];
  private readonly volumes: string[] = [];
  container(name: string): string {
    this.containers.push(name);
    return name;
  }
  volume(name: string): string {
    this.volumes.push(name);
    return name;
  }
  async run(): Promise<void> {
    for (const c of this.containers.splice(0)) await docker(['rm', '-f', '-v', c]);
    for (const v of this.volumes.splice(0)) await docker(['volume', 'rm', '-f', v]);
  }
}
