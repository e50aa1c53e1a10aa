/**
 * Soak: N wearables at 1 msg/s against one gateway for M minutes, with every detector on and the
 * time-series server taking everything: the gateway's RSS once a minute, and how fast it still
 * grows over the second half of the run (least squares, MB a minute). Memory that stays bounded
 * over hours shows a slope near zero here; a history that grows with time does not.
 */
import { LoadClients } from './clients.js';
import { processesFor, sleep, startGateway, type BenchEnv } from './env.js';

export interface SoakOptions {
  readonly devices: number;
  readonly minutes: number;
}

export interface SoakResult {
  readonly devices: number;
  readonly minutes: number;
  /** RSS at each whole minute from the start of the load, MB. */
  readonly rssMB: readonly number[];
  /** MB a minute over the second half. */
  readonly slopeMBPerMin: number;
  readonly acked: number;
  readonly publishErrors: number;
  /** The writer's largest lag seen, records. */
  readonly maxLagRecords: number;
}

const MB = 1048576;

/** Least-squares slope of y over x. */
export function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  if (n < 2) return Number.NaN;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? Number.NaN : num / den;
}

export async function runSoak(env: BenchEnv, o: SoakOptions): Promise<SoakResult> {
  const label = `soak ${o.devices} devices × ${o.minutes} min`;
  env.progress(`${label}: starting gateway`);
  const gw = await startGateway(env, o.devices);
  const clients = new LoadClients();
  try {
    const conn = await clients.start(processesFor(env, o.devices), {
      host: '127.0.0.1', port: env.ports.mqtt, first: 0, count: o.devices, mode: 'paced', ratePerDevice: 1, window: 1,
      probeEvery: 0, maxMessagesPerDevice: 0, connectConcurrency: 100,
    });
    env.progress(`${label}: ${conn.connected}/${o.devices} connected`);
    clients.go();
    const rss: number[] = [gw.rss() / MB];
    let maxLag = 0;
    for (let m = 1; m <= o.minutes; m++) {
      let heap = '';
      for (let s = 0; s < 60; s += 5) {
        await sleep(5000);
        gw.assertAlive();
        const h = await gw.health();
        maxLag = Math.max(maxLag, Number(h.influx?.lagRecords ?? 0));
        const mem = h.memory as { heapUsed: number; heapTotal: number; external: number } | undefined;
        if (mem) heap = `heap ${(mem.heapUsed / MB).toFixed(0)}/${(mem.heapTotal / MB).toFixed(0)} MB, external ${(mem.external / MB).toFixed(0)} MB`;
      }
      rss.push(gw.rss() / MB);
      env.progress(`${label}: minute ${m}/${o.minutes}  rss ${rss.at(-1)!.toFixed(0)} MB  ${heap}  writer lag max ${maxLag}`);
    }
    const end = await clients.stop();
    const half = Math.floor(rss.length / 2);
    const xs = rss.map((_, i) => i).slice(half);
    return { devices: o.devices, minutes: o.minutes, rssMB: rss, slopeMBPerMin: slope(xs, rss.slice(half)), acked: end.acked, publishErrors: end.errors, maxLagRecords: maxLag };
  } finally {
    await clients.stop();
    await gw.stop();
  }
}
