/**
 * Fault: one misbehaving device floods the gateway far above its rate limit while twenty
 * well-behaved devices publish at their normal pace. The flooder is throttled (disconnected,
 * counted as rate_limited) after at most its burst plus its rate; the others lose nothing and
 * stay connected. Their acknowledgement times before and during the flood are printed for
 * reading (machines are shared, so timings are reported, not asserted).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { credentials, wardOf } from '../support/ward-config.js';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { LeanFleet } from '../../src/bench/lean-fleet.js';
import { quantile } from '../../src/bench/latency.js';

const GOOD = 20;
const ROUNDS = 30;
const RATE = { messagesPerSecond: 20, burst: 40 };
const ids = [...Array.from({ length: GOOD }, (_, i) => `wb-${String(i).padStart(2, '0')}`), 'wb-flood'];
const FLOODER = GOOD;

let gw: GatewayProcess | undefined;
let fleet: LeanFleet | undefined;
afterEach(async () => {
  fleet?.close();
  await gw?.stop();
  await gw?.cleanup();
  fleet = gw = undefined;
});

describe('fault: a flood from one device', () => {
  it('throttles the flooder; the others keep every message and their connection', async () => {
    gw = await startGatewayProcess({
      config: {
        mqtt: { rate: RATE },
        ...wardOf(ids),
      },
    });
    const f = (fleet = await LeanFleet.connect({ port: gw.mqttPort, devices: credentials(ids) }));
    expect(f.connected).toBe(ids.length);

    const ackMs: { before: number[]; during: number[] } = { before: [], during: [] };
    let goodSent = 0;
    let goodAcked = 0;
    let flooding = false;
    const round = async (): Promise<void> => {
      const phase = flooding ? ackMs.during : ackMs.before;
      await Promise.all(
        ids.slice(0, GOOD).map(async (_, i) => {
          goodSent++;
          const t = performance.now();
          if (await f.publish(i, JSON.stringify({ obs: { hr: 72, spo2: 97, rr: 14, temp: 36.8 } }))) {
            goodAcked++;
            phase.push(performance.now() - t);
          }
        }),
      );
      await new Promise((r) => setTimeout(r, 100));
    };

    for (let k = 0; k < ROUNDS / 2; k++) await round();
    // The flood: 5,000 messages at once, without waiting for acknowledgements.
    flooding = true;
    const floodStart = performance.now();
    const flood = Array.from({ length: 5000 }, () => f.publish(FLOODER, JSON.stringify({ obs: { hr: 72 } })));
    for (let k = ROUNDS / 2; k < ROUNDS; k++) await round();
    const floodAcked = (await Promise.all(flood)).filter(Boolean).length;
    const floodS = (performance.now() - floodStart) / 1000;

    expect(f.conns[FLOODER]!.connected).toBe(false);
    // Throttled: no more than its burst plus its rate over the time it was connected. (Those in
    // the burst may be stored yet never acknowledged: the connection closes before their PUBACK,
    // so the device keeps them and resends.)
    const allowed = RATE.burst + Math.ceil(RATE.messagesPerSecond * floodS) + 1;
    expect(floodAcked).toBeLessThanOrEqual(allowed);
    expect(await gw.metric('vigil_messages_rejected_total', { reason: 'rate_limited' })).toBeGreaterThanOrEqual(1);

    expect({ goodSent, goodAcked, goodConnected: f.conns.slice(0, GOOD).filter((c) => c.connected).length }).toEqual({ goodSent: GOOD * ROUNDS, goodAcked: GOOD * ROUNDS, goodConnected: GOOD });
    // Everything acknowledged was stored: 4 observations from each good message, and at most the
    // flooder's allowance from it.
    const stored = await gw.metric('vigil_observations_total', { transport: 'mqtt' });
    expect(stored - goodAcked * 4).toBeGreaterThanOrEqual(floodAcked);
    expect(stored - goodAcked * 4).toBeLessThanOrEqual(allowed);

    const fmt = (xs: number[]): string => {
      const s = [...xs].sort((a, b) => a - b);
      return `p50 ${quantile(s, 0.5).toFixed(1)} ms, p99 ${quantile(s, 0.99).toFixed(1)} ms`;
    };
    process.stdout.write(`well-behaved devices' PUBACK time: before the flood ${fmt(ackMs.before)}; during it ${fmt(ackMs.during)}; flooder: ${floodAcked} of 5000 acknowledged, ${stored - goodAcked * 4} stored, before it was disconnected\n`);
  }, 90_000);
});
