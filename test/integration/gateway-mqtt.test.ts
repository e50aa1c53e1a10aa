/**
 * The gateway as a device sees it: a real `vigil start` process, real TCP, Eclipse
 * mosquitto_pub and mqtt.js as clients, and VictoriaMetrics as the time-series server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import mqtt from 'mqtt';
import { startVictoria, type Victoria } from '../support/victoria.js';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { hashSecret } from '../../src/broker/secrets.js';

const run = promisify(execFile);

let vm: Victoria;
let gw: GatewayProcess;

async function pub(user: string, pass: string, topic: string, message: string): Promise<{ code: number; stderr: string }> {
  try {
    const r = await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(gw.mqttPort), '-u', user, '-P', pass, '-q', '1', '-i', `t-${user}-${Date.now()}`, '-t', topic, '-m', message], { timeout: 10_000 });
    return { code: 0, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stderr?: string };
    return { code: e.code ?? -1, stderr: e.stderr ?? '' };
  }
}

/** Publishes with mqtt.js; resolves with how the connection ended. */
async function mqttJsPublish(user: string, pass: string, topic: string, payload: string | Buffer): Promise<'acked' | 'closed' | 'refused'> {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${gw.mqttPort}`, { username: user, password: pass, reconnectPeriod: 0, connectTimeout: 5000 }).catch(() => undefined);
  if (!client) return 'refused';
  try {
    return await new Promise((resolve) => {
      client.once('close', () => resolve('closed'));
      client.publish(topic, payload, { qos: 1 }, (err) => resolve(err ? 'closed' : 'acked'));
    });
  } finally {
    await client.endAsync(true);
  }
}

beforeAll(async () => {
  vm = await startVictoria();
  gw = await startGatewayProcess({
    config: {
      // One bucket per device, shared by its connections: wb-03 publishes once or twice per test below.
      mqtt: { maxPacketBytes: 4096, rate: { messagesPerSecond: 5, burst: 30 } },
      influx: { url: vm.url, token: 'test', org: 'vigil', bucket: 'vigil', flushIntervalMs: 100 },
      devices: [
        { id: 'wb-01', secretHash: await hashSecret('wb-01-secret-value') },
        { id: 'wb-02', secret: 'wb-02-secret-value' },
        { id: 'wb-03', secret: 'wb-03-secret-value' },
      ],
      census: {
        wards: [{ id: 'w7', beds: ['1', '2'] }],
        patients: [{ id: 'P1', ward: 'w7', bed: '1', devices: ['wb-01', 'wb-03'] }],
      },
    },
  });
}, 60_000);

afterAll(async () => {
  await gw?.stop();
  await gw?.cleanup();
  await vm?.dispose();
});

describe('a device publishing through mosquitto_pub', () => {
  it('stores the observation in the time-series server with the patient tags', async () => {
    const ts = Date.UTC(2026, 2, 2, 8, 0, 1);
    const r = await pub('wb-01', 'wb-01-secret-value', 'vigil/v1/dev/wb-01/obs', JSON.stringify({ ts, obs: { hr: 72, spo2: 97 } }));
    expect(r.code).toBe(0);
    await vm.waitForCount('{__name__=~"vitals_(hr|spo2)",device="wb-01"}', 2, 20_000);
    const series = await vm.exportSeries('{__name__=~"vitals_(hr|spo2)",device="wb-01"}');
    const hr = series.find((s) => s.metric.__name__ === 'vitals_hr');
    expect(hr?.metric).toMatchObject({ patient: 'P1', ward: 'w7', bed: '1', device: 'wb-01' });
    expect(hr?.values).toEqual([72]);
    // Device time is not trusted by default: the receive time is used, so it is recent.
    expect(Math.abs(hr!.timestamps[0]! - Date.now())).toBeLessThan(60_000);
    expect(series.find((s) => s.metric.__name__ === 'vitals_spo2')?.values).toEqual([97]);
  });

  it('stores data from an unassigned device tagged by device only', async () => {
    const r = await pub('wb-02', 'wb-02-secret-value', 'vigil/v1/dev/wb-02/obs', JSON.stringify({ obs: { rr: 15 } }));
    expect(r.code).toBe(0);
    await vm.waitForCount('{__name__="vitals_rr",device="wb-02"}', 1, 20_000);
    const [rr] = await vm.exportSeries('{__name__="vitals_rr",device="wb-02"}');
    expect(rr?.metric.patient).toBeUndefined();
    expect(rr?.metric.bed).toBeUndefined();
    await gw.waitForLog((l) => l.device === 'wb-02' && /not assigned/.test(l.msg));
  });
});

describe('bad input is refused, counted and logged, and others keep being served', () => {
  const good = () => mqttJsPublish('wb-03', 'wb-03-secret-value', 'vigil/v1/dev/wb-03/obs', JSON.stringify({ obs: { hr: 80 } }));

  it('wrong secret: CONNACK refused (bad username or password)', async () => {
    const r = await pub('wb-01', 'not-the-secret', 'vigil/v1/dev/wb-01/obs', '{"obs":{"hr":1}}');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/bad user name or password/i);
    expect(await gw.metric('vigil_mqtt_connections_refused_total', { reason: 'bad_secret' })).toBeGreaterThanOrEqual(1);
    await gw.waitForLog((l) => l.reason === 'bad_secret' && l.device === 'wb-01');
    expect(JSON.stringify(gw.logs)).not.toContain('not-the-secret');
    expect(await good()).toBe('acked');
  });

  it('unknown device: refused', async () => {
    const r = await pub('intruder', 'whatever-secret', 'vigil/v1/dev/intruder/obs', '{"obs":{"hr":1}}');
    expect(r.code).not.toBe(0);
    expect(await gw.metric('vigil_mqtt_connections_refused_total', { reason: 'unknown_device' })).toBe(1);
    await gw.waitForLog((l) => l.reason === 'unknown_device' && l.device === 'intruder');
    expect(await good()).toBe('acked');
  });

  it("publishing to another device's topic: disconnected, nothing stored", async () => {
    expect(await mqttJsPublish('wb-03', 'wb-03-secret-value', 'vigil/v1/dev/wb-01/obs', '{"obs":{"hr":150}}')).toBe('closed');
    expect(await gw.metric('vigil_messages_rejected_total', { reason: 'forbidden_topic' })).toBe(1);
    await gw.waitForLog((l) => l.topic === 'vigil/v1/dev/wb-01/obs' && l.device === 'wb-03');
    expect(await good()).toBe('acked');
  });

  it("subscribing to another device's data is refused", async () => {
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${gw.mqttPort}`, { username: 'wb-03', password: 'wb-03-secret-value', reconnectPeriod: 0 });
    const own = await client.subscribeAsync('vigil/v1/dev/wb-03/cmd', { qos: 1 });
    expect(own[0]?.qos).toBe(1);
    // SUBACK return code 0x80 (failure) [MQTT-3.9.3]; mqtt.js reports it as an error.
    await expect(client.subscribeAsync('vigil/v1/dev/+/obs', { qos: 1 })).rejects.toThrow(/Subscribe error/);
    await client.endAsync(true);
    expect(await gw.metric('vigil_messages_rejected_total', { reason: 'forbidden_subscribe' })).toBe(1);
  });

  it('oversized payload: connection closed before it is buffered', async () => {
    const big = JSON.stringify({ obs: { hr: 70 }, pad: 'x'.repeat(10_000) });
    expect(await mqttJsPublish('wb-03', 'wb-03-secret-value', 'vigil/v1/dev/wb-03/obs', big)).toBe('closed');
    expect(await gw.metric('vigil_messages_rejected_total', { reason: 'oversized' })).toBe(1);
    await gw.waitForLog((l) => l.msg.includes('maxPacketBytes'));
    expect(await good()).toBe('acked');
  });

  it.each([
    ['malformed JSON', '{"obs": {"hr": 7', 'malformed_json'],
    ['unknown metric', '{"obs": {"heartiness": 7}}', 'unknown_metric'],
    ['non-numeric value', '{"obs": {"hr": "fast"}}', 'bad_value'],
    ['implausible value', '{"obs": {"spo2": 140}}', 'implausible_value'],
  ])('%s: acknowledged (so the device does not resend it forever), dropped, counted, kept in the rejected log', async (_name, payload, reason) => {
    expect(await mqttJsPublish('wb-03', 'wb-03-secret-value', 'vigil/v1/dev/wb-03/obs', payload)).toBe('acked');
    expect(await gw.metric('vigil_messages_rejected_total', { reason })).toBe(1);
    const line = await gw.waitForLog((l) => l.reason === reason && l.device === 'wb-03');
    expect(line.msg).toMatch(/frame dropped/);
    expect(line.origin).toBe('vigil/v1/dev/wb-03/obs');
    expect(await good()).toBe('acked');
  });

  it("one implausible value among good ones: the value dropped, counted and logged with its origin; the message's other values stored", async () => {
    const before = await gw.metric('vigil_observations_total', { transport: 'mqtt' });
    expect(await mqttJsPublish('wb-03', 'wb-03-secret-value', 'vigil/v1/dev/wb-03/obs', '{"obs": {"spo2": 81, "hr": 112, "temp": 19}}')).toBe('acked');
    expect(await gw.metric('vigil_values_dropped_total', { reason: 'implausible_value' })).toBe(1);
    const line = await gw.waitForLog((l) => l.reason === 'implausible_value' && l.device === 'wb-03' && /value dropped/.test(l.msg));
    expect(line.msg).toMatch(/temp: 19 outside/);
    expect(line.origin).toBe('vigil/v1/dev/wb-03/obs');
    expect(await gw.metric('vigil_observations_total', { transport: 'mqtt' })).toBe(before + 2);
  });

  it('a device over its message rate is disconnected and counted; others are unaffected', async () => {
    const flooder = await mqtt.connectAsync(`mqtt://127.0.0.1:${gw.mqttPort}`, { username: 'wb-02', password: 'wb-02-secret-value', reconnectPeriod: 0 });
    const closed = new Promise<void>((r) => flooder.once('close', () => r()));
    for (let i = 0; i < 100; i++) flooder.publish('vigil/v1/dev/wb-02/obs', JSON.stringify({ obs: { hr: 60 + (i % 10) } }), { qos: 0 });
    await closed;
    await flooder.endAsync(true);
    expect(await gw.metric('vigil_messages_rejected_total', { reason: 'rate_limited' })).toBeGreaterThanOrEqual(1);
    expect(await good()).toBe('acked');
    const health = await gw.health();
    expect(health.ok).toBe(true);
  });
});
