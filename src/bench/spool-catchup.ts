/**
 * Spool catch-up: with the time-series server down, a ward's devices deliver N minutes of their
 * data (device time in the past, as after an outage) into a fresh gateway's spool; then the
 * server comes back and the time until the writer has nothing left is measured.
 */
import { LoadClients } from './clients.js';
import { OBS_PER_MESSAGE } from './protocol.js';
import { processesFor, startGateway, waitUntil, type BenchEnv } from './env.js';

export interface SpoolOptions {
  readonly devices: number;
  /** Minutes of data per device (one message a second). */
  readonly minutes: number;
}

export interface SpoolResult {
  readonly devices: number;
  readonly minutes: number;
  readonly messages: number;
  /** Observations in the backlog. */
  readonly observations: number;
  /** Spool records (observations, sensor events, notices) waiting when the server came back. */
  readonly backlogRecords: number;
  /** s to fill the backlog over MQTT (QoS 1, fsynced) */
  readonly fillS: number;
  /** s from the server being back to the writer having written everything */
  readonly catchUpS: number;
  /** observations/s while catching up */
  readonly catchUpObsPerS: number;
  /** Observations the time-series server holds afterwards. */
  readonly stored: number;
}

export async function runSpoolCatchUp(env: BenchEnv, o: SpoolOptions): Promise<SpoolResult> {
  const perDevice = o.minutes * 60;
  env.progress(`spool: ${o.devices} devices × ${o.minutes} min of data with the time-series server down`);
  const storedBefore = await env.vm.count('{__name__=~"vitals_.*"}');
  await env.vm.stop();
  const gw = await startGateway(env, o.devices);
  const clients = new LoadClients();
  try {
    // Device time ends a minute before the run began, so no sample can share a series and a
    // millisecond with an earlier phase's (the time-series server would keep only one of them).
    const start = env.startedAt - (perDevice + 60) * 1000;
    const conn = await clients.start(processesFor(env, o.devices), {
      host: '127.0.0.1', port: env.ports.mqtt, first: 0, count: o.devices, mode: 'max', ratePerDevice: 0, window: 8,
      probeEvery: 0, maxMessagesPerDevice: perDevice, connectConcurrency: 100, deviceStartMs: start, deviceStepMs: 1000,
    });
    if (conn.connected < o.devices) throw new Error(`spool: only ${conn.connected} of ${o.devices} devices connected`);
    const t0 = performance.now();
    clients.go();
    const filled = await waitUntil(async () => {
      const s = await clients.snapshot();
      env.progress(`spool: ${s.acked}/${o.devices * perDevice} messages in the spool`);
      return s.finished === o.devices;
    }, 600_000, 1000);
    if (!filled) throw new Error('spool: the backlog was not delivered within 10 minutes');
    const fillS = (performance.now() - t0) / 1000;
    const stats = await clients.stop();
    const backlogRecords = Number((await gw.health()).influx?.lagRecords ?? 0);

    env.progress(`spool: ${backlogRecords} records waiting; time-series server back`);
    await env.vm.launch();
    const t1 = performance.now();
    const done = await waitUntil(async () => (await gw.health()).influx?.lagRecords === 0, 600_000, 100);
    if (!done) throw new Error('spool: the writer did not catch up within 10 minutes');
    const catchUpS = (performance.now() - t1) / 1000;
    const observations = stats.acked * OBS_PER_MESSAGE;
    let stored = 0;
    await waitUntil(async () => (stored = (await env.vm.count('{__name__=~"vitals_.*"}')) - storedBefore) >= observations, 30_000, 500);
    return { devices: o.devices, minutes: o.minutes, messages: stats.acked, observations, backlogRecords, fillS, catchUpS, catchUpObsPerS: observations / catchUpS, stored };
  } finally {
    await clients.stop();
    await gw.stop();
    if (!env.vm.running) await env.vm.launch();
  }
}
