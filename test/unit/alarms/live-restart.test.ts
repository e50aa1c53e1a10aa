/**
 * An escalation step a tick fired just before a crash, with no data after it: the restart's
 * replay does not derive it (ticks are not in the spool), the first ticks after the start do,
 * and it is neither stored nor sent a second time. The next tier then follows at its own time.
 * A crash that leaves the state unreadable: the alarms still open are ended, and no alarm id is
 * given a second time.
 * Real spool, ingest and census in a temp dir; the gateway's clock is a variable.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readdir, readFile, rm, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { LiveDetectors, STATE_READER } from '../../../src/alarms/live.js';
import { loadState } from '../../../src/alarms/state-file.js';
import { Census } from '../../../src/census/census.js';
import { Counters } from '../../../src/core/counters.js';
import type { AlarmTransition, SpoolRecord } from '../../../src/core/types.js';
import { parseDetectorConfig } from '../../../src/detectors/config.js';
import { Ingest } from '../../../src/ingest/ingest.js';
import { Spool } from '../../../src/spool/spool.js';
import { until } from '../../support/wait.js';

const T0 = Date.parse('2026-03-02T08:00:00Z');
const config = parseDetectorConfig({
  limits: { spo2: { delaySeconds: 0 } },
  technical: { signalLossSeconds: 3600 },
  alarms: {
    escalationSeconds: { high: 60 },
    escalation: { tiers: [{ name: 'Nurse', to: ['assigned'] }, { name: 'Buddy', to: ['buddy'] }, { name: 'Charge', to: ['charge'] }] },
  },
});
const logger = pino({ level: 'silent' });
const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/** One gateway's detectors over the data dir; `now` is its clock. */
async function open(dir: string, clock: { now: number }) {
  const spool = await Spool.open({ dir: join(dir, 'spool'), maxBytes: 64 * 1024 * 1024, holders: [STATE_READER], logger });
  const census = await Census.open([{ id: 'w1', beds: ['1'] }], [{ id: 'P1', ward: 'w1', bed: '1', devices: ['ox1'] }], join(dir, 'census.json'));
  const ingest = new Ingest({ spool, placementOf: (d) => census.placementOf(d), counters: new Counters(), logger });
  const counters = new Counters();
  const live = new LiveDetectors({ config, ingest, census, spool, counters, logger, clock: () => clock.now, stateFile: join(dir, 'state', 'alarms.json'), checkpointMs: 3_600_000, tickMs: 10 });
  const sent: AlarmTransition[] = [];
  live.onSent((a) => sent.push(a));
  await live.start();
  const stored = async (): Promise<AlarmTransition[]> => {
    const scan = spool.scan('test', { seq: 1, segment: 0, offset: 0 });
    const out: AlarmTransition[] = [];
    try {
      for (;;) {
        const b = await scan.read(1000);
        if (b.entries.length === 0) break;
        for (const e of b.entries) {
          const r = JSON.parse(e.payload.toString()) as SpoolRecord;
          if (r.t === 'alarm' && r.a.kind === 'limit') out.push(r.a);
        }
        scan.seek(b.next);
      }
    } finally {
      await scan.release();
    }
    return out;
  };
  return { spool, ingest, live, sent, stored, counters };
}

describe('LiveDetectors across a restart mid-escalation', () => {
  it('does not send again a step the spool holds that only the first ticks after the start derive', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vigil-live-restart-'));
    dirs.push(dir);
    const clock = { now: T0 };
    const a = await open(dir, clock);
    await a.live.assign('w1', { charge: 'charge.smith', beds: { '1': { nurse: 'nurse.jones', buddy: 'nurse.kim' } } }, 'charge.smith');
    await a.ingest.manual([{ ts: T0 + 1000, deviceId: 'ox1', patientId: 'P1', ward: 'w1', bed: '1', metric: 'spo2', value: 80, unit: '%', quality: 'good' }]);
    await until(() => a.sent.some((t) => t.state === 'raised'), 'the alarm raised');
    await a.live.checkpoint(); // the saved state: tier 1, tier 2 pending
    clock.now = T0 + 65_000; // only ticks move the detectors past tier 2's time
    await until(() => a.sent.some((t) => t.escalation?.tier === 2), 'tier 2 from a tick');
    await expect.poll(async () => (await a.stored()).length).toBe(2);
    // a crash: the state file stays as checkpointed, the spool has tier 2 after it; nothing of
    // the first process runs on
    for (const timer of ['tickTimer', 'checkpointTimer']) clearInterval((a.live as unknown as Record<string, NodeJS.Timeout>)[timer]);
    await a.spool.close();

    const b = await open(dir, clock);
    expect(b.live.restore).toMatchObject({ restored: true, recovered: 0 });
    clock.now = T0 + 70_000;
    await until(() => b.live.pipeline.now >= T0 + 70_000, 'the first ticks after the start');
    expect(b.live.activeAlarms()[0]).toMatchObject({ tier: 2, notified: ['nurse.jones', 'nurse.kim'] });
    expect(b.sent).toEqual([]);
    expect((await b.stored()).map((t) => [t.state, t.escalation?.tier])).toEqual([['raised', 1], ['escalated', 2]]);

    clock.now = T0 + 125_000; // tier 3 is due at 121 s
    await until(() => b.sent.length === 1, 'tier 3');
    expect(b.sent[0]).toMatchObject({ state: 'escalated', ts: T0 + 121_000, escalation: { tier: 3, recipients: ['charge.smith'] } });
    await b.live.stop();
    await b.spool.close();
  });

  it('counts a save it cannot write and goes on; the previous state stays, and the next save is whole', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vigil-live-save-'));
    dirs.push(dir);
    const clock = { now: T0 };
    const a = await open(dir, clock);
    await a.ingest.manual([{ ts: T0 + 1000, deviceId: 'ox1', patientId: 'P1', ward: 'w1', bed: '1', metric: 'spo2', value: 80, unit: '%', quality: 'good' }]);
    await until(() => a.sent.some((t) => t.state === 'raised'), 'the alarm raised');
    await a.live.checkpoint();
    const file = join(dir, 'state', 'alarms.json');
    const saved = await readFile(file);

    // the temp file cannot be made: a directory stands where it goes
    const tmp = `${file}.tmp-${process.pid}`;
    await mkdir(tmp);
    await a.ingest.manual([{ ts: T0 + 2000, deviceId: 'ox1', patientId: 'P1', ward: 'w1', bed: '1', metric: 'spo2', value: 97, unit: '%', quality: 'good' }]);
    await a.live.checkpoint();
    expect(await a.counters.value('vigil_messages_rejected_total', { reason: 'alarm_state_not_saved' })).toBe(1);
    expect((await readFile(file)).equals(saved)).toBe(true);
    expect(a.live.activeAlarms()).toHaveLength(1); // still running, still showing the alarm

    await rm(tmp, { recursive: true });
    await a.live.checkpoint();
    expect(await a.counters.value('vigil_messages_rejected_total', { reason: 'alarm_state_not_saved' })).toBe(1);
    const loaded = await loadState(file);
    if (loaded.kind !== 'loaded') throw new Error(JSON.stringify(loaded));
    expect(loaded.state.seq).toBeGreaterThan(0);
    expect((await readFile(file)).equals(saved)).toBe(false);
    expect(await readdir(join(dir, 'state'))).toEqual(['alarms.json']);
    await a.live.stop();
    await a.spool.close();
  });
});

