/**
 * Sustained load: N wearables at a fixed rate against a fresh gateway with every detector on,
 * measured over a window after a warm-up: messages and observations accepted per second, points
 * written to the time-series server, publish-to-alarm latency, gateway RSS and CPU. With
 * `historiesFull`, the gateway starts on a saved state whose station histories are all full
 * (`prefill-child.ts`), as it would be six hours into that load.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { STATE_FILE_IN_DATA_DIR } from '../alarms/state-file.js';
import type { HistoryFill } from './histories.js';
import { runNode } from './proc.js';
import { LoadClients } from './clients.js';
import { CONSUMER } from './config.js';
import { LatencyProbe, type LatencySummary } from './latency.js';
import { cpuMsOf, processesFor, sleep, startGateway, waitUntil, type BenchEnv } from './env.js';

const PREFILL = fileURLToPath(new URL('./prefill-child.js', import.meta.url));

export interface SustainedOptions {
  readonly devices: number;
  /** messages/s per device */
  readonly rate: number;
  /** s */
  readonly warmupS: number;
  /** s */
  readonly windowS: number;
  /** One device in this many is a latency probe. */
  readonly probeEvery: number;
  /** Start the gateway with every station history full: trends, and the logs at these counts. */
  readonly historiesFull?: HistoryFill;
}

export interface SustainedResult {
  readonly devices: number;
  /** Set when the gateway started with every station history full (see `SustainedOptions`). */
  readonly historiesFull?: HistoryFill;
  /** One device in this many was a latency probe. */
  readonly probeEvery: number;
  readonly ratePerDevice: number;
  /** messages/s offered by the devices */
  readonly offeredMsgPerS: number;
  /** messages/s acknowledged (PUBACK) */
  readonly ackedMsgPerS: number;
  /** observations/s accepted into the spool */
  readonly obsPerS: number;
  /** points/s written to the time-series server */
  readonly writtenPerS: number;
  /** Records not yet written at the end of the window. */
  readonly lagAtEnd: number;
  /** Observations counted by the time-series server for this phase, and by the gateway. */
  readonly storedObs: number;
  readonly acceptedObs: number;
  readonly publishErrors: number;
  readonly latencyMs: LatencySummary;
  /** bytes */
  readonly rssIdle: number;
  readonly rssPeak: number;
  /** (peak − idle) / devices, bytes */
  readonly rssPerDevice: number;
  /** Gateway CPU over the window, % of one core. */
  readonly gatewayCpuPct: number;
  /** The load-client processes' CPU over the window, % of one core (taken from the same cores). */
  readonly clientsCpuPct: number;
  /** The time-series server's CPU over the window, % of one core. */
  readonly victoriaCpuPct: number;
  /** Acked ≥ 97 % of offered and the writer within 2 s of data at the end. */
  readonly sustained: boolean;
}

