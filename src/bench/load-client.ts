/**
 * A load-generator process for the benchmark (started by the parent with `fork`): many simulated
 * wearables over lean MQTT connections, paced at a fixed rate or as fast as the broker
 * acknowledges. One coalescing timer serves every device. It reports counters on request and
 * the publish time of every probe breach, over the IPC channel.
 */
import { LeanConnection } from './lean-mqtt.js';
import { benchDeviceId, benchSecret, nowMs, wearablePayload, PROBE_BREACH_AT, PROBE_CYCLE, type FromClient, type LoadPlan, type LoadStats, type ToClient } from './protocol.js';

interface Dev {
  readonly index: number;
  readonly conn: LeanConnection;
  readonly topic: string;
  readonly probe: boolean;
  /** Next message index. */
  k: number;
  /** Publishes awaiting PUBACK. */
  open: number;
  done: boolean;
}

const counters = { connected: 0, connectFailures: 0, published: 0, acked: 0, errors: 0, finished: 0 };
const devices: Dev[] = [];
let plan: LoadPlan | undefined;
let running = false;
let timer: NodeJS.Timeout | undefined;
let t0 = 0;

const send = (m: FromClient): void => void process.send?.(m);
const stats = (): LoadStats => ({ ...counters });

async function connectAll(p: LoadPlan): Promise<void> {
  for (let i = 0; i < p.count; i++) {
    const index = p.first + i;
    const id = benchDeviceId(index);
    devices.push({
      index,
      conn: new LeanConnection({ host: p.host, port: p.port, clientId: id, username: id, password: benchSecret(index), keepaliveS: 0, connectTimeoutMs: 30_000 }),
      topic: `vigil/v1/dev/${id}/obs`,
      probe: p.probeEvery > 0 && index % p.probeEvery === 0,
      k: 0,
      open: 0,
      done: false,
    });
  }
  for (let i = 0; i < devices.length; i += p.connectConcurrency) {
    await Promise.all(
      devices.slice(i, i + p.connectConcurrency).map((d) =>
        d.conn.connect().then(
          () => void counters.connected++,
          () => void counters.connectFailures++,
        ),
      ),
    );
  }
  for (const d of devices) d.conn.onClose = () => counters.connected--;
}

/** Publishes message d.k of device d. */
function fire(d: Dev, p: LoadPlan): void {
  const k = d.k++;
  const ts = p.deviceStartMs !== undefined ? p.deviceStartMs + k * (p.deviceStepMs ?? 1000) : Date.now();
  const payload = wearablePayload(d.index, k, ts, d.probe);
  const isBreach = d.probe && k % PROBE_CYCLE === PROBE_BREACH_AT && p.deviceStartMs === undefined;
  counters.published++;
  d.open++;
  const at = nowMs();
  d.conn.publish(d.topic, payload, (err) => {
    d.open--;
    if (err) counters.errors++;
    else counters.acked++;
    if (p.maxMessagesPerDevice > 0 && d.k >= p.maxMessagesPerDevice && d.open === 0 && !d.done) {
      d.done = true;
      counters.finished++;
    }
    if (p.mode === 'max' && running && !err) topUp(d, p);
  });
  if (isBreach) send({ type: 'probe', device: d.index, at });
}

function topUp(d: Dev, p: LoadPlan): void {
  while (d.conn.connected && d.open < p.window && (p.maxMessagesPerDevice === 0 || d.k < p.maxMessagesPerDevice)) fire(d, p);
}

/** Paced mode: device i's message k is due at t0 + offset_i + k * period. */
function tick(p: LoadPlan): void {
  timer = undefined;
  if (!running) return;
  const period = 1000 / p.ratePerDevice;
  const n = devices.length;
  const now = performance.now();
  let next = Infinity;
  devices.forEach((d, i) => {
    const offset = (i * period) / n;
    const limit = p.maxMessagesPerDevice > 0 ? p.maxMessagesPerDevice : Infinity;
    // A device that fell behind sends what is due; a disconnected one skips (its data is lost to the run).
    while (d.k < limit && t0 + offset + d.k * period <= now) {
      if (d.conn.connected) fire(d, p);
      else d.k++;
    }
    if (d.k < limit) next = Math.min(next, t0 + offset + d.k * period);
  });
  if (next !== Infinity) timer = setTimeout(() => tick(p), Math.max(2, next - performance.now()));
}

process.on('message', (m: ToClient) => {
  switch (m.type) {
    case 'plan':
      plan = m.plan;
      void connectAll(m.plan).then(() => send({ type: 'connected', stats: stats() }));
      break;
    case 'go': {
      const p = plan;
      if (!p) return;
      running = true;
      t0 = performance.now();
      if (p.mode === 'paced') tick(p);
      else for (const d of devices) topUp(d, p);
      break;
    }
    case 'snapshot':
      send({ type: 'snapshot', tag: m.tag, stats: stats() });
      break;
    case 'stop':
      running = false;
      if (timer) clearTimeout(timer);
      for (const d of devices) d.conn.end(true);
      send({ type: 'stopped', stats: stats() });
      setTimeout(() => process.exit(0), 50);
      break;
  }
});
// The parent went away: leave too, so no generator outlives a run.
process.on('disconnect', () => process.exit(0));