describe('LiveDetectors when the saved state is lost', () => {
  it('after a crash and an unreadable state: alarms open before are ended, and no id is given again', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vigil-live-lost-'));
    dirs.push(dir);
    const clock = { now: T0 };
    const spo2 = (at: number, value: number) => [{ ts: at, deviceId: 'ox1', patientId: 'P1', ward: 'w1', bed: '1', metric: 'spo2' as const, value, unit: '%', quality: 'good' as const }];
    const a = await open(dir, clock);
    await a.ingest.manual(spo2(T0 + 1000, 80));
    await until(() => a.sent.some((t) => t.state === 'raised'), 'the alarm raised');
    const first = a.sent[0]!.id;
    await a.live.checkpoint();
    // a crash (nothing of the first process runs on), then the state file cut short
    for (const timer of ['tickTimer', 'checkpointTimer']) clearInterval((a.live as unknown as Record<string, NodeJS.Timeout>)[timer]);
    await a.spool.close();
    await truncate(join(dir, 'state', 'alarms.json'), 300);

    clock.now = T0 + 10_000;
    const b = await open(dir, clock);
    const idsBefore = new Set((await b.stored()).map((t) => t.id));
    expect(idsBefore).toEqual(new Set([first]));

    // the same condition again: a new alarm, under an id never used
    await b.ingest.manual(spo2(T0 + 11_000, 80));
    await until(() => b.sent.some((t) => t.state === 'raised' && t.kind === 'limit'), 'the alarm raised again');
    const second = b.sent.find((t) => t.state === 'raised' && t.kind === 'limit')!.id;
    expect(second.slice(0, second.lastIndexOf(':'))).toBe(first.slice(0, first.lastIndexOf(':')));
    expect(idsBefore.has(second), `${second} given again`).toBe(false);

    expect(b.live.restore).toMatchObject({ restored: false, problem: expect.stringMatching(/not valid JSON/), endedUnknown: 1, numberedAbove: expect.any(Number) });
    expect(Number(second.slice(second.lastIndexOf(':') + 1))).toBeGreaterThan(b.live.restore!.numberedAbove!);
    expect(b.live.stateIncomplete()).toBe(true);
    // the alarm open before the crash is ended downstream, not left open for ever
    expect(b.sent.filter((t) => t.id === first)).toEqual([expect.objectContaining({ state: 'resolved', reason: expect.stringMatching(/alarm state was lost at restart/), ts: T0 + 10_000, patientId: 'P1', kind: 'limit' })]);
    // nothing ever follows an id's `resolved` in the spool
    await expect.poll(async () => (await b.stored()).length).toBe(3);
    const stored = await b.stored();
    for (const [i, t] of stored.entries()) if (t.state === 'resolved') expect(stored.slice(i + 1).filter((u) => u.id === t.id)).toEqual([]);

    // degraded until someone acknowledges the notice that says the state was lost
    await until(() => b.live.activeAlarms().some((x) => x.id.includes('state_not_restored')), 'the notice shown');
    const notice = b.live.activeAlarms().find((x) => x.id.includes('state_not_restored'))!;
    expect(Number(notice.id.slice(notice.id.lastIndexOf(':') + 1))).toBeGreaterThan(b.live.restore!.numberedAbove!);
    expect(b.live.stateIncomplete()).toBe(true);
    expect(await b.live.acknowledge(notice.id, 'nurse.kim')).toBe(true);
    await until(() => !b.live.stateIncomplete(), 'the notice acknowledged');

    // and the numbering survives the next save and restart
    await b.live.stop();
    await b.spool.close();
    const c = await open(dir, clock);
    expect(c.live.restore).toMatchObject({ restored: true });
    expect(c.live.stateIncomplete()).toBe(false);
    expect(c.live.activeAlarms().map((x) => x.id)).toEqual([second]);
    await c.live.stop();
    await c.spool.close();
  });
});
