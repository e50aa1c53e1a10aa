/**
 * The ceiling in the same run: the same load clients, as fast as PUBACKs come back, first
 * against plain aedes (no hooks, no pipeline) and then against Vigil with everything on.
 * Vigil's throughput is reported as a ratio of plain aedes'.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LoadClients } from './clients.js';
import { OBS_PER_MESSAGE } from './protocol.js';
import { processesFor, sleep, startGateway, type BenchEnv } from './env.js';
import { own } from './proc.js';
import { assertPortsFree } from './ports.js';

const PLAIN_AEDES = fileURLToPath(new URL('./plain-aedes.js', import.meta.url));

export interface CeilingOptions {
  readonly devices: number;
  /** Publishes in flight per device. */
  readonly window: number;
  /** s */
  readonly warmupS: number;
  /** s */
  readonly windowS: number;
}

export interface CeilingResult {
  readonly devices: number;
  readonly window: number;
  /** messages/s acknowledged by plain aedes */
  readonly aedesMsgPerS: number;
  /** messages/s acknowledged by Vigil */
  readonly vigilMsgPerS: number;
  /** observations/s Vigil accepted into its spool at that rate */
  readonly vigilObsPerS: number;
  /** vigil / aedes */
  readonly ratio: number;
  /** Gateway CPU while the clients connected, warmed up and ran, % of one core. */
  readonly vigilCpuPct: number;
}

/** Runs the clients against `port` and returns PUBACKs per second over the window. */
async function measure(env: BenchEnv, port: number, o: CeilingOptions, label: string): Promise<number> {
  const clients = new LoadClients();
  try {
    const conn = await clients.start(processesFor(env, o.devices), {
      host: '127.0.0.1', port, first: 0, count: o.devices, mode: 'max', ratePerDevice: 0, window: o.window,
      probeEvery: 0, maxMessagesPerDevice: 0, connectConcurrency: 100,
    });
    if (conn.connected < o.devices) throw new Error(`${label}: only ${conn.connected} of ${o.devices} clients connected`);
    clients.go();
    await sleep(o.warmupS * 1000);
    const s0 = await clients.snapshot();
    const t0 = performance.now();
    await sleep(o.windowS * 1000);
    const s1 = await clients.snapshot();
    const rate = (s1.acked - s0.acked) / ((performance.now() - t0) / 1000);
    env.progress(`ceiling ${label}: ${Math.round(rate)} msg/s with ${o.devices} clients`);
    return rate;
  } finally {
    await clients.stop();
  }
}

export async function runCeiling(env: BenchEnv, o: CeilingOptions): Promise<CeilingResult> {
  env.progress(`ceiling: plain aedes, ${o.devices} clients, ${o.window} in flight each`);
  await assertPortsFree({ aedes: env.ports.aedes });
  const aedes = fork(PLAIN_AEDES, [String(env.ports.aedes)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  own(aedes);
  let aedesRate: number;
  try {
    await new Promise<void>((resolve, reject) => {
      aedes.once('message', (m: { type: string; message?: string }) => (m.type === 'listening' ? resolve() : reject(new Error(`plain aedes: ${m.message}`))));
      aedes.once('exit', () => reject(new Error('plain aedes exited at start')));
    });
    aedesRate = await measure(env, env.ports.aedes, o, 'plain aedes');
  } finally {
    const exited = new Promise((r) => aedes.once('exit', r));
    aedes.kill('SIGTERM');
    await exited;
  }

  env.progress(`ceiling: Vigil (auth, ACL, spool with fsync, detectors, writer), same clients`);
  const gw = await startGateway(env, o.devices);
  try {
    const cpu0 = gw.cpuMs();
    const t0 = performance.now();
    const vigilRate = await measure(env, env.ports.mqtt, o, 'Vigil');
    const dt = (performance.now() - t0) / 1000;
    return {
      devices: o.devices,
      window: o.window,
      aedesMsgPerS: aedesRate,
      vigilMsgPerS: vigilRate,
      // Every acknowledged message carried OBS_PER_MESSAGE observations, all in the spool.
      vigilObsPerS: vigilRate * OBS_PER_MESSAGE,
      ratio: vigilRate / aedesRate,
      vigilCpuPct: ((gw.cpuMs() - cpu0) / (dt * 1000)) * 100,
    };
  } finally {
    await gw.stop();
  }
}
