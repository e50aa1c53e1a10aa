/**
 * Bedside devices end to end: firmware simulator → socat pty → the gateway's serial source →
 * observations in VictoriaMetrics, with the right metric, scale and patient. Also a pulled cable
 * (device offline, reconnect, data again) and a device spewing garbage, while the other devices
 * never notice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { startVictoria, type Victoria } from '../support/victoria.js';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { startSimulatedWard, type SimulatedWard } from '../../firmware-sim/ward.js';
import { builtinScenarioDir, loadScenario } from '../../firmware-sim/scenario.js';

let vm: Victoria;
let gw: GatewayProcess;
let ward: SimulatedWard;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-bedside-'));
  // The stock unplug scenario pulls the cable after two minutes; this one after 15 s, for 6 s
  // (late enough that the gateway has the port open first).
  const unplug = readFileSync(join(builtinScenarioDir(), 'unplug.yaml'), 'utf8')
    .replace(/^name: .*$/m, 'name: quick-unplug')
    .replace(/^ {2}- \{ type: unplug, at: 120, duration: 30 \}$/m, '  - { type: unplug, at: 15, duration: 6 }')
    .replace(/^ {2}- \{ type: unplug, at: 600, duration: 90 \}\n?/m, '');
  const unplugFile = join(dir, 'quick-unplug.yaml');
  await writeFile(unplugFile, unplug);
  expect(loadScenario(unplugFile).events).toEqual([expect.objectContaining({ type: 'unplug', at: 15, duration: 6 })]);

  vm = await startVictoria();
  ward = await startSimulatedWard({
    serial: [
      { id: 'ox-m', profile: 'masimo-radical7', scenario: unplugFile, seed: 1 },
      { id: 'ox-n', profile: 'nellcor-n595', scenario: 'stable', seed: 2 },
      { id: 'mon-d', profile: 'datex-s5', scenario: 'stable', seed: 3 },
      { id: 'ox-g', profile: 'masimo-radical7', scenario: 'garbage', seed: 4 },
    ],
    nibpIntervalS: 4,
    ptyDir: dir,
  });
  const path = (id: string) => ward.serialPaths[id]!;
  gw = await startGatewayProcess({
    config: {
      influx: { url: vm.url, token: 't', org: 'vigil', bucket: 'vigil', flushIntervalMs: 100 },
      devices: [{ id: 'wb-01', secret: 'wb-01-secret-value' }],
      serial: [
        { path: path('ox-m'), deviceId: 'ox-m', profile: 'masimo-radical7' },
        { path: path('ox-n'), deviceId: 'ox-n', profile: 'nellcor-n595' },
        { path: path('mon-d'), deviceId: 'mon-d', profile: 'datex-s5' },
        { path: path('ox-g'), deviceId: 'ox-g', profile: 'masimo-radical7' },
      ],
      census: {
        wards: [{ id: 'w3', beds: ['1', '2', '3', '4', '5'] }],
        patients: [
          { id: 'P1', ward: 'w3', bed: '1', devices: ['ox-m'] },
          { id: 'P2', ward: 'w3', bed: '2', devices: ['ox-n'] },
          { id: 'P3', ward: 'w3', bed: '3', devices: ['mon-d'] },
          { id: 'P4', ward: 'w3', bed: '4', devices: ['ox-g'] },
          { id: 'P5', ward: 'w3', bed: '5', devices: ['wb-01'] },
        ],
      },
    },
  });
}, 60_000);

afterAll(async () => {
  await ward?.stop();
  await gw?.stop();
  await gw?.cleanup();
  await vm?.dispose();
  await rm(dir, { recursive: true, force: true });
});

describe('bedside devices over serial', () => {
  it.each([
    ['masimo-radical7', 'ox-m', 'P1', ['spo2', 'pr', 'pi']],
    ['nellcor-n595', 'ox-n', 'P2', ['spo2', 'pr']],
    ['datex-s5', 'mon-d', 'P3', ['hr', 'spo2', 'pr', 'rr', 'temp', 'sbp', 'dbp', 'map']],
  ])('%s: observations arrive tagged with the patient, in canonical units', async (_profile, device, patient, metrics) => {
    const match = `{__name__=~"vitals_.*",device="${device}"}`;
    await expect.poll(async () => new Set((await vm.exportSeries(match)).map((s) => s.metric.__name__)), { timeout: 30_000, interval: 500 }).toEqual(new Set(metrics.map((m) => `vitals_${m}`)));
    for (const s of await vm.exportSeries(match)) {
      expect(s.metric).toMatchObject({ patient, ward: 'w3', device });
      const name = s.metric.__name__!;
      // Canonical units: %, /min, Cel, mm[Hg]; scaled values (e.g. Datex 0.01 Cel) land in range.
      const range: Record<string, [number, number]> = { vitals_spo2: [85, 100], vitals_pr: [40, 140], vitals_hr: [40, 140], vitals_pi: [0, 20], vitals_rr: [6, 30], vitals_temp: [35, 39], vitals_sbp: [80, 180], vitals_dbp: [40, 110], vitals_map: [55, 130] };
      for (const v of s.values) {
        expect(v, name).toBeGreaterThanOrEqual(range[name]![0]);
        expect(v, name).toBeLessThanOrEqual(range[name]![1]);
      }
    }
  }, 40_000);

  it('a pulled cable: device offline, reconnect by itself, data again; other devices never notice', async () => {
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${gw.mqttPort}`, { username: 'wb-01', password: 'wb-01-secret-value', reconnectPeriod: 0 });
    const offline = await gw.waitForLog((l) => l.deviceId === 'ox-m' && l.msg === 'serial port offline', 30_000);
    const offlineAt = Date.parse(String(offline.time));
    // The wearable keeps being served while the cable is out.
    for (let i = 0; i < 3; i++) {
      await client.publishAsync('vigil/v1/dev/wb-01/obs', JSON.stringify({ obs: { hr: 70 + i } }), { qos: 1 });
      await new Promise((r) => setTimeout(r, 500));
    }
    await client.endAsync();
    const online = await gw.waitForLog((l) => l.deviceId === 'ox-m' && l.msg === 'serial port open' && Date.parse(String(l.time)) > offlineAt, 30_000);
    const onlineAt = Date.parse(String(online.time));
    await expect.poll(async () => (await vm.exportSeries('{__name__="vitals_spo2",device="ox-m"}'))[0]?.timestamps.some((t) => t > onlineAt) ?? false, { timeout: 20_000, interval: 500 }).toBe(true);

    // The technical events are stored with the patient, for the record.
    await expect.poll(async () => (await vm.exportSeries('{__name__=~"device_events.*",device="ox-m",kind="device_offline"}')).length, { timeout: 20_000, interval: 500 }).toBeGreaterThan(0);
    const [evt] = await vm.exportSeries('{__name__=~"device_events.*",device="ox-m",kind="device_offline"}');
    expect(evt?.metric.patient).toBe('P1');

    // The Nellcor on the next port never went offline and kept its 2 s cadence through the outage.
    expect(gw.logs.some((l) => l.deviceId === 'ox-n' && l.msg === 'serial port offline')).toBe(false);
    const [nellcor] = await vm.exportSeries('{__name__="vitals_spo2",device="ox-n"}');
    const during = nellcor!.timestamps.filter((t) => t >= offlineAt && t <= onlineAt);
    expect(during.length).toBeGreaterThanOrEqual(Math.floor((onlineAt - offlineAt) / 2000) - 1);
    const [wb] = await vm.exportSeries('{__name__="vitals_hr",device="wb-01"}');
    expect(wb?.values).toEqual([70, 71, 72]);
  }, 60_000);

  it('a device sending garbage: bad lines counted and dropped, good ones stored, gateway healthy', async () => {
    await expect.poll(async () => gw.metric('vigil_messages_rejected_total'), { timeout: 30_000, interval: 500 }).toBeGreaterThan(0);
    const [good] = await vm.exportSeries('{__name__="vitals_spo2",device="ox-g"}');
    expect(good?.values.length).toBeGreaterThan(0);
    expect(good!.values.every((v) => v >= 0 && v <= 100)).toBe(true);
    const health = await gw.health();
    expect(health.ok).toBe(true);
    const serial = health.serial as Array<{ deviceId: string; framingErrors: number; frames: number }>;
    expect(serial.find((p) => p.deviceId === 'ox-g')?.frames).toBeGreaterThan(0);
  }, 40_000);
});
