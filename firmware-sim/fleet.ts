/**
 * Many simulated MQTT wearables from one process. One timer serves the whole fleet: devices are
 * staggered evenly across the publish interval and served by one coalescing tick, so 500 devices cost
 * one pending timeout, not 500 intervals. Each device has its own MQTT connection because the
 * broker authenticates each device by its own username and secret.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { log } from '../src/core/log.js';
import { SimDevice } from './device.js';
import { loadScenario, type Scenario } from './scenario.js';

/** One simulated MQTT device. */
export interface FleetDevice {
  /** Device id: MQTT username, client id and topic segment. */
  readonly id: string;
  /** The device's secret (MQTT password), as configured in the gateway. */
  readonly secret: string;
  /** Built-in scenario name, scenario file path, or a loaded scenario. */
  readonly scenario: string | Scenario;
  readonly seed: number;
  /** `json-v1` wearable (default) or `json-v1-nibp` cuff. */
  readonly profile?: 'json-v1' | 'json-v1-nibp';
}

export interface FleetOptions {
  /** Broker URL, e.g. mqtt://127.0.0.1:1883. */
  readonly url: string;
  readonly devices: readonly FleetDevice[];
  /** Milliseconds between a wearable's publishes (cuffs use their own NIBP interval). */
  readonly intervalMs: number;
  /** Scenario seconds per device second; default each scenario's own. */
  readonly timeScale?: number;
  /** Seconds between cuff measurements for `json-v1-nibp` devices. Default 300. */
  readonly nibpIntervalS?: number;
  readonly qos?: 0 | 1;
  /** Stop each device after this many publishes (bounded runs and tests). Default unlimited. */
  readonly maxMessages?: number;
  /** Stop each device at this many device seconds (its clock runs in real time). Default unlimited. */
  readonly durationS?: number;
  /** Connections opened at once while starting. Default 50. */
  readonly connectConcurrency?: number;
  /** Device clock at t = 0, epoch ms (each device is then offset by its stagger). Default the wall clock once connected. */
  readonly startEpochMs?: number;
}

/** Counters since start. */
export interface FleetStats {
  readonly devices: number;
  readonly connected: number;
  /** Publishes handed to the client. */
  readonly published: number;
  /** Publishes the broker acknowledged (PUBACK for QoS 1; written for QoS 0). */
  readonly acked: number;
  readonly errors: number;
  readonly reconnects: number;
  /**
   * Devices not connected right now, by the last error their connection had: the broker's
   * CONNACK refusal (`Connection refused: Bad username or password`, code 4) or the socket's
   * (`connect ECONNREFUSED 127.0.0.1:1883`). A device leaves it once it connects.
   */
  readonly failing: Readonly<Record<string, number>>;
}

export interface Fleet {
  stats(): FleetStats;
  /** The simulated devices by id: ground truth (`truth()`), device clock, patient model. */
  readonly devices: ReadonlyMap<string, SimDevice>;
  /**
   * Resolves when every device has reached `maxMessages` or `durationS` and each publish has been
   * acknowledged or failed. Never resolves for an unbounded fleet.
   */
  done(): Promise<void>;
  /** Stops publishing and closes every connection. Idempotent. */
  stop(): Promise<void>;
}

interface Member {
  readonly sim: SimDevice;
  readonly client: MqttClient;
  /** Next emission index. */
  k: number;
  /** Real-time offset of emission 0 within the interval, ms. */
  readonly offsetMs: number;
  readonly periodMs: number;
  unplugged: boolean;
}

