/**
 * Starts a real Eclipse Mosquitto (Debian `mosquitto`) on a free 127.0.0.1 port for integration
 * tests, as the hospital's upstream broker. It can be stopped and started again on the same port,
 * to play an outage. With `persistence: true` it saves sessions on SIGTERM and restores them at
 * start, so a subscriber's persistent session (clean=false, QoS 1) survives the restart.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './victoria.js';
import { own } from '../../src/bench/proc.js';

/** Path of the broker; `VIGIL_MOSQUITTO_BIN` overrides it. */
export const MOSQUITTO_BIN = process.env.VIGIL_MOSQUITTO_BIN ?? '/usr/sbin/mosquitto';

export interface Mosquitto {
  readonly port: number;
  /** `mqtt://127.0.0.1:PORT`. */
  readonly url: string;
  /** `mqtts://127.0.0.1:TLSPORT` when a TLS listener was asked for. */
  readonly tlsUrl?: string;
  /** Broker log so far (stderr and stdout), for failure messages. */
  readonly output: () => string;
  readonly running: () => boolean;
  /** SIGTERM and wait for the exit (sessions are saved when persistence is on). */
  stop(): Promise<void>;
  /** SIGSTOP: the broker keeps its sockets open but answers nothing (a hung broker). */
  freeze(): void;
  /** SIGKILL (after SIGCONT) and wait: a crash; what it had not saved is gone. */
  kill(): Promise<void>;
  /** Starts again on the same port and config; resolves once it accepts connections. */
  start(): Promise<void>;
  /** Stops it and removes its temp dir. Idempotent. */
  dispose(): Promise<void>;
}

export interface MosquittoOptions {
  /** Keep sessions and queued messages across a restart. Default false. */
  readonly persistence?: boolean;
  readonly port?: number;
  /** How long to wait for the listener, ms. */
  readonly timeoutMs?: number;
  /** A second listener with TLS (PEM paths), on a free port. */
  readonly tls?: { readonly cert: string; readonly key: string };
}

export async function startMosquitto(opts: MosquittoOptions = {}): Promise<Mosquitto> {
  const dir = await mkdtemp(join(tmpdir(), 'vigil-mosquitto-'));
  const port = opts.port ?? (await freePort());
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const conf = join(dir, 'mosquitto.conf');
  const tlsPort = opts.tls ? await freePort() : undefined;
  const lines = [
    `listener ${port} 127.0.0.1`,
    ...(opts.tls ? [`listener ${tlsPort} 127.0.0.1`, `certfile ${opts.tls.cert}`, `keyfile ${opts.tls.key}`] : []),
    'allow_anonymous true',
    `persistence ${opts.persistence ? 'true' : 'false'}`,
    // Saved after every change, so sessions survive even a SIGKILL.
    ...(opts.persistence ? [`persistence_location ${dir}/`, 'autosave_on_changes true', 'autosave_interval 1'] : []),
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    'log_type notice',
    'max_queued_messages 100000',
    // As root, mosquitto would switch to its own user and could not write the temp dir.
    ...(process.getuid?.() === 0 ? ['user root'] : []),
  ];
  await writeFile(conf, lines.join('\n') + '\n');
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let log = '';

  const running = (): boolean => child !== undefined && child.exitCode === null && child.signalCode === null;

  const stop = async (): Promise<void> => {
    if (!running()) return;
    child!.kill('SIGCONT');
    child!.kill('SIGTERM');
    await exited;
  };

  const kill = async (): Promise<void> => {
    if (!running()) return;
    child!.kill('SIGKILL');
    await exited;
  };

  const start = async (): Promise<void> => {
    if (running()) return;
    const proc = own(spawn(MOSQUITTO_BIN, ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] }));
    child = proc;
    exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    const spawnError = new Promise<Error>((resolve) => proc.once('error', resolve));
    proc.stdout!.on('data', (c: Buffer) => (log += c.toString()));
    proc.stderr!.on('data', (c: Buffer) => (log += c.toString()));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const failed = await Promise.race([spawnError, new Promise<undefined>((r) => setImmediate(() => r(undefined)))]);
      if (failed) throw new Error(`cannot start ${MOSQUITTO_BIN} (install Debian mosquitto): ${failed.message}`);
      if (!running()) throw new Error(`mosquitto exited at start: ${log.trim()}`);
      if ((await accepts(port)) && (tlsPort === undefined || (await accepts(tlsPort)))) return;
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`mosquitto did not listen on 127.0.0.1:${port} within ${timeoutMs} ms: ${log.trim()}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  await start();
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    ...(tlsPort !== undefined ? { tlsUrl: `mqtts://127.0.0.1:${tlsPort}` } : {}),
    output: () => log,
    running,
    stop,
    start,
    freeze: () => {
      if (running()) child!.kill('SIGSTOP');
    },
    kill,
    async dispose() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
