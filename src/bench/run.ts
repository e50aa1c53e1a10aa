/**
 * Runs the benchmark: a time-series server, then each phase (sustained loads, ceiling, spool
 * catch-up) against a fresh gateway process, then the results as JSON and markdown.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Victoria } from './victoria.js';
import type { BenchEnv, BenchPorts } from './env.js';
import { assertPortsFree } from './ports.js';
import { runSustained, type SustainedResult } from './sustained.js';
import { PROBE_CYCLE } from './protocol.js';
import { runCeiling, type CeilingOptions, type CeilingResult } from './ceiling.js';
import { runSpoolCatchUp, type SpoolResult } from './spool-catchup.js';
import { runRestart, type RestartResult } from './restart.js';
import { runReplayRate, type ReplayResult } from './replay.js';
import { DEFAULT_MAX_ALARMS, DEFAULT_MAX_NEWS2 } from '../web/ward-store.js';
import { runHistories, type HistoriesResult, type HistoryFill } from './histories.js';
import { runSoak, type SoakResult } from './soak.js';
import { machine, markdown, targets, type BenchResults } from './report.js';
import { summarise, type CpuProfile } from './profile-summary.js';

/** Every NEWS2 and alarm log at its cap. */
const CAPS: HistoryFill = { label: 'every log at its cap', news2: DEFAULT_MAX_NEWS2, alarms: DEFAULT_MAX_ALARMS };

export interface BenchOptions {
  readonly ports: BenchPorts;
  /** Sustained loads: devices and messages/s per device. */
  readonly levels: ReadonlyArray<{ readonly devices: number; readonly rate: number }>;
  /** s */
  readonly warmupS: number;
  /** s */
  readonly windowS: number;
  readonly probeEvery: number;
  readonly ceiling: CeilingOptions | undefined;
  readonly spool: { readonly devices: number; readonly minutes: number } | undefined;
  /** Restart over a ward's data: beds and hours of it in the spool. */
  readonly restart: { readonly beds: number; readonly hours: number } | undefined;
  /** A long run for memory growth: devices at 1 msg/s for minutes. */
  readonly soak: { readonly devices: number; readonly minutes: number } | undefined;
  /**
   * The station's histories filled at this many patients; when as many as the largest load's
   * devices, that load also runs again on a gateway whose every history is full.
   */
  readonly histories: { readonly patients: number } | undefined;
  /** `vigil replay` of a simulated recording: patients and hours. */
  readonly replay: { readonly patients: number; readonly hours: number } | undefined;
  readonly clientProcesses: number;
  /** Directory for results (JSON). */
  readonly outDir: string;
  /** Profile the gateway with `node --cpu-prof` into outDir/profiles. */
  readonly profile: boolean;
  /** Extra node options for the gateway process. */
  readonly gatewayNodeArgs: readonly string[];
  /** `influx.batchSize` for the gateway, when not the default. */
  readonly influxBatchSize?: number;
  readonly write: (s: string) => void;
  readonly progress: (s: string) => void;
}

export const FULL = {
  levels: [{ devices: 100, rate: 1 }, { devices: 1000, rate: 1 }, { devices: 5000, rate: 1 }],
  // a minute a load: every window holds one save of the alarm state (alarms.checkpointSeconds)
  warmupS: 5, windowS: 60, probeEvery: 20,
  ceiling: { devices: 2000, window: 2, warmupS: 3, windowS: 10, rounds: 3 },
  spool: { devices: 1000, minutes: 5 },
  restart: { beds: 30, hours: 24 },
  replay: { patients: 6, hours: 24 },
  soak: { devices: 1000, minutes: 30 },
  histories: { patients: 5000 },
} as const;

export const QUICK = {
  levels: [{ devices: 200, rate: 1 }, { devices: 2000, rate: 1 }],
  warmupS: 2, windowS: 5, probeEvery: 10,
  ceiling: { devices: 1000, window: 2, warmupS: 1, windowS: 3, rounds: 1 },
  spool: { devices: 200, minutes: 1 },
  restart: { beds: 8, hours: 2 },
  replay: { patients: 6, hours: 4 },
  soak: { devices: 200, minutes: 2 },
  histories: { patients: 500 },
} as const;

