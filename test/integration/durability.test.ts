/**
 * Nothing acknowledged is lost: a time-series outage mid-stream, and a SIGKILL of the gateway
 * mid-stream, with QoS 1 publishers over real TCP and VictoriaMetrics as the database.
 */
import { afterEach, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { startVictoria, type Victoria } from '../support/victoria.js';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';

const BASE_TS = Date.UTC(2026, 2, 2, 8, 0, 0);
let vm: Victoria | undefined;
let gw: GatewayProcess | undefined;

afterEach(async () => {
  await gw?.stop();
  await gw?.cleanup();
  await vm?.dispose();
  gw = undefined;
  vm = undefined;
});

function config(url: string) {
  return {
    influx: { url, token: 't', org: 'vigil', bucket: 'vigil', flushIntervalMs: 50, batchSize: 200, maxBackoffMs: 500 },
    mqtt: { rate: { messagesPerSecond: 1000, burst: 1000 } },
    devices: [{ id: 'wb-01', secret: 'wb-01-secret-value', trustDeviceTime: true }],
    census: { wards: [{ id: 'w1', beds: ['1'] }], patients: [{ id: 'P1', ward: 'w1', bed: '1', devices: ['wb-01'] }] },
  };
}

/** Message i carries hr = 40 + (i % 100) at device time BASE_TS + i*10 ms, so each is identifiable. */
function payload(i: number): string {
  return JSON.stringify({ ts: BASE_TS + i * 10, obs: { hr: 40 + (i % 100) } });
}

function connect(port: number): Promise<MqttClient> {
  return mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { username: 'wb-01', password: 'wb-01-secret-value', reconnectPeriod: 0, clientId: `dur-${Date.now()}` });
}

/** Resolves true on PUBACK, false on error or when the connection closes first. */
function publish(client: MqttClient, i: number): Promise<boolean> {
  return new Promise((resolve) => {
    const onClose = () => resolve(false);
    client.once('close', onClose);
    client.publish('vigil/v1/dev/wb-01/obs', payload(i), { qos: 1 }, (err) => {
      client.off('close', onClose);
      resolve(!err);
    });
  });
}

async function exportedHr(v: Victoria): Promise<Map<number, number>> {
  const series = await v.exportSeries('{__name__="vitals_hr",device="wb-01"}');
  const out = new Map<number, number>();
  for (const s of series) s.timestamps.forEach((t, k) => out.set(t, s.values[k]!));
  return out;
}

describe('durability', () => {
  it('time-series server down mid-stream and back: every QoS 1 observation arrives, in order', async () => {
    vm = await startVictoria();
    gw = await startGatewayProcess({ config: config(vm.url) });
    const client = await connect(gw.mqttPort);
    const N = 600;
    const acked: number[] = [];
    for (let i = 0; i < N; i++) {
      if (i === 200) await vm.stop(); // outage starts
      if (i === 400) {
        // Let the writer fail and back off for a while with data piling up in the spool.
        await gw.waitForLog((l) => String(l.component).startsWith('influx') && l.level >= 40, 15_000);
        // retrying, it is writing or backing off by turns: wait for a backoff, whenever it comes
        await expect.poll(async () => (await gw!.health()).influx, { timeout: 15_000, interval: 50 }).toMatchObject({ state: 'backing_off' });
        await vm.restart();
      }
      if (await publish(client, i)) acked.push(i);
      if (i % 50 === 0) await new Promise((r) => setTimeout(r, 20));
    }
    await client.endAsync();
    expect(acked).toHaveLength(N);
    await vm.waitForCount('{__name__="vitals_hr",device="wb-01"}', N, 30_000);
    const got = await exportedHr(vm);
    expect(got.size).toBe(N);
    const ts = [...got.keys()].sort((a, b) => a - b);
    expect(ts).toEqual(acked.map((i) => BASE_TS + i * 10));
    for (const i of acked) expect(got.get(BASE_TS + i * 10)).toBe(40 + (i % 100));
    // The writer committed in spool order: its cursor ends at the last record, nothing left.
    await expect.poll(async () => (await gw!.health()).influx, { timeout: 10_000 }).toMatchObject({ lagRecords: 0 });
  }, 90_000);

  it('gateway SIGKILLed mid-stream and restarted: every PUBACKed observation reaches the database', async () => {
    vm = await startVictoria();
    gw = await startGatewayProcess({ config: config(vm.url) });
    const client = await connect(gw.mqttPort);
    client.setMaxListeners(100);
    client.on('error', () => {});
    const acked: number[] = [];
    let i = 0;
    const pending: Promise<void>[] = [];
    // Keep up to 20 publishes in flight so the kill lands between append and PUBACK for some.
    const killAt = 1500;
    while (i < 3000) {
      const n = i++;
      pending.push(publish(client, n).then((ok) => void (ok && acked.push(n))));
      if (pending.length >= 20) await pending.shift();
      if (n === killAt) await gw.kill();
      if (!client.connected) break;
    }
    await Promise.allSettled(pending);
    client.end(true);
    expect(acked.length).toBeGreaterThan(1000);
    expect(acked.length).toBeLessThan(3000);

    await gw.restart();
    await vm.waitForCount('{__name__="vitals_hr",device="wb-01"}', acked.length, 30_000);
    const got = await exportedHr(vm);
    const missing = acked.filter((n) => got.get(BASE_TS + n * 10) !== 40 + (n % 100));
    expect(missing).toEqual([]);
    await gw.waitForLog((l) => l.component === 'spool' && /opened/.test(l.msg));
  }, 90_000);
});
