/**
 * The gateway's own wall clock stepping back (NTP correcting a clock that ran fast, or a box
 * restarted at an older time), against a real gateway whose Date.now is shifted from outside
 * (test/support/wall-shift.cjs): the time line runs on, so a desaturation still alarms after its
 * delay, and when the wall clock comes forward again no device looks silent; restarted with the
 * wall clock two minutes older than the state it restores, it goes on from that state's time; a
 * step forward of five minutes makes no device look silent and leaps no escalation tier.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { startWearables, type Reading, type Wearables } from '../support/wearables.js';

const TOKEN = 'wall-clock-step-token-0123456789';
const PRELOAD = resolve(import.meta.dirname, '../support/wall-shift.cjs');
let gw: GatewayProcess;
let dir: string;
let shiftFile: string;
let wearables: Wearables;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-wall-'));
  shiftFile = join(dir, 'shift-ms');
  await writeFile(shiftFile, '0');
  gw = await startGatewayProcess({
    config: {
      http: { apiToken: TOKEN },
      devices: [
        { id: 'wb-1', secret: 'wb-1-secret-value' },
        { id: 'wb-2', secret: 'wb-2-secret-value' },
      ],
      census: {
        wards: [{ id: 'w1', beds: ['1', '2'] }],
        patients: [
          { id: 'P1', ward: 'w1', bed: '1', devices: ['wb-1'] },
          { id: 'P2', ward: 'w1', bed: '2', devices: ['wb-2'] },
        ],
      },
      detectors: { technical: { signalLossSeconds: 10 }, limits: { spo2: { delaySeconds: 3 }, hr: { delaySeconds: 3 } } },
    },
    env: { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${PRELOAD}`.trim(), VIGIL_TEST_WALL_SHIFT_FILE: shiftFile },
  });
  // one reading every 250 ms from each device, 4 a second: within the default device rate
  wearables = await startWearables(`mqtt://127.0.0.1:${gw.mqttPort}`, ['wb-1', 'wb-2'].map((id) => ({ id, secret: `${id}-secret-value` })), 250);
}, 60_000);

afterAll(async () => {
  await wearables?.stop();
  await gw?.stop();
  await gw?.cleanup();
  await rm(dir, { recursive: true, force: true });
});

const alarms = async (): Promise<Array<{ id: string; patientId?: string; metric?: string; kind: string; condition?: string }>> =>
  ((await (await fetch(`http://127.0.0.1:${gw.httpPort}/api/alarms`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { alarms: [] }).alarms;

/** Sets what device `id` reads, and waits until `n` messages of it have been acknowledged. */
async function reads(id: string, reading: Reading, n = 1): Promise<void> {
  for (let k = 0; k < n; k++) await wearables.set(id, reading);
}
const spo2 = (v: number, hr = 72): Reading => ({ obs: { spo2: v, hr } });

describe('the wall clock stepping back', () => {
  it('leaves alarm delays running: a desaturation alarms, and no device looks silent when the clock comes forward again', async () => {
    await reads('wb-1', spo2(97), 4);
    await writeFile(shiftFile, String(-120_000));
    await gw.waitForLog((l) => /the wall clock stepped back/.test(l.msg));
    await reads('wb-1', spo2(70));
    // the 3 s delay passes on the time line, though the wall clock is two minutes behind it
    await expect.poll(async () => (await alarms()).some((a) => a.patientId === 'P1' && a.metric === 'spo2'), { timeout: 45_000, interval: 250 }).toBe(true);
    expect(await gw.metric('vigil_clock_offset_from_wall_seconds')).toBeGreaterThan(60);
    await writeFile(shiftFile, '0');
    // more data once the wall clock is back, past a tick or two of the detectors
    await reads('wb-1', spo2(70), 12);
    // the devices sent all along: the desaturation is the only alarm raised
    const raised = gw.logs.filter((l) => /^alarm raised/.test(l.msg));
    expect(raised.map((l) => l.metric)).toEqual(['spo2']);
  }, 90_000);

  it('goes on from the restored time line when restarted with the wall clock two minutes older', async () => {
    await reads('wb-1', spo2(97));
    expect(await gw.stop()).toBe(0);
    await writeFile(shiftFile, String(-120_000));
    const before = gw.logs.length;
    await gw.restart();
    await gw.waitForLog((l) => /the wall clock stepped back/.test(l.msg));
    // the wearables connect again by themselves
    await reads('wb-1', spo2(97, 145));
    await expect.poll(async () => (await alarms()).some((a) => a.patientId === 'P1' && a.metric === 'hr'), { timeout: 45_000, interval: 250 }).toBe(true);
    expect(gw.logs.slice(before).filter((l) => /^alarm raised/.test(l.msg)).map((l) => l.metric)).toEqual(['hr']);
  }, 90_000);

  it('runs toward a wall clock stepped five minutes forward: no device looks silent, no escalation leaps a tier', async () => {
    // bed 2, on its own device: what bed 1's earlier alarms do meanwhile is theirs
    await reads('wb-2', spo2(97), 4);
    const before = gw.logs.length;
    await writeFile(shiftFile, String(-120_000 + 300_000));
    await gw.waitForLog((l) => /the wall clock stepped forward/.test(l.msg));
    await reads('wb-2', spo2(70));
    await expect.poll(async () => (await alarms()).some((a) => a.patientId === 'P2' && a.metric === 'spo2'), { timeout: 45_000, interval: 250 }).toBe(true);
    expect(await gw.metric('vigil_clock_offset_from_wall_seconds')).toBeLessThan(-60);
    await reads('wb-2', spo2(70), 12);
    const bed2 = gw.logs.slice(before).filter((l) => l.patient === 'P2');
    expect(bed2.filter((l) => /^alarm raised/.test(l.msg)).map((l) => l.metric)).toEqual(['spo2']);
    expect(bed2.filter((l) => /^alarm escalated/.test(l.msg))).toEqual([]);
  }, 90_000);
});
