/**
 * Bedside devices end to end, in the formats the real monitors speak: firmware simulator → socat
 * pty → the gateway's serial source → observations in VictoriaMetrics, each value exactly the one
 * the simulated monitor showed, with the right metric, scale, patient and technical events. The
 * S/5 sends nothing until the gateway writes its transfer request. Also a pulled cable (device
 * offline, reconnect, data again), a device spewing garbage, and a device of another format on a
 * port, while the other devices never notice.
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
  // The stock sensor-off scenario takes the sensor off after five minutes; this one after 8 s, for 10 s.
  const sensorOff = readFileSync(join(builtinScenarioDir(), 'sensor-off.yaml'), 'utf8')
    .replace(/^name: .*$/m, 'name: quick-sensor-off')
    .replace(/^ {2}- \{ type: sensor-off, at: 300, duration: 180 \}$/m, '  - { type: sensor-off, at: 8, duration: 10 }')
    .replace(/^ {2}- \{ type: sensor-off, at: 1200, duration: 60 \}\n?/m, '');
  const sensorOffFile = join(dir, 'quick-sensor-off.yaml');
  await writeFile(sensorOffFile, sensorOff);
  expect(loadScenario(sensorOffFile).events).toEqual([expect.objectContaining({ type: 'sensor-off', at: 8, duration: 10 })]);

  vm = await startVictoria();
  ward = await startSimulatedWard({
    serial: [
      { id: 'ox-m', profile: 'masimo-ascii1', scenario: unplugFile, seed: 1 },
      { id: 'ox-n', profile: 'nellcor-n595-n560', scenario: sensorOffFile, seed: 2 },
      { id: 'mon-d', profile: 'ge-datex-s5-dri', scenario: 'stable', seed: 3 },
      { id: 'ox-g', profile: 'masimo-radical7', scenario: 'garbage', seed: 4 },
      // A Nellcor on a port the config says is a Masimo.
      { id: 'ox-x', profile: 'nellcor-n595-n560', scenario: 'stable', seed: 5 },
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
        // Device time is trusted so each stored point can be matched to the simulated moment.
        { path: path('ox-m'), deviceId: 'ox-m', profile: 'masimo-ascii1', trustDeviceTime: true },
        // Former profile names keep working.
        { path: path('ox-n'), deviceId: 'ox-n', profile: 'nellcor-n595', trustDeviceTime: true },
        { path: path('mon-d'), deviceId: 'mon-d', profile: 'ge-datex-s5-dri', trustDeviceTime: true },
        { path: path('ox-g'), deviceId: 'ox-g', profile: 'masimo-radical7' },
        { path: path('ox-x'), deviceId: 'ox-x', profile: 'masimo-ascii1' },
      ],
      census: {
        wards: [{ id: 'w3', beds: ['1', '2', '3', '4', '5', '6'] }],
        patients: [
          { id: 'P1', ward: 'w3', bed: '1', devices: ['ox-m'] },
          { id: 'P2', ward: 'w3', bed: '2', devices: ['ox-n'] },
          { id: 'P3', ward: 'w3', bed: '3', devices: ['mon-d'] },
          { id: 'P4', ward: 'w3', bed: '4', devices: ['ox-g'] },
          { id: 'P5', ward: 'w3', bed: '5', devices: ['wb-01'] },
          { id: 'P6', ward: 'w3', bed: '6', devices: ['ox-x'] },
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
    ['masimo-ascii1', 'ox-m', 'P1', ['spo2', 'pr', 'pi']],
    ['nellcor-n595-n560', 'ox-n', 'P2', ['spo2', 'pr']],
    ['ge-datex-s5-dri', 'mon-d', 'P3', ['hr', 'spo2', 'pr', 'rr', 'temp', 'sbp', 'dbp', 'map']],
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

  it.each([
    ['ox-m', ['spo2', 'pr', 'pi']],
    ['ox-n', ['spo2', 'pr']],
    ['mon-d', ['hr', 'spo2', 'pr', 'rr', 'temp', 'sbp', 'dbp', 'map']],
  ])('%s: every stored value is exactly what the simulated monitor showed at that device second', async (device, metrics) => {
    const sim = ward.devices.get(device)!;
    const base = Math.floor(sim.startEpochMs / 1000) * 1000;
    // Cuff cycles every 4 s from 4 s; the monitor shows the last one until the next.
    const cuffAt = (t: number) => 4 + 4 * Math.floor((t - 4) / 4);
    const expected = (metric: string, t: number): number | undefined => {
      const s = sim.patient.sample(t);
      if ((metric === 'spo2' || metric === 'pr' || metric === 'pi') && s.sensor === 'off') return undefined;
      switch (metric) {
        case 'spo2':
          return Math.round(s.spo2);
        case 'pr':
          return Math.round(s.pr);
        case 'pi':
          return Number(s.pi.toFixed(2));
        case 'hr':
        case 'rr':
          return Math.round(s[metric]);
        case 'temp':
          return Math.round(s.temp * 100) / 100;
        default: {
          if (t < 4) return undefined;
          const cuff = sim.patient.sample(cuffAt(t));
          return Math.round(cuff[metric as 'sbp' | 'dbp' | 'map']);
        }
      }
    };
    for (const metric of metrics) {
      const [series] = await vm.waitForCount(`{__name__="vitals_${metric}",device="${device}"}`, 3, 30_000);
      series!.timestamps.forEach((ts, i) => {
        const t = (ts - base) / 1000;
        expect(Number.isInteger(t), `${metric} at ${ts}`).toBe(true);
        expect(series!.values[i], `${device} ${metric} at device second ${t}`).toBe(expected(metric, t));
      });
    }
  }, 60_000);

  it('technical events of the real formats are stored: Nellcor SO sensor off and back, Masimo EXC and ALARM states', async () => {
    await expect.poll(async () => (await vm.exportSeries('{__name__=~"device_events.*",device="ox-n",kind="sensor_off"}')).length, { timeout: 40_000, interval: 500 }).toBeGreaterThan(0);
    const [off] = await vm.exportSeries('{__name__="device_events_count",device="ox-n",kind="sensor_off"}');
    expect(off?.metric.patient).toBe('P2');
    // The monitor reports SO on every line while the sensor is off (8–18 s: about five lines);
    // the state is stored when it changes: once off, and ok before and after.
    expect(off!.values).toHaveLength(1);
    await expect.poll(async () => (await vm.exportSeries('{__name__="device_events_count",device="ox-n",kind="sensor_ok"}'))[0]?.timestamps.some((t) => t > off!.timestamps[0]!) ?? false, { timeout: 20_000, interval: 500 }).toBe(true);
    for (const kind of ['sensor_ok', 'battery_ok']) {
      await expect.poll(async () => (await vm.exportSeries(`{__name__=~"device_events.*",device="ox-m",kind="${kind}"}`)).length, { timeout: 20_000, interval: 500 }).toBeGreaterThan(0);
    }
    // Alarm-active and limit bits never read as low battery.
    expect(await vm.exportSeries('{__name__=~"device_events.*",device="ox-m",kind="battery_low"}')).toEqual([]);
  }, 60_000);

  it('the S/5 sends nothing until the gateway writes its transfer request, which it is seen writing', async () => {
    const sent = await gw.waitForLog((l) => l.deviceId === 'mon-d' && l.msg === 'serial request sent', 20_000);
    expect(sent).toMatchObject({ frames: 5, bytes: 5 * 52, why: 'open' });
    const runner = ward.serialRunners['mon-d']!.stats();
    expect(runner.requests).toBeGreaterThanOrEqual(1);
    // Its first record was due before the gateway started, and was not sent.
    expect(runner.withheld).toBeGreaterThanOrEqual(1);
    const health = await gw.health();
    const port = (health.serial as Array<{ deviceId: string; requestsSent: number; bytesOut: number }>).find((p) => p.deviceId === 'mon-d');
    expect(port?.requestsSent).toBeGreaterThanOrEqual(1);
    expect(port?.bytesOut).toBeGreaterThanOrEqual(5 * 52);
  }, 40_000);

  it('a device of another format: every frame rejected as format_mismatch, ONE technical event for the port, gateway healthy', async () => {
    // A Nellcor line every 2 s; well past the 10 in a row that make a mismatch.
    await expect.poll(async () => gw.metric('vigil_messages_rejected_total', { reason: 'format_mismatch' }), { timeout: 60_000, interval: 500 }).toBeGreaterThanOrEqual(15);
    const match = '{__name__="device_events_count",device="ox-x",kind="format_mismatch"}';
    await expect.poll(async () => (await vm.exportSeries(match)).length, { timeout: 20_000, interval: 500 }).toBe(1);
    const [event] = await vm.exportSeries(match);
    expect(event?.values).toHaveLength(1);
    expect(event?.metric.patient).toBe('P6');
    expect(gw.logs.filter((l) => l.device === 'ox-x' && l.msg === 'serial device format does not match its profile')).toHaveLength(1);
    expect(await vm.exportSeries('{__name__=~"vitals_.*",device="ox-x"}')).toEqual([]);
    // The garbage device's good lines keep resetting its count: no mismatch reported there.
    expect(await vm.exportSeries('{__name__=~"device_events.*",device="ox-g",kind="format_mismatch"}')).toEqual([]);
    expect((await gw.health()).ok).toBe(true);
  }, 90_000);

  it('a pulled cable: device offline, reconnect by itself, data again; other devices never notice', async () => {
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${gw.mqttPort}`, { username: 'wb-01', password: 'wb-01-secret-value', reconnectPeriod: 0 });
    const offline = await gw.waitForLog((l) => l.deviceId === 'ox-m' && l.msg === 'serial port offline', 30_000);
    const offlineAt = Date.parse(String(offline.time));
    const nellcorFrames = async (): Promise<number> => ((await gw.health()).serial as Array<{ deviceId: string; frames: number }>).find((p) => p.deviceId === 'ox-n')!.frames;
    const framesAtOffline = await nellcorFrames();
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

    // The Nellcor on the next port never went offline and kept being read through the outage.
    expect(gw.logs.some((l) => l.deviceId === 'ox-n' && l.msg === 'serial port offline')).toBe(false);
    await expect.poll(nellcorFrames, { timeout: 20_000, interval: 250 }).toBeGreaterThan(framesAtOffline);
    await expect.poll(async () => (await vm.exportSeries('{__name__="vitals_hr",device="wb-01"}'))[0]?.values, { timeout: 20_000, interval: 500 }).toEqual([70, 71, 72]);
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
