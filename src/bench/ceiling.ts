/**
 * The ceiling in the same run: the same load clients, as fast as PUBACKs come back, against
 * plain aedes (no hooks, no pipeline) and then against Vigil with everything on, in rounds
 * (each broker started afresh for its window). Vigil's throughput is reported as a ratio of
 * plain aedes': the median of the rounds' ratios, each from one window of each broker taken
 * one after the other, so that a swing of the shared machine during one broker's turn weighs
 * less than in a single pair.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LoadClients } from './clients.js';
import { OBS_PER_MESSAGE } from './protocol.js';
import { processesFor, sleep, startGateway, type BenchEnv } from './env.js';
import { own } from './proc.js';
import { assertPortsFree } from './ports.js';
import { sumSamples } from '../core/counters.js';

const PLAIN_AEDES = fileURLToPath(new URL('./plain-aedes.js', import.meta.url));

export interface CeilingOptions {
  readonly devices: number;
  /** Publishes in flight per device. */
  readonly window: number;
  /** s */
  readonly warmupS: number;
  /** s */
  readonly windowS: number;
  /** Pairs of windows, plain aedes then Vigil. */
  readonly rounds: number;
}

/** One pair of windows. */
export interface CeilingRound {
  readonly aedesMsgPerS: number;
  readonly vigilMsgPerS: number;
  readonly ratio: number;
}

export interface CeilingResult {
  readonly devices: number;
  readonly window: number;
  /** messages/s acknowledged by plain aedes (median of the rounds) */
  readonly aedesMsgPerS: number;
  /** messages/s acknowledged by Vigil (median of the rounds) */
  readonly vigilMsgPerS: number;
  /** observations/s Vigil accepted into its spool at that rate */
  readonly vigilObsPerS: number;
  /** vigil / aedes: the median of the rounds' ratios */
  readonly ratio: number;
  readonly rounds: readonly CeilingRound[];
  /** Gateway CPU while its clients connected, warmed up and ran, % of one core (all rounds). */
  readonly vigilCpuPct: number;
  /** The gateway's garbage collection over its measured windows (its main thread's share). */
  readonly vigilGc: GcRates;
  /** The spool's group commit over Vigil's measured windows. */
  readonly vigilSpool: SpoolGroups;
}

/** Groups the spool wrote and fsynced a second, and records a group. */
export interface SpoolGroups {
  readonly groupsPerS: number;
  readonly recordsPerGroup: number;
}

/** What the window's two readings of `vigil_spool_groups_total` and `vigil_spool_records_appended_total` give. */
export function spoolGroups(groups: number, records: number, seconds: number): SpoolGroups {
  return { groupsPerS: groups / seconds, recordsPerGroup: groups > 0 ? records / groups : 0 };
}

/** The middle value (the mean of the middle two of an even count). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
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

/** The spool's counts at one edge of a window. */
interface SpoolReading {
  readonly groups: number;
  readonly records: number;
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
  env.progress(`ceiling: plain aedes, then Vigil (auth, ACL, spool with fsync, detectors, writer), ${o.devices} clients, ${o.window} in flight each, ${o.rounds} round${o.rounds === 1 ? '' : 's'}`);
  const rounds: CeilingRound[] = [];
  const vigil: VigilWindow[] = [];
  for (let i = 1; i <= o.rounds; i++) {
    const label = o.rounds === 1 ? '' : ` (round ${i})`;
    const aedesMsgPerS = await plainAedes(env, o, label);
    const v = await vigilWindow(env, o, label);
    vigil.push(v);
    const ratio = v.msgPerS / aedesMsgPerS;
    rounds.push({ aedesMsgPerS, vigilMsgPerS: v.msgPerS, ratio });
    if (o.rounds > 1) env.progress(`ceiling round ${i}: ratio ${ratio.toFixed(2)}`);
  }
  const sum = (f: (v: VigilWindow) => number): number => vigil.reduce((a, v) => a + f(v), 0);
  const vigilGc = gcRates({ minor: 0, major: 0, seconds: 0 }, { minor: sum((v) => v.gc.minor), major: sum((v) => v.gc.major), seconds: sum((v) => v.gc.seconds) }, sum((v) => v.measuredS));
  env.progress(`ceiling Vigil: ${vigilGc.minorPerS.toFixed(0)} minor and ${vigilGc.majorPerS.toFixed(1)} major collections a second, ${vigilGc.mainThreadPct.toFixed(0)} % of the main thread`);
  const vigilSpool = spoolGroups(sum((v) => v.spool.groups), sum((v) => v.spool.records), sum((v) => v.measuredS));
  env.progress(`ceiling Vigil: the spool made ${vigilSpool.groupsPerS.toFixed(0)} groups durable a second, ${vigilSpool.recordsPerGroup.toFixed(0)} records each`);
  const vigilMsgPerS = median(rounds.map((r) => r.vigilMsgPerS));
  return {
    devices: o.devices,
    window: o.window,
    aedesMsgPerS: median(rounds.map((r) => r.aedesMsgPerS)),
    vigilMsgPerS,
    // Every acknowledged message carried OBS_PER_MESSAGE observations, all in the spool.
    vigilObsPerS: vigilMsgPerS * OBS_PER_MESSAGE,
    ratio: median(rounds.map((r) => r.ratio)),
    rounds,
    vigilCpuPct: (sum((v) => v.cpuMs) / (sum((v) => v.s) * 1000)) * 100,
    vigilGc,
    vigilSpool,
  };
}

