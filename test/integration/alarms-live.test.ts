/**
 * The live alarm path end to end: a wearable publishes a desaturation over MQTT, the detectors
 * raise an alarm, a nurse-call system subscribed to the alarm topics receives it, a nurse
 * acknowledges it through the API, and every transition lands in the time-series server.
 * With the sensor off, the same desaturation gives a technical alarm and no physiological one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { startVictoria, type Victoria } from '../support/victoria.js';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';

/** Machine clients use the bearer token; patient data never answers without it (or a session). */
const TOKEN = 'alarms-live-test-token-0123';
const auth = { authorization: `Bearer ${TOKEN}` };
let vm: Victoria;
let gw: GatewayProcess;
let consumer: MqttClient;
const received: Array<{ topic: string; body: Record<string, unknown>; retain: boolean }> = [];

beforeAll(async () => {
  vm = await startVictoria();
  gw = await startGatewayProcess({
    config: {
      http: { apiToken: TOKEN },
      influx: { url: vm.url, flushIntervalMs: 100 },
      mqtt: { consumers: [{ id: 'nurse-call', secret: 'nurse-call-secret', topics: ['vigil/v1/alarms/#'] }], rate: { messagesPerSecond: 1000, burst: 1000 } },
      // The detectors run on the gateway's clock: short delays keep these real-time episodes short.
      detectors: { limits: { spo2: { delaySeconds: 2 } }, technical: { sensorOffDelaySeconds: 2 } },
      devices: [
        { id: 'wb-01', secret: 'wb-01-secret-value', trustDeviceTime: true },
        { id: 'wb-02', secret: 'wb-02-secret-value', trustDeviceTime: true },
      ],
      census: {
        wards: [{ id: 'w1', beds: ['1', '2'] }],
        patients: [
          { id: 'P1', ward: 'w1', bed: '1', devices: ['wb-01'] },
          { id: 'P2', ward: 'w1', bed: '2', devices: ['wb-02'] },
        ],
      },
    },
  });
  consumer = await mqtt.connectAsync(`mqtt://127.0.0.1:${gw.mqttPort}`, { username: 'nurse-call', password: 'nurse-call-secret', reconnectPeriod: 0 });
  consumer.on('message', (topic, payload, packet) => received.push({ topic, body: JSON.parse(payload.toString()) as Record<string, unknown>, retain: packet.retain }));
  await consumer.subscribeAsync('vigil/v1/alarms/#', { qos: 1 });
}, 60_000);

afterAll(async () => {
  await consumer?.endAsync(true);
  await gw?.stop();
  await gw?.cleanup();
  await vm?.dispose();
});

/**
 * Publishes `count` samples 250 ms apart, each stamped with the device's clock (trusted). The
 * detectors' delays run on the gateway's clock, so the episode takes the real time it says.
 */
async function episode(device: string, count: number, sample: (i: number) => Record<string, unknown>): Promise<void> {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${gw.mqttPort}`, { username: device, password: `${device}-secret-value`, reconnectPeriod: 0 });
  for (let i = 0; i < count; i++) {
    await client.publishAsync(`vigil/v1/dev/${device}/obs`, JSON.stringify({ ts: Date.now(), ...sample(i) }), { qos: 1 });
    await new Promise((r) => setTimeout(r, 250));
  }
  await client.endAsync();
}

const transitions = (bed: string) => received.filter((m) => m.topic === `vigil/v1/alarms/w1/${bed}`).map((m) => m.body);

describe('live alarms', () => {
  it('desaturation: raised on the alarm topic and API, acknowledged by a nurse, every transition stored', async () => {
    await episode('wb-01', 20, () => ({ obs: { spo2: 84, hr: 92, rr: 18 }, sensor: 'ok' }));
    await expect.poll(() => transitions('1').filter((a) => a.state === 'raised' && a.kind === 'limit' && a.metric === 'spo2').length, { timeout: 20_000 }).toBe(1);
    const raised = transitions('1').find((a) => a.metric === 'spo2')!;
    expect(raised).toMatchObject({ patientId: 'P1', ward: 'w1', bed: '1' });
    // A drop to 84 is under both SpO2 limits; only the higher-priority alarm is shown.
    expect(transitions('1').filter((a) => a.metric === 'spo2' && a.state === 'raised')).toHaveLength(1);

    const active = received.filter((m) => m.topic === 'vigil/v1/alarms/w1/1/active').at(-1)!;
    expect((active.body.alarms as Array<{ id: string }>).map((a) => a.id)).toContain(raised.id);

    const api = await (await fetch(`http://127.0.0.1:${gw.httpPort}/api/alarms`, { headers: auth })).json() as { alarms: Array<{ id: string; acknowledged: boolean }> };
    expect(api.alarms.find((a) => a.id === raised.id)?.acknowledged).toBe(false);
    const ack = await fetch(`http://127.0.0.1:${gw.httpPort}/api/alarms/${encodeURIComponent(String(raised.id))}/ack`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify({ by: 'nurse.jones' }) });
    expect(ack.status).toBe(200);
    await expect.poll(() => transitions('1').some((a) => a.id === raised.id && a.state === 'acknowledged' && a.by === 'nurse.jones'), { timeout: 10_000 }).toBe(true);
    const again = await fetch(`http://127.0.0.1:${gw.httpPort}/api/alarms/${encodeURIComponent(String(raised.id))}/ack`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify({ by: 'nurse.jones' }) });
    expect(again.status).toBe(409);

    // New series become visible to export after a flush of the server's in-memory parts.
    await expect.poll(async () => new Set((await vm.flush(), await vm.exportSeries('{__name__=~"alarms_.*",patient="P1",metric="spo2"}')).map((s) => s.metric.state)), { timeout: 20_000, interval: 500 }).toEqual(new Set(['raised', 'acknowledged']));
    const news2 = await (await fetch(`http://127.0.0.1:${gw.httpPort}/api/patients/P1/news2`, { headers: auth })).json() as { score: number; parts: Record<string, unknown> };
    expect(news2.score).toBeGreaterThanOrEqual(3); // [NEWS2] SpO2 scale 1 ≤ 91 → 3
    expect(await gw.metric('vigil_alarm_transitions_total', { kind: 'limit', state: 'raised' })).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it('sensor off during a desaturation: a technical alarm, no physiological one', async () => {
    await episode('wb-02', 24, (i) => ({ obs: { spo2: 82, hr: 95 }, sensor: i < 2 ? 'ok' : 'off' }));
    await expect.poll(() => transitions('2').some((a) => a.kind === 'technical' && a.state === 'raised'), { timeout: 20_000 }).toBe(true);
    // Give the pipeline time past every limit delay before checking that nothing physiological came.
    await new Promise((r) => setTimeout(r, 3000));
    expect(transitions('2').filter((a) => a.kind !== 'technical')).toEqual([]);
  }, 60_000);

  it('a nurse-call account may only listen: publishing is refused', async () => {
    const ok = await new Promise<boolean>((resolve) => {
      consumer.once('close', () => resolve(false));
      consumer.publish('vigil/v1/dev/wb-01/obs', '{"obs":{"hr":1}}', { qos: 1 }, (err) => resolve(!err));
    });
    expect(ok).toBe(false);
    await gw.waitForLog((l) => /read-only/.test(l.msg));
  });
});