/** Starts the fleet; resolves once every device has made its first connection attempt. */
export async function startFleet(options: FleetOptions): Promise<Fleet> {
  const logger = log().child({ component: 'sim-fleet' });
  const qos = options.qos ?? 1;
  const max = options.maxMessages ?? Infinity;
  const durationS = options.durationS ?? Infinity;
  const counters = { published: 0, acked: 0, errors: 0, reconnects: 0 };
  const lastError = new Map<MqttClient, string>();
  const scenarios = new Map<string, Scenario>();
  const resolveScenario = (s: string | Scenario): Scenario => {
    if (typeof s !== 'string') return s;
    let found = scenarios.get(s);
    if (!found) scenarios.set(s, (found = loadScenario(s)));
    return found;
  };

  const n = options.devices.length;
  const clients = options.devices.map((d) => {
    const client = mqtt.connect(options.url, {
      username: d.id,
      password: d.secret,
      clientId: d.id,
      clean: true,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      manualConnect: true,
    });
    client.on('reconnect', () => counters.reconnects++);
    client.on('connect', () => lastError.delete(client));
    client.on('error', (err) => {
      counters.errors++;
      const code = (err as { code?: unknown }).code;
      lastError.set(client, `${err.message}${typeof code === 'number' ? ` (code ${code})` : ''}`);
      logger.debug({ deviceId: d.id, err: err.message }, 'mqtt error');
    });
    return client;
  });

  // Open connections a batch at a time: 500 simultaneous TCP (or TLS) handshakes starve a small box.
  const concurrency = options.connectConcurrency ?? 50;
  for (let i = 0; i < clients.length; i += concurrency) {
    await Promise.all(clients.slice(i, i + concurrency).map((c) => firstConnect(c)));
  }

  // Device clocks start now, once connected, so payload timestamps match when they are sent.
  const startEpochMs = options.startEpochMs ?? Date.now();
  const members: Member[] = options.devices.map((d, i) => {
    // Spread first publishes evenly over one interval so the broker sees a steady rate.
    const staggerMs = (i * options.intervalMs) / Math.max(1, n);
    const sim = new SimDevice({
      id: d.id,
      profile: d.profile ?? 'json-v1',
      scenario: resolveScenario(d.scenario),
      seed: d.seed,
      startEpochMs: startEpochMs + Math.round(staggerMs),
      intervalS: options.intervalMs / 1000,
      ...(options.timeScale !== undefined ? { timeScale: options.timeScale } : {}),
      ...(options.nibpIntervalS !== undefined ? { nibpIntervalS: options.nibpIntervalS } : {}),
    });
    return {
      sim,
      client: clients[i] as MqttClient,
      k: 0,
      offsetMs: sim.encoder.offsetS * 1000 + staggerMs,
      periodMs: sim.encoder.periodS * 1000,
      unplugged: false,
    };
  });

  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let finishedDevices = 0;
  let pendingTotal = 0;
  let resolveDone: () => void = () => {};
  const donePromise = new Promise<void>((r) => (resolveDone = r));
  const checkDone = (): void => {
    if (finishedDevices === n && pendingTotal === 0) resolveDone();
  };
  if (n === 0) resolveDone();

  const dueAt = (m: Member): number => t0 + m.offsetMs + m.k * m.periodMs;
  const finished = (m: Member): boolean => m.k >= max || m.sim.emissionTime(m.k) >= durationS;
  for (const m of members) if (finished(m)) finishedDevices++;
  checkDone();

  const fire = (m: Member): void => {
    const t = m.sim.emissionTime(m.k);
    const unplugged = m.sim.unpluggedAt(t);
    if (unplugged !== m.unplugged) {
      m.unplugged = unplugged;
      // Cable pulled: the connection drops without a goodbye; on replug the device reconnects.
      if (unplugged) m.client.end(true);
      else m.client.reconnect();
    }
    for (const payload of m.sim.emission(m.k)) {
      counters.published++;
      pendingTotal++;
      m.client.publish(m.sim.topic, payload, { qos }, (err) => {
        pendingTotal--;
        if (err) counters.errors++;
        else counters.acked++;
        checkDone();
      });
    }
    m.k++;
    if (finished(m)) {
      finishedDevices++;
      checkDone();
    }
  };

  const tick = (): void => {
    timer = undefined;
    if (stopped) return;
    const now = performance.now();
    let next = Infinity;
    for (const m of members) {
      // Catch up on everything due; a device late by a whole interval still sends each message.
      while (!finished(m) && dueAt(m) <= now) fire(m);
      if (!finished(m)) next = Math.min(next, dueAt(m));
    }
    if (next === Infinity) return;
    // Coalesce: wake at most every 5 ms and serve every device due by then.
    timer = setTimeout(tick, Math.max(5, next - performance.now()));
  };
  tick();

  return {
    devices: new Map(members.map((m) => [m.sim.id, m.sim])),
    stats: () => ({
      devices: n,
      connected: members.filter((m) => m.client.connected).length,
      ...counters,
      failing: [...lastError].reduce<Record<string, number>>((acc, [client, why]) => {
        if (!client.connected) acc[why] = (acc[why] ?? 0) + 1;
        return acc;
      }, {}),
    }),
    done: () => donePromise,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (timer) clearTimeout(timer);
      await Promise.all(members.map((m) => closeClient(m.client)));
    },
  };
}

/**
 * Ends a client, letting in-flight QoS 1 messages finish for a short while; a client that is not
 * connected (refused, or between retries) is closed at once.
 */
async function closeClient(client: MqttClient, graceMs = 2000): Promise<void> {
  const force = !client.connected;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    new Promise<void>((r) => client.end(force, {}, () => r())),
    new Promise<void>((r) => (timer = setTimeout(() => client.end(true, {}, () => r()), graceMs))),
  ]);
  if (timer) clearTimeout(timer);
}

/** Connects once; resolves on success or the first failure (the client keeps retrying by itself). */
function firstConnect(client: MqttClient): Promise<void> {
  return new Promise((resolve) => {
    const settle = (): void => {
      client.off('connect', settle);
      client.off('error', settle);
      client.off('close', settle);
      resolve();
    };
    client.once('connect', settle);
    client.once('error', settle);
    client.once('close', settle);
    client.connect();
  });
}
