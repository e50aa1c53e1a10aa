/**
 * Fault: no time-series server and a small spool, so the spool reaches its bound while ten
 * devices publish. Reaching it must be reported (health, metrics, a technical alarm) and nothing
 * may be dropped silently: every acknowledged observation is in the spool, and every message
 * that was not stored was refused without a PUBACK (the device keeps it) and counted.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { credentials, wardOf } from '../support/ward-config.js';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { LeanFleet } from '../../src/bench/lean-fleet.js';
import { Spool } from '../../src/spool/spool.js';

const DEVICES = 10;
const ids = Array.from({ length: DEVICES }, (_, i) => `wb-${String(i).padStart(2, '0')}`);
// Ten observations a message (one spool record each, ~200 bytes).
const OBS = Object.fromEntries(['hr', 'pr', 'spo2', 'rr', 'temp', 'sbp', 'dbp', 'map', 'pi', 'battery'].map((m) => [m, 40]));

let gw: GatewayProcess | undefined;
let fleet: LeanFleet | undefined;
afterEach(async () => {
  fleet?.close();
  await gw?.stop();
  await gw?.cleanup();
  fleet = gw = undefined;
});

describe('fault: spool at its bound', () => {
  it('reported in health, metrics and as a technical alarm; acknowledged data all kept; the rest refused and counted', async () => {
    gw = await startGatewayProcess({
      config: {
        spool: { maxBytes: 1_048_576, segmentBytes: 65_536, warnRatio: 0.5 },
        mqtt: { rate: { messagesPerSecond: 100_000, burst: 100_000 } },
        ...wardOf(ids),
      },
    });
    const f = (fleet = await LeanFleet.connect({ port: gw.mqttPort, devices: credentials(ids) }));
    expect(f.connected).toBe(DEVICES);
    const sent = ids.map(() => 0);
    const acked = ids.map(() => 0);
    // Each device publishes one message at a time until the gateway refuses one.
    await Promise.all(
      ids.map(async (_, i) => {
        for (let k = 0; k < 5000; k++) {
          sent[i]!++;
          if (!(await f.publish(i, JSON.stringify({ obs: OBS })))) return;
          acked[i]!++;
        }
      }),
    );
    const sentTotal = sent.reduce((a, b) => a + b, 0);
    const ackedTotal = acked.reduce((a, b) => a + b, 0);
    // Every device met the bound: its last message was refused, not acknowledged.
    expect(sent.map((s, i) => s - acked[i]!)).toEqual(ids.map(() => 1));
    expect(ackedTotal).toBeGreaterThan(200);

    const res = await fetch(`http://127.0.0.1:${gw.httpPort}/healthz`);
    expect(res.status).toBe(503);
    const health = (await res.json()) as { ok: boolean; spool: { full: boolean; nearFull: boolean; refused: number } };
    expect(health).toMatchObject({ ok: false, spool: { full: true, nearFull: true } });
    expect(health.spool.refused).toBeGreaterThanOrEqual(sentTotal - ackedTotal);
    expect(await gw.metric('vigil_spool_full')).toBe(1);
    expect(await gw.metric('vigil_spool_near_full')).toBe(1);
    // The technical alarms about the gateway's own storage: near full (medium), then full (high).
    await gw.waitForLog((l) => /^alarm raised: Gateway storage full/.test(l.msg));
    await gw.waitForLog((l) => /^alarm raised: Gateway storage \d+% full/.test(l.msg));
    expect(await gw.metric('vigil_alarm_transitions_total', { kind: 'technical', priority: 'high', state: 'raised' })).toBeGreaterThanOrEqual(1);

    // Every acknowledged message is in the spool with its ten observations.
    fleet.close();
    expect(await gw.stop()).toBe(0);
    const spool = await Spool.open({ dir: join(gw.dataDir, 'spool'), maxBytes: 1_048_576 });
    try {
      const reader = await spool.reader('check');
      let obs = 0;
      for (;;) {
        const batch = await reader.read(10_000);
        if (batch.entries.length === 0) break;
        for (const e of batch.entries) {
          const r = JSON.parse(e.payload.toString()) as { t: string; m?: { v: object } };
          if (r.t === 'msg') obs += Object.keys(r.m!.v).length;
        }
        await reader.commit(batch.next);
      }
      expect({ sent: sentTotal, acked: ackedTotal, obsInSpool: obs }).toEqual({ sent: sentTotal, acked: ackedTotal, obsInSpool: ackedTotal * 10 });
    } finally {
      await spool.close();
    }
  }, 90_000);
});