export async function runBench(o: BenchOptions): Promise<BenchResults> {
  const started = Date.now();
  const stamp = (): string => `[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s]`;
  // Refuse at once, before anything starts, when a port is taken.
  await assertPortsFree({ mqtt: o.ports.mqtt, http: o.ports.http, 'time-series': o.ports.victoria, 'plain aedes': o.ports.aedes });
  const outDir = resolve(o.outDir);
  const cpuProfDir = o.profile ? join(outDir, 'profiles') : undefined;
  if (cpuProfDir) await mkdir(cpuProfDir, { recursive: true });
  o.progress(`${stamp()} starting the time-series server on 127.0.0.1:${o.ports.victoria}`);
  const vm = await Victoria.start({ port: o.ports.victoria });
  const env: BenchEnv = { startedAt: started, ports: o.ports, vm, clientProcesses: o.clientProcesses, cpuProfDir, gatewayNodeArgs: o.gatewayNodeArgs, influxBatchSize: o.influxBatchSize, progress: (l) => o.progress(`${stamp()} ${l}`) };
  const sustained: SustainedResult[] = [];
  let ceiling: CeilingResult | undefined;
  let spool: SpoolResult | undefined;
  let restart: RestartResult | undefined;
  let replay: ReplayResult | undefined;
  let soak: SoakResult | undefined;
  let histories: HistoriesResult | undefined;
  try {
    const sustain = async (level: BenchOptions['levels'][number], historiesFull?: HistoryFill): Promise<void> => {
      sustained.push(await runSustained(env, { devices: level.devices, rate: level.rate, warmupS: o.warmupS, windowS: o.windowS, probeEvery: probeEveryFor(level.devices, level.rate, o.windowS, o.probeEvery), ...(historiesFull ? { historiesFull } : {}) }));
    };
    for (const level of o.levels) await sustain(level);
    // the largest load again, on a station whose every history is full, as after six hours of it
    const largest = o.levels.at(-1);
    if (o.histories && largest && o.histories.patients >= largest.devices) await sustain(largest, CAPS);
    if (o.ceiling) ceiling = await runCeiling(env, o.ceiling);
    if (o.spool) spool = await runSpoolCatchUp(env, o.spool);
    // a wearable every 5 s and a cuff every 5 min a bed; saved every minute, as by default
    if (o.restart) restart = await runRestart(env, { ...o.restart, intervalS: 5, checkpointSeconds: 60 });
    if (o.replay) replay = await runReplayRate(env, { ...o.replay, runs: 3 });
    if (o.histories) {
      const fills = [CAPS];
      if (replay) fills.unshift({ label: 'the busiest simulated patient, 6 h', ...replay.busiestPer6h });
      histories = await runHistories(env, o.histories.patients, fills);
    }
    if (o.soak) soak = await runSoak(env, o.soak);
  } finally {
    await vm.dispose();
  }
  const results: BenchResults = {
    startedAt: new Date(started).toISOString(),
    durationS: (Date.now() - started) / 1000,
    machine: machine(),
    clientProcesses: o.clientProcesses,
    probeEvery: o.probeEvery,
    ...(o.influxBatchSize ? { influxBatchSize: o.influxBatchSize } : {}),
    gatewayNodeArgs: o.gatewayNodeArgs,
    sustained,
    ...(ceiling ? { ceiling } : {}),
    ...(spool ? { spool } : {}),
    ...(restart ? { restart } : {}),
    ...(replay ? { replay } : {}),
    ...(soak ? { soak } : {}),
    ...(histories ? { histories } : {}),
    targets: targets(sustained, ceiling, replay, histories),
  };
  if (cpuProfDir) {
    // One profile per gateway started, in start order: say where each one's time went.
    for (const f of (await readdir(cpuProfDir)).filter((x) => x.endsWith('.cpuprofile')).sort()) {
      const s = summarise(JSON.parse(await readFile(join(cpuProfDir, f), 'utf8')) as CpuProfile, 8);
      o.progress(`profile ${f}: ${s.areas.map((a) => `${a.name} ${a.pct.toFixed(1)} %`).join(', ')}`);
      o.progress(`  hottest functions: ${s.functions.map((a) => `${a.name} ${a.pct.toFixed(1)} %`).join(', ')}`);
    }
  }
  await mkdir(outDir, { recursive: true });
  const file = join(outDir, `bench-${results.startedAt.replace(/[:.]/g, '-')}.json`);
  await writeFile(file, JSON.stringify(results, null, 2) + '\n');
  await writeFile(join(outDir, 'latest.json'), JSON.stringify(results, null, 2) + '\n');
  o.write(markdown(results) + '\n');
  o.progress(`${stamp()} results: ${file} (and latest.json)${cpuProfDir ? `; CPU profiles in ${cpuProfDir}` : ''}`);
  return results;
}

/**
 * One device in how many is a latency probe: as few as give at least 1,100 alarms over the window
 * (each probe breaches once every PROBE_CYCLE messages), never fewer than `most` allows.
 */
export function probeEveryFor(devices: number, rate: number, windowS: number, most: number): number {
  const perProbe = (rate * windowS) / PROBE_CYCLE;
  return Math.max(1, Math.min(most, Math.floor((devices * perProbe) / 1100)));
}
