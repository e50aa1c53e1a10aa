/**
 * Fault: 1,000 devices connected, the gateway restarts, and they all reconnect at once (each
 * retrying after a random 0.2–2 s, as wearables do). All must be back and none starved: every
 * single device gets its next message acknowledged.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { credentials, wardOf } from '../support/ward-config.js';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { LeanFleet } from '../../src/bench/lean-fleet.js';

const DEVICES = 1000;
const ids = Array.from({ length: DEVICES }, (_, i) => `wb-${String(i).padStart(4, '0')}`);

let gw: GatewayProcess | undefined;
let fleet: LeanFleet | undefined;
afterEach(async () => {
  fleet?.close();
  await gw?.stop();
  await gw?.cleanup();
  fleet = gw = undefined;
});

/** One message from every device; the indexes of those acknowledged. */
async function everyonePublishes(f: LeanFleet, hr: number): Promise<number[]> {
  const ok = await Promise.all(ids.map((_, i) => f.publish(i, JSON.stringify({ obs: { hr } }))));
  return ok.flatMap((x, i) => (x ? [i] : []));
}

describe('fault: 1,000 devices reconnecting at once after a restart', () => {
  it('all come back and every one of them is served', async () => {
    gw = await startGatewayProcess({
      // All thousand connect from this one address: above the per-address default of 200.
      config: { devices: wardOf(ids).devices, mqtt: { limits: { connectionsPerAddress: DEVICES, maxConnections: DEVICES + 100 } } },
      // A thousand connect and disconnect lines per restart are noise here.
      env: { VIGIL_LOG_LEVEL: 'warn' },
    });
    const f = (fleet = await LeanFleet.connect({ port: gw.mqttPort, devices: credentials(ids), reconnect: { minMs: 200, maxMs: 2000 } }));
    expect(f.connected).toBe(DEVICES);
    expect((await everyonePublishes(f, 70)).length).toBe(DEVICES);

    expect(await gw.stop()).toBe(0);
    await expect.poll(() => f.connected, { timeout: 10_000 }).toBe(0);
    await gw.restart();

    await expect.poll(() => f.connected, { timeout: 60_000, interval: 250 }).toBe(DEVICES);
    await expect.poll(async () => ((await gw!.health()).broker as { clients: number }).clients, { timeout: 10_000 }).toBe(DEVICES);
    expect(f.connects.filter((n) => n >= 2)).toHaveLength(DEVICES);

    const served = await everyonePublishes(f, 71);
    expect({ devices: DEVICES, reconnected: f.connected, served: served.length }).toEqual({ devices: DEVICES, reconnected: DEVICES, served: DEVICES });
    // The restarted gateway's own count: one observation from each device since it came back.
    expect(await gw.metric('vigil_observations_total', { transport: 'mqtt' })).toBe(DEVICES);
  }, 120_000);
});