/** A window against plain aedes, in a process started for it. */
async function plainAedes(env: BenchEnv, o: CeilingOptions, label: string): Promise<number> {
  await assertPortsFree({ aedes: env.ports.aedes });
  const aedes = fork(PLAIN_AEDES, [String(env.ports.aedes)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  own(aedes);
  const exited = new Promise((r) => aedes.once('exit', r));
  try {
    await new Promise<void>((resolve, reject) => {
      aedes.once('message', (m: { type: string; message?: string }) => (m.type === 'listening' ? resolve() : reject(new Error(`plain aedes: ${m.message}`))));
      aedes.once('exit', () => reject(new Error('plain aedes exited at start')));
    });
    return await measure(env, env.ports.aedes, o, `plain aedes${label}`);
  } finally {
    aedes.kill('SIGTERM');
    await exited;
  }
}

interface VigilWindow {
  readonly msgPerS: number;
  /** Gateway CPU from the clients' start to their stop, and the seconds that took. */
  readonly cpuMs: number;
  readonly s: number;
  /** Collections and spool groups over the measured window, and its seconds. */
  readonly gc: GcReading;
  readonly spool: SpoolReading;
  readonly measuredS: number;
}

/** A window against a gateway started for it. */
async function vigilWindow(env: BenchEnv, o: CeilingOptions, label: string): Promise<VigilWindow> {
  const gw = await startGateway(env, o.devices);
  try {
    /** Every sample an edge needs, from one scrape, and when it was taken. */
    const read = async (): Promise<{ gc: GcReading; spool: SpoolReading; at: number }> => {
      const text = await gw.metrics();
      const at = performance.now();
      return {
        gc: {
          minor: sumSamples(text, 'vigil_gc_collections_total', { kind: 'minor' }),
          major: sumSamples(text, 'vigil_gc_collections_total', { kind: 'major' }),
          seconds: sumSamples(text, 'vigil_gc_seconds_total'),
        },
        spool: { groups: sumSamples(text, 'vigil_spool_groups_total'), records: sumSamples(text, 'vigil_spool_records_appended_total') },
        at,
      };
    };
    const cpu0 = gw.cpuMs();
    const t0 = performance.now();
    const edges: Partial<Record<'start' | 'end', Awaited<ReturnType<typeof read>>>> = {};
    const msgPerS = await measure(env, env.ports.mqtt, o, `Vigil${label}`, { at: async (edge) => void (edges[edge] = await read()) });
    const [a, b] = [edges.start!.gc, edges.end!.gc];
    const [sa, sb] = [edges.start!.spool, edges.end!.spool];
    return {
      msgPerS,
      cpuMs: gw.cpuMs() - cpu0,
      s: (performance.now() - t0) / 1000,
      gc: { minor: b.minor - a.minor, major: b.major - a.major, seconds: b.seconds - a.seconds },
      spool: { groups: sb.groups - sa.groups, records: sb.records - sa.records },
      measuredS: (edges.end!.at - edges.start!.at) / 1000,
    };
  } finally {
    await gw.stop();
  }
}
