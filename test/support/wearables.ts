/**
 * Simulated wearables a test steers: each publishes its current vitals over real MQTT (QoS 1,
 * json-v1) once a second, and the test changes what they read (`set`) to raise and end alarms
 * when it needs them. One message a second per device stays far within the broker's rate limit.
 */
import mqtt, { type MqttClient } from 'mqtt';

export interface Reading {
  readonly obs: Partial<Record<'hr' | 'spo2' | 'rr' | 'temp', number>>;
  readonly sensor?: 'ok' | 'off' | 'poor';
}

export interface Wearables {
  /** What a device reads from its next message on; resolves once a message with it was acknowledged. */
  set(id: string, reading: Reading): Promise<void>;
  stop(): Promise<void>;
}

const NORMAL: Reading = { obs: { hr: 72, spo2: 97, rr: 14 }, sensor: 'ok' };

export async function startWearables(url: string, devices: ReadonlyArray<{ id: string; secret: string }>, periodMs = 1000): Promise<Wearables> {
  const clients = new Map<string, MqttClient>();
  const readings = new Map<string, Reading>(devices.map((d) => [d.id, NORMAL]));
  const waiting = new Map<string, Array<() => void>>();
  for (const d of devices) clients.set(d.id, await mqtt.connectAsync(url, { username: d.id, password: d.secret, reconnectPeriod: 1000 }));
  let stopped = false;
  const send = async (id: string): Promise<void> => {
    const r = readings.get(id)!;
    const done = waiting.get(id) ?? [];
    waiting.delete(id);
    try {
      await clients.get(id)!.publishAsync(`vigil/v1/dev/${id}/obs`, JSON.stringify({ obs: r.obs, sensor: r.sensor ?? 'ok' }), { qos: 1 });
      for (const d of done) d();
    } catch {
      waiting.set(id, [...done, ...(waiting.get(id) ?? [])]); // sent again with the next message
    }
  };
  const timer = setInterval(() => {
    if (!stopped) for (const d of devices) void send(d.id);
  }, periodMs);
  for (const d of devices) await send(d.id);
  return {
    set(id, reading) {
      readings.set(id, reading);
      return new Promise((resolve) => {
        waiting.set(id, [...(waiting.get(id) ?? []), resolve]);
      });
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await Promise.all([...clients.values()].map((c) => c.endAsync(true)));
    },
  };
}
