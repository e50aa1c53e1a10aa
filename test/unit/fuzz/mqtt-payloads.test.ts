/**
 * Fuzzing the MQTT payload path: tens of thousands of random and mutated wearable payloads
 * through ingest (json-v1 profile, value checks, census tagging) into an in-memory spool. No
 * throw, every bad payload counted in `vigil_messages_rejected_total`, every good one stored,
 * and the heap does not grow with the number of payloads.
 */
import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { Counters } from '../../../src/core/counters.js';
import { Ingest, type Appender } from '../../../src/ingest/ingest.js';
import type { AppendDone } from '../../../src/spool/writer.js';
import type { SpoolRecord } from '../../../src/core/types.js';
import { findProfile } from '../../../devices/registry.js';
import type { DeviceProfile } from '../../../src/core/profile.js';
import { int, mutate, randomBytes, rng, validUnits } from './fuzz-support.js';

const INPUTS = 20_000;

/** Counts what was appended, keeps nothing (a spool that only counts). */
class CountingSpool implements Appender {
  records = 0;
  /** Observations in the records (a device message holds several). */
  observations = 0;
  appendThen(payloads: readonly Buffer[], _opts: unknown, done: AppendDone): void {
    for (const p of payloads) {
      const r = JSON.parse(p.toString()) as SpoolRecord;
      if (r.t === 'msg') this.observations += Object.keys(r.m.v).length;
      else if (r.t === 'obs') this.observations++;
    }
    this.records += payloads.length;
    const lastSeq = this.records;
    queueMicrotask(() => done(null, { lastSeq, next: { seq: lastSeq + 1, segment: 1, offset: 0 } }));
  }
}

async function counterSum(c: Counters, name: string): Promise<number> {
  const m = (await c.registry.getMetricsAsJSON()).find((x) => x.name === name);
  return (m?.values ?? []).reduce((s, v) => s + Number(v.value), 0);
}

/** Hand-written hostile payloads besides the random ones. */
const HOSTILE = [
  '', 'null', '[]', '"obs"', '{}', '{"obs":null}', '{"obs":[]}', '{"obs":{"hr":"72"}}', '{"obs":{"hr":1e309}}', '{"obs":{"hr":-1}}',
  '{"obs":{"spo2":101}}', '{"obs":{"__proto__":{"hr":1}}}', '{"__proto__":{"obs":{"hr":70}}}', '{"obs":{"constructor":72}}',
  '{"ts":"2026-13-45T99:99:99Z","obs":{"hr":70}}', '{"ts":1,"obs":{"hr":70}}', '{"ts":"yesterday","obs":{"hr":70}}',
  '{"obs":{"acvpu":"Z"}}', '{"sensor":"maybe"}', '{"battery":"full"}', `{"obs":${'['.repeat(5000)}${']'.repeat(5000)}}`,
  `{"obs":{"hr":70},"pad":"${'x'.repeat(10_000)}"}`, '\u0000\u0001\u0002', '{"obs":{"hr":70}', '{"obs":{"hr":70}}}',
];

describe('fuzzing MQTT payloads through ingest', () => {
  it(`${INPUTS} random and mutated payloads: no throw, every bad one counted, every good one stored`, async () => {
    const profile = findProfile('json-v1') as DeviceProfile;
    const seeds = validUnits('json-v1', 300);
    expect(seeds.length).toBeGreaterThan(100);
    const counters = new Counters();
    const spool = new CountingSpool();
    const logger = pino({ level: 'silent' });
    // Half the devices are assigned to a patient: census tagging and unassigned notices both run.
    const ingest = new Ingest({ spool, counters, logger, placementOf: (d) => (d.endsWith('0') ? { patientId: 'P1', ward: 'w1', bed: '1' } : undefined) });
    const r = rng(0xf00d);
    let rejected = 0;
    let accepted = 0;
    const heapBefore = process.memoryUsage().heapUsed;
    for (let i = 0; i < INPUTS; i++) {
      const roll = r();
      const payload =
        i < HOSTILE.length ? Buffer.from(HOSTILE[i]!)
        : roll < 0.2 ? seeds[int(r, seeds.length)]!
        : roll < 0.9 ? mutate(seeds[int(r, seeds.length)]!, r)
        : randomBytes(r, int(r, 400));
      const result = await ingest.accept({ transport: 'mqtt', deviceId: `fz-${i % 20}`, origin: 'vigil/v1/dev/fz/obs', receivedAt: 1_772_438_400_000 + i, payload }, profile, i % 3 === 0);
      if (result.accepted) accepted++;
      else rejected++;
    }
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore;

    expect(accepted + rejected).toBe(INPUTS);
    expect(rejected).toBeGreaterThan(INPUTS / 4);
    expect(accepted).toBeGreaterThan(INPUTS / 10);
    expect(await counterSum(counters, 'vigil_messages_total')).toBe(INPUTS);
    // Every refused payload is in the rejected counter, under a reason; nothing else is
    // (clock-skew corrections are counted there too but still accepted).
    const byReason = (await rejectedByReason(counters)).filter((v) => v.reason !== 'clock_skew_corrected');
    expect(byReason.reduce((s, v) => s + v.value, 0)).toBe(rejected);
    for (const v of byReason) expect(v.reason).toMatch(/^[a-z_]+$/);
    // Every accepted payload reached the spool with its observations.
    expect(spool.records).toBeGreaterThanOrEqual(accepted);
    expect(await counterSum(counters, 'vigil_observations_total')).toBe(spool.observations);
    expect(heapGrowth).toBeLessThan(64 * 1024 * 1024);
  }, 60_000);
});

async function rejectedByReason(counters: Counters): Promise<Array<{ reason: string; value: number }>> {
  const m = (await counters.registry.getMetricsAsJSON()).find((x) => x.name === 'vigil_messages_rejected_total');
  return (m?.values ?? []).map((v) => ({ reason: String(v.labels.reason), value: Number(v.value) }));
}
