/**
 * Fault: the gateway is SIGKILLed while fifty devices publish with several messages in flight
 * each, then restarted. Every observation it acknowledged (PUBACK) must reach the time-series
 * server; messages it did not acknowledge may or may not (the devices would resend them).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startVictoria, type Victoria } from '../support/victoria.js';
import { credentials, wardOf } from '../support/ward-config.js';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { LeanFleet } from '../../src/bench/lean-fleet.js';

const DEVICES = 50;
const IN_FLIGHT = 4;
const KILL_AFTER_ACKS = 4000;
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

describe('fault: gateway SIGKILLed mid-load and restarted', () => {
  it('zero loss of acknowledged observations', async () => {
    vm = await startVictoria();
    gw = await startGatewayProcess({
      config: {
        influx: { url: vm.url, flushIntervalMs: 100, batchSize: 1000, maxBackoffMs: 500 },
        mqtt: { rate: { messagesPerSecond: 10_000, burst: 10_000 } },
        ...wardOf(ids, { trustDeviceTime: true }),
      },
    });
    const f = (fleet = await LeanFleet.connect({ port: gw.mqttPort, devices: credentials(ids) }));
    expect(f.connected).toBe(DEVICES);

    // Message k of device i: hr = 30 + (k % 150) at device time BASE_TS + k * 10 ms + i (unique per device).
    const tsOf = (i: number, k: number): number => BASE_TS + k * 10 * DEVICES + i;
    const acked = new Set<number>();
    let sent = 0;
    let ackCount = 0;
    let killed: Promise<void> | undefined;
    const next = ids.map(() => 0);
    const run = async (i: number): Promise<void> => {
      for (;;) {
        const k = next[i]!++;
        if (!f.conns[i]!.connected) return;
        sent++;
        const ok = await f.publish(i, JSON.stringify({ ts: tsOf(i, k), obs: { hr: 30 + (k % 150) } }));
        if (!ok) return;
        acked.add(tsOf(i, k));
        if (++ackCount === KILL_AFTER_ACKS) killed = gw!.kill();
      }
    };
    // IN_FLIGHT loops per device share its connection: several publishes are in flight at the kill.
    await Promise.all(ids.flatMap((_, i) => Array.from({ length: IN_FLIGHT }, () => run(i))));
    await killed;
    fleet.close();
    expect(acked.size).toBeGreaterThanOrEqual(KILL_AFTER_ACKS);
    expect(sent).toBeGreaterThan(acked.size); // some were in flight when it died

    await gw.restart();
    await vm.waitForCount('{__name__="vitals_hr"}', acked.size, 60_000);
    const series = await vm.exportSeries('{__name__="vitals_hr"}');
    const stored = new Set(series.flatMap((s) => s.timestamps));
    const missing = [...acked].filter((ts) => !stored.has(ts));
    expect({ sent, acked: acked.size, missing: missing.length }).toEqual({ sent, acked: acked.size, missing: 0 });
  }, 120_000);
});
