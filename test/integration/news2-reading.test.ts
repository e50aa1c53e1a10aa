/**
 * NEWS2 on the live path: a vital-signs monitor's MQTT message is one reading, scored once. Its
 * values published together lower one parameter's points and raise another's; scored value by
 * value they would pass through a score the patient never had, and the rise of band would alarm
 * at once (the NEWS2 band alarm's hold is 0 here, so the first band alarms at once too).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';

const TOKEN = 'news2-reading-test-token-0123';
const auth = { authorization: `Bearer ${TOKEN}` };
let gw: GatewayProcess;
let monitor: MqttClient;

beforeAll(async () => {
  gw = await startGatewayProcess({
    config: {
      http: { apiToken: TOKEN },
      detectors: { news2: { alarmDelaySeconds: 0 } },
      devices: [{ id: 'vsm-01', secret: 'vsm-01-secret-value' }],
      census: { wards: [{ id: 'w1', beds: ['1'] }], patients: [{ id: 'P1', ward: 'w1', bed: '1', devices: ['vsm-01'] }] },
    },
  });
  monitor = await mqtt.connectAsync(`mqtt://127.0.0.1:${gw.mqttPort}`, { username: 'vsm-01', password: 'vsm-01-secret-value', reconnectPeriod: 0 });
}, 60_000);

afterAll(async () => {
  await monitor?.endAsync(true);
  await gw?.stop();
  await gw?.cleanup();
});

const get = async <T>(path: string): Promise<T> => (await (await fetch(`http://127.0.0.1:${gw.httpPort}${path}`, { headers: auth })).json()) as T;
type News2 = { score: number; band: string; parts: Record<string, { points: number; value: number }> };
const news2 = (): Promise<News2> => get<News2>('/api/patients/P1/news2');
/** The patient's active NEWS2 alarms (systolic 85 also raises its limit alarm). */
const alarmIds = async (): Promise<string[]> =>
  (await get<{ alarms: Array<{ id: string; patientId?: string; kind: string }> }>('/api/alarms')).alarms.filter((a) => a.patientId === 'P1' && a.kind === 'news2').map((a) => a.id).sort();

describe('NEWS2 on the live path', () => {
  it('scores a message\'s values together: trading one parameter\'s points for another\'s raises no higher band', async () => {
    // systolic 85 (3 points), 37 °C (0): low-medium, alarmed at once
    await monitor.publishAsync('vigil/v1/dev/vsm-01/obs', JSON.stringify({ obs: { sbp: 85, temp: 37 } }), { qos: 1 });
    await expect.poll(alarmIds, { timeout: 10_000 }).toEqual(['P1:news2:low-medium:1']);

    // 34.9 °C (3) and systolic 120 (0): still 3. Value by value it would be 6 (medium) on the way.
    await monitor.publishAsync('vigil/v1/dev/vsm-01/obs', JSON.stringify({ obs: { temp: 34.9, sbp: 120 } }), { qos: 1 });
    await expect.poll(async () => (await news2()).parts.sbp?.value, { timeout: 10_000 }).toBe(120);
    const now = await news2();
    expect([now.score, now.band, now.parts.temp?.points, now.parts.sbp?.points]).toEqual([3, 'low-medium', 3, 0]);
    // the state the API reads is the detectors' after the message: a medium alarm would be up
    // (a band alarm steps down only after its 15-min clear delay)
    expect(await alarmIds()).toEqual(['P1:news2:low-medium:1']);
    expect(await gw.metric('vigil_alarm_transitions_total', { kind: 'news2', state: 'raised' })).toBe(1);
  }, 60_000);
});
