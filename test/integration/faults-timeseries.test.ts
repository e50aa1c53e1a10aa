/**
 * Fault: the time-series server goes down for a while under a ward's load, then comes back.
 * Fifty devices keep publishing QoS 1 throughout; every acknowledged observation must arrive,
 * each device's series in the order it was sent, with nothing dead-lettered.
 *
 * The load fits the limit the test configures: each device sends ROUNDS messages in all, and its
 * token bucket holds that many, so however fast the machine acknowledges, no device can exceed
 * its rate and be disconnected. (Rate limiting itself is tested in faults-flood and gateway-mqtt.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startVictoria, type Victoria } from '../support/victoria.js';
import { credentials, wardOf } from '../support/ward-config.js';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { LeanFleet } from '../../src/bench/lean-fleet.js';

const DEVICES = 50;
const ROUNDS = 60;
const BASE_TS = Date.UTC(2026, 2, 2, 8, 0, 0);
const ids = Array.from({ length: DEVICES }, (_, i) => `wb-${String(i).padStart(3, '0')}`);

let vm: Victoria | undefined;
let gw: GatewayProcess | undefined;
let fleet: LeanFleet | undefined;
afterEach(async () => {
  fleet?.close();
  await gw?.stop();
  await gw?.cleanup();
  await vm?.dispose();
  fleet = gw = vm = undefined;
});

describe('fault: time-series server down, then back', () => {
  it('zero loss and order kept for every device: sent = acknowledged = stored', async () => {
    vm = await startVictoria();
    gw = await startGatewayProcess({
      config: {
        influx: { url: vm.url, flushIntervalMs: 100, batchSize: 500, maxBackoffMs: 500 },
        mqtt: { rate: { messagesPerSecond: 20, burst: ROUNDS } },
        ...wardOf(ids, { trustDeviceTime: true }),
      },
    });
    fleet = await LeanFleet.connect({ port: gw.mqttPort, devices: credentials(ids) });
    expect(fleet.connected).toBe(DEVICES);

    let sent = 0;
    let acked = 0;
    for (let k = 0; k < ROUNDS; k++) {
      if (k === 20) await vm.stop();
      if (k === 40) {
        // The outage is real: the writer has failed and is backing off with data piling up.
        await expect.poll(async () => (await gw!.health()).influx, { timeout: 15_000 }).toMatchObject({ state: 'backing_off' });
        expect(((await gw.health()).influx as { lagRecords: number }).lagRecords).toBeGreaterThan(DEVICES * 19);
        await vm.restart();
      }
      // Message k of device i: hr = 40 + k at device time BASE_TS + k s + i ms, so each is identifiable.
      const results = await Promise.all(ids.map((_, i) => (sent++, fleet!.publish(i, JSON.stringify({ ts: BASE_TS + k * 1000 + i, obs: { hr: 40 + k } })))));
      acked += results.filter(Boolean).length;
    }
    expect({ sent, acked }).toEqual({ sent: DEVICES * ROUNDS, acked: DEVICES * ROUNDS });

    const series = await vm.waitForCount('{__name__="vitals_hr"}', acked, 60_000);
    const stored = series.reduce((s, x) => s + x.values.length, 0);
    expect(stored).toBe(acked);
    for (const [i, id] of ids.entries()) {
      const s = series.find((x) => x.metric.device === id);
      expect(s?.timestamps, id).toEqual(Array.from({ length: ROUNDS }, (_, k) => BASE_TS + k * 1000 + i));
      expect(s?.values, id).toEqual(Array.from({ length: ROUNDS }, (_, k) => 40 + k));
    }
    await expect.poll(async () => (await gw!.health()).influx, { timeout: 10_000 }).toMatchObject({ lagRecords: 0, deadLetters: 0 });
  }, 120_000);
});