export async function runSustained(env: BenchEnv, o: SustainedOptions): Promise<SustainedResult> {
  const full = o.historiesFull;
  const label = `${o.devices} devices × ${o.rate} msg/s${full ? ', every history full' : ''}`;
  env.progress(`sustained ${label}: starting gateway`);
  const prefill = full
    ? async (dataDir: string): Promise<void> => {
        env.progress(`sustained ${label}: saving a state with ${o.devices} patients' histories full (${full.news2} NEWS2 changes, ${full.alarms} alarm transitions each) for the gateway to start on`);
        await runNode(PREFILL, [String(o.devices), String(full.news2), String(full.alarms), join(dataDir, STATE_FILE_IN_DATA_DIR)]);
      }
    : undefined;
  const gw = await startGateway(env, o.devices, prefill);
  const clients = new LoadClients();
  let probe: LatencyProbe | undefined;
  try {
    if (full) {
      const restored = (await gw.health()).alarmState as { restored?: boolean; problem?: string; ms?: number } | undefined;
      if (restored?.restored !== true) throw new Error(`the gateway did not start on the state with every history full: ${restored?.problem ?? 'not restored'}`);
      env.progress(`sustained ${label}: the gateway loaded it in ${restored.ms ?? '?'} ms`);
    }
    const storedBefore = await env.vm.count('{__name__=~"vitals_.*"}');
    probe = await LatencyProbe.connect(env.ports.mqtt, CONSUMER.id, CONSUMER.secret);
    const p = probe;
    clients.onProbe = (d, at) => p.onPublish(d, at);
    const rssIdle = gw.rss();
    const conn = await clients.start(processesFor(env, o.devices), {
      host: '127.0.0.1', port: env.ports.mqtt, first: 0, count: o.devices, mode: 'paced', ratePerDevice: o.rate, window: 1,
      probeEvery: o.probeEvery, maxMessagesPerDevice: 0, connectConcurrency: 100,
    });
    env.progress(`sustained ${label}: ${conn.connected}/${o.devices} connected${conn.connectFailures ? `, ${conn.connectFailures} failed` : ''}; warming up ${o.warmupS} s`);
    clients.go();
    await sleep(o.warmupS * 1000);

    probe.begin();
    const s0 = await clients.snapshot();
    const h0 = await gw.health();
    const obs0 = await gw.metric('vigil_observations_total');
    const cpu0 = gw.cpuMs();
    const others = (): { clients: number; vm: number } => ({ clients: clients.pids.reduce((a, p) => a + cpuMsOf(p), 0), vm: cpuMsOf(env.vm.pid) });
    const others0 = others();
    const t0 = performance.now();
    let rssPeak = gw.rss();
    for (let s = 0; s < o.windowS; s++) {
      await sleep(1000);
      rssPeak = Math.max(rssPeak, gw.rss());
      const snap = await clients.snapshot();
      const h = await gw.health();
      const m = h.memory as { heapUsed: number; heapTotal: number; external: number } | undefined;
      env.progress(`sustained ${label}: ${s + 1}/${o.windowS} s  acked ${snap.acked - s0.acked}  writer lag ${h.influx?.lagRecords ?? '?'}  rss ${(rssPeak / 1048576).toFixed(0)} MB  heap ${m ? `${(m.heapUsed / 1048576).toFixed(0)}/${(m.heapTotal / 1048576).toFixed(0)}` : '?'} MB  external ${m ? (m.external / 1048576).toFixed(0) : '?'} MB`);
    }
    const s1 = await clients.snapshot();
    const h1 = await gw.health();
    const obs1 = await gw.metric('vigil_observations_total');
    const cpu1 = gw.cpuMs();
    const others1 = others();
    const dt = (performance.now() - t0) / 1000;
    // Breaches published in the last moments still get their alarm: wait briefly before closing the window.
    await sleep(1000);
    const latency = probe.end();
    const end = await clients.stop();

    // Every accepted observation must reach the time-series server.
    env.progress(`sustained ${label}: draining the writer`);
    await waitUntil(async () => (await gw.health()).influx?.lagRecords === 0, 60_000, 250);
    const acceptedTotal = await gw.metric('vigil_observations_total');
    let storedObs = 0;
    await waitUntil(async () => (storedObs = (await env.vm.count('{__name__=~"vitals_.*"}')) - storedBefore) >= acceptedTotal, 30_000, 500);

    const offered = o.devices * o.rate;
    const ackedPerS = (s1.acked - s0.acked) / dt;
    const obsPerS = (obs1 - obs0) / dt;
    const lagAtEnd = Number(h1.influx?.lagRecords ?? NaN);
    // a record a message (and a sensor state only when it changes)
    const recordsPerS = offered;
    return {
      devices: o.devices,
      ...(full ? { historiesFull: full } : {}),
      probeEvery: o.probeEvery,
      ratePerDevice: o.rate,
      offeredMsgPerS: offered,
      ackedMsgPerS: ackedPerS,
      obsPerS,
      writtenPerS: (Number(h1.influx?.pointsWritten ?? 0) - Number(h0.influx?.pointsWritten ?? 0)) / dt,
      lagAtEnd,
      storedObs,
      acceptedObs: acceptedTotal,
      publishErrors: end.errors,
      latencyMs: latency,
      rssIdle,
      rssPeak,
      rssPerDevice: (rssPeak - rssIdle) / o.devices,
      gatewayCpuPct: ((cpu1 - cpu0) / (dt * 1000)) * 100,
      clientsCpuPct: ((others1.clients - others0.clients) / (dt * 1000)) * 100,
      victoriaCpuPct: ((others1.vm - others0.vm) / (dt * 1000)) * 100,
      sustained: ackedPerS >= 0.97 * offered && lagAtEnd <= 2 * recordsPerS,
    };
  } finally {
    await clients.stop();
    await probe?.close();
    await gw.stop();
  }
}
