/**
 * Device clocks that lie, against a real gateway: a trusted device stamping a reading 55 s ahead
 * raises no alarm on any other patient; a device whose clock jumps back and forth still alarms
 * its own patient once the delay has passed on the gateway's clock; readings sent late from a
 * device's buffer are stored and drawn in the trend, and raise nothing; a device whose clock runs
 * 90 s behind still alarms its patient, once its readings have come steadily late.
 */
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { until } from '../support/wait.js';

const TOKEN = 'device-clocks-token-0123456789';
const BEDS = ['1', '2', '3', '4', '5'];
let gw: GatewayProcess;
const clients = new Map<string, mqtt.MqttClient>();
let stopWearables: (() => Promise<void>) | undefined;

beforeAll(async () => {
  gw = await startGatewayProcess({
    config: {
      http: { apiToken: TOKEN },
      mqtt: { rate: { messagesPerSecond: 1000, burst: 1000 } },
      devices: BEDS.map((b) => ({ id: `wb-${b}`, secret: `wb-${b}-secret-value`, ...(b === '1' || b === '4' || b === '5' ? { trustDeviceTime: true } : {}) })),
      census: { wards: [{ id: 'w1', beds: BEDS }], patients: BEDS.map((b) => ({ id: `P${b}`, ward: 'w1', bed: b, devices: [`wb-${b}`] })) },
      detectors: { technical: { signalLossSeconds: 3 }, limits: { spo2: { delaySeconds: 2 } } },
    },
  });
  for (const b of BEDS) clients.set(b, await mqtt.connectAsync(`mqtt://127.0.0.1:${gw.mqttPort}`, { username: `wb-${b}`, password: `wb-${b}-secret-value`, reconnectPeriod: 0 }));
}, 60_000);

afterAll(async () => {
  await stopWearables?.();
  for (const c of clients.values()) await c.endAsync(true);
  await gw?.stop();
  await gw?.cleanup();
});

const send = (bed: string, body: Record<string, unknown>): Promise<unknown> => clients.get(bed)!.publishAsync(`vigil/v1/dev/wb-${bed}/obs`, JSON.stringify(body), { qos: 1 });
const alarms = async (): Promise<Array<{ id: string; patientId?: string; metric?: string; kind: string }>> =>
  ((await (await fetch(`http://127.0.0.1:${gw.httpPort}/api/alarms`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { alarms: [] }).alarms;
const raisedLog = (pred: (l: Record<string, unknown>) => boolean): Array<Record<string, unknown>> => gw.logs.filter((l) => /^alarm raised/.test(l.msg) && pred(l));

/** Beds `on` send a normal reading every 250 ms, on time, until stopped. */
function wearables(on: string[]): () => Promise<void> {
  let running = true;
  const loops = on.map(async (b) => {
    while (running) {
      await send(b, { ts: Date.now(), obs: { spo2: 97, hr: 72 } });
      await new Promise((r) => setTimeout(r, 250));
    }
  });
  return async () => {
    running = false;
    await Promise.all(loops);
  };
}

describe('device clocks', () => {
  it('a reading stamped 55 s ahead raises nothing for the other patients (nor its own)', async () => {
    stopWearables = wearables(['1', '2', '3']);
    await until(() => gw.logs.length > 0, 'the gateway logging');
    await send('1', { ts: Date.now() + 55_000, obs: { spo2: 97, hr: 72 } });
    // Well past the 3 s signal loss: a clock moved 55 s ahead would have fired it at once for beds 2 and 3.
    const t0 = Date.now();
    await until(() => Date.now() - t0 > 6000, 'six seconds of normal data');
    expect(raisedLog(() => true)).toEqual([]);
    expect(await alarms()).toEqual([]);
    await stopWearables();
    stopWearables = undefined;
  }, 60_000);

  it('a clock jumping back and forth: its own patient is alarmed once the delay has passed on the gateway clock', async () => {
    stopWearables = wearables(['2', '3']);
    const skews = [55_000, -3_600_000, 20_000, -59_000, 86_400_000, 0, -5_000];
    let n = 0;
    let running = true;
    const first = Date.now();
    await send('1', { ts: first + skews[0]!, obs: { spo2: 80, hr: 72 } });
    // one reading is not a desaturation: nothing yet, whatever it is stamped
    expect((await alarms()).filter((a) => a.patientId === 'P1')).toEqual([]);
    const loop = (async () => {
      while (running) {
        await send('1', { ts: Date.now() + skews[++n % skews.length]!, obs: { spo2: 80, hr: 72 } });
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    await expect.poll(async () => (await alarms()).some((a) => a.patientId === 'P1' && a.metric === 'spo2'), { timeout: 20_000 }).toBe(true);
    running = false;
    await loop;
    const raised = raisedLog((l) => l.patient === 'P1' && l.metric === 'spo2');
    expect(raised).toHaveLength(1);
    // raised on the gateway clock, at least the 2 s delay after the first low reading arrived
    expect(Date.parse(String(raised[0]!.time)) - first).toBeGreaterThanOrEqual(2000);
    expect(raisedLog((l) => l.patient !== 'P1')).toEqual([]);
    await stopWearables();
    stopWearables = undefined;
  }, 60_000);

  it('readings sent late from a device buffer are stored and drawn, and raise nothing', async () => {
    stopWearables = wearables(['4']);
    const tenMinutesAgo = Date.now() - 600_000;
    // 30 s of desaturation, ten minutes ago, sent now in one burst
    for (let s = 0; s < 30; s++) await send('4', { ts: tenMinutesAgo + s * 1000, obs: { spo2: 70 } });
    const t0 = Date.now();
    await until(() => Date.now() - t0 > 4000, 'past the 2 s delay');
    expect((await alarms()).filter((a) => a.patientId === 'P4')).toEqual([]);
    const history = (await (await fetch(`http://127.0.0.1:${gw.httpPort}/api/patients/P4/history?hours=1`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { trends: { spo2: Array<[number, number]> } };
    const late = history.trends.spo2.filter(([t]) => t >= tenMinutesAgo - 10_000 && t < tenMinutesAgo + 40_000);
    expect(late.length).toBeGreaterThan(0);
    expect(late.every(([, v]) => v === 70)).toBe(true);
    await stopWearables();
    stopWearables = undefined;
  }, 60_000);

  it('a clock running 90 s behind: once its readings come steadily late they are taken as now, and its patient is alarmed', async () => {
    let running = true;
    const loop = (async () => {
      while (running) {
        await send('5', { ts: Date.now() - 90_000, obs: { spo2: 70, hr: 72 } });
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    try {
      await expect.poll(async () => (await alarms()).some((a) => a.patientId === 'P5' && a.metric === 'spo2'), { timeout: 45_000 }).toBe(true);
    } finally {
      running = false;
      await loop;
    }
    const warned = await gw.waitForLog((l) => /device clock behind/.test(l.msg) && l.device === 'wb-5');
    expect(warned.behindSeconds).toBe(90);
    expect(await gw.metric('vigil_messages_rejected_total', { reason: 'clock_skew_corrected' })).toBeGreaterThan(0);
  }, 60_000);
});
