/**
 * The live detector service keeps evaluating alarms when the detectors fail on one input: that
 * input is counted, logged and skipped; the next ones are handled as usual.
 */
import { describe, expect, it } from 'vitest';
import { EventEmitter } from 'node:events';
import { pino } from 'pino';
import { LiveDetectors, type AlarmSpool } from '../../../src/alarms/live.js';
import type { SpoolPosition } from '../../../src/spool/types.js';
import { defaultDetectorConfig } from '../../../src/detectors/config.js';
import { Counters } from '../../../src/core/counters.js';
import type { SpoolRecord } from '../../../src/core/types.js';
import type { Census } from '../../../src/census/census.js';
import type { Ingest } from '../../../src/ingest/ingest.js';

function harness() {
  type Listener = (records: readonly SpoolRecord[], firstSeq: number, next: SpoolPosition) => void;
  let listener: Listener | undefined;
  const ingest = { onRecords: (l: Listener) => void (listener = l), mark: () => undefined } as unknown as Ingest;
  const census = Object.assign(new EventEmitter(), { snapshot: () => ({ wards: [], patients: [] }), onPatient: () => undefined }) as unknown as Census;
  const appended: string[] = [];
  const counters = new Counters();
  const spool: AlarmSpool = {
    appendRecords: async (b) => (appended.push(...b.map((x) => x.toString())), { lastSeq: appended.length, next: { seq: appended.length + 1, segment: 1, offset: 0 } }),
    reader: () => Promise.reject(new Error('not used')),
    oldest: () => ({ seq: 1, segment: 1, offset: 0 }),
    scan: () => {
      throw new Error('not used');
    },
    stats: () => ({ lastSeq: 0 }),
  };
  const live = new LiveDetectors({ config: defaultDetectorConfig(), ingest, census, spool, counters, logger: pino({ level: 'silent' }), clock: () => 0 });
  let seq = 0;
  return { live, counters, appended, feed: (r: SpoolRecord) => listener!([r], ++seq, { seq: seq + 1, segment: 1, offset: 0 }) };
}

const obs = (ts: number, value: number) => ({ t: 'obs', o: { ts, patientId: 'P1', ward: 'w', bed: '1', deviceId: 'd1', metric: 'spo2', value, unit: '%', quality: 'good' } }) as const;

describe('LiveDetectors', () => {
  it('skips an input the detectors throw on and keeps alarming on the next ones', async () => {
    const { live, counters, appended, feed } = harness();
    await live.start();
    const push = live.pipeline.push.bind(live.pipeline);
    let thrown = 0;
    live.pipeline.push = (input) => {
      if (input.type === 'obs' && input.obs.value === 1) {
        thrown++;
        throw new Error('boom');
      }
      return push(input);
    };
    feed(obs(1_000, 1));
    // A sustained desaturation after the failure still raises its alarm.
    for (let s = 2; s <= 40; s++) feed(obs(s * 1000, 80));
    await live.stop();
    expect(thrown).toBe(1);
    expect(live.failures).toBe(1);
    expect(live.lastFailure).toMatch(/boom/);
    expect(await counters.value('vigil_messages_rejected_total', { reason: 'detector_error' })).toBe(1);
    const raised = appended.map((a) => JSON.parse(a) as SpoolRecord).filter((r) => r.t === 'alarm' && r.a.state === 'raised' && r.a.metric === 'spo2');
    expect(raised).toHaveLength(1);
  });
});
