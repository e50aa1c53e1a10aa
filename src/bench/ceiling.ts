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
  /** The gateway's garbage collection over the measured window (its main thread's share). */
  readonly vigilGc: GcRates;
}

/** Collections a second, by kind, and the share of wall time the main thread spent in them. */
export interface GcRates {
  readonly minorPerS: number;
  readonly majorPerS: number;
  /** % of the window */
  readonly mainThreadPct: number;
}

/** What the window's two readings of `vigil_gc_*` give. */
export function gcRates(before: GcReading, after: GcReading, seconds: number): GcRates {
  return {
    minorPerS: (after.minor - before.minor) / seconds,
    majorPerS: (after.major - before.major) / seconds,
    mainThreadPct: ((after.seconds - before.seconds) / seconds) * 100,
  };
}

export interface GcReading {
  readonly minor: number;
  readonly major: number;
  /** seconds of every kind */
  readonly seconds: number;
}

/** Readings taken at the start and the end of the measured window. */
interface WindowHooks {
  at(edge: 'start' | 'end'): Promise<void>;
}

/** Runs the clients against `port` and returns PUBACKs per second over the window. */
async function measure(env: BenchEnv, port: number, o: CeilingOptions, label: string, hooks?: WindowHooks): Promise<number> {
  const clients = new LoadClients();
  try {
    const conn = await clients.start(processesFor(env, o.devices), {
      host: '127.0.0.1', port, first: 0, count: o.devices, mode: 'max', ratePerDevice: 0, window: o.window,
      probeEvery: 0, maxMessagesPerDevice: 0, connectConcurrency: 100,
    });
    if (conn.connected < o.devices) throw new Error(`${label}: only ${conn.connected} of ${o.devices} clients connected`);
    clients.go();
    await sleep(o.warmupS * 1000);
    await hooks?.at('start');
    const s0 = await clients.snapshot();
    const t0 = performance.now();
    await sleep(o.windowS * 1000);
    const s1 = await clients.snapshot();
    await hooks?.at('end');
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
    const gc: Partial<Record<'start' | 'end', { reading: GcReading; at: number }>> = {};
    const read = async (): Promise<GcReading> => ({
      minor: await gw.metric('vigil_gc_collections_total', { kind: 'minor' }),
      major: await gw.metric('vigil_gc_collections_total', { kind: 'major' }),
      seconds: await gw.metric('vigil_gc_seconds_total'),
    });
    const vigilRate = await measure(env, env.ports.mqtt, o, 'Vigil', { at: async (edge) => void (gc[edge] = { reading: await read(), at: performance.now() }) });
    const dt = (performance.now() - t0) / 1000;
    const vigilGc = gcRates(gc.start!.reading, gc.end!.reading, (gc.end!.at - gc.start!.at) / 1000);
    env.progress(`ceiling Vigil: ${vigilGc.minorPerS.toFixed(0)} minor and ${vigilGc.majorPerS.toFixed(1)} major collections a second, ${vigilGc.mainThreadPct.toFixed(0)} % of the main thread`);
    return {
      devices: o.devices,
      window: o.window,
      aedesMsgPerS: aedesRate,
      vigilMsgPerS: vigilRate,
      // Every acknowledged message carried OBS_PER_MESSAGE observations, all in the spool.
      vigilObsPerS: vigilRate * OBS_PER_MESSAGE,
      ratio: vigilRate / aedesRate,
      vigilCpuPct: ((gw.cpuMs() - cpu0) / (dt * 1000)) * 100,
      vigilGc,
    };
  } finally {
    await gw.stop();
  }
}
