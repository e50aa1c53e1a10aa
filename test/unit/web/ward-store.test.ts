import { describe, expect, it } from 'vitest';
import { BlobReader, BlobWriter } from '../../../src/core/blobs.js';
import { WardStore, type WardStoreState } from '../../../src/web/ward-store.js';
import type { AlarmTransition, Observation, SpoolRecord } from '../../../src/core/types.js';

const obs = (ts: number, metric: Observation['metric'], value: number, extra: Partial<Observation> = {}): SpoolRecord => ({
  t: 'obs',
  o: { ts, deviceId: 'wb-01', metric, value, unit: '', quality: 'good', patientId: 'P1', ward: 'w1', bed: '1', ...extra },
});

describe('WardStore', () => {
  it('keeps the newest value of each vital with its time and reports what changed', () => {
    const store = new WardStore();
    const changed = store.addRecords([obs(1000, 'hr', 70), obs(2000, 'hr', 72), obs(1500, 'spo2', 97)]);
    expect(changed.get('P1')).toEqual({ hr: { v: 72, ts: 2000, deviceId: 'wb-01', quality: 'good' }, spo2: { v: 97, ts: 1500, deviceId: 'wb-01', quality: 'good' } });
    // an older value does not replace a newer one
    expect(store.addRecords([obs(1800, 'hr', 60)]).size).toBe(0);
    expect(store.latest('P1').hr?.v).toBe(72);
  });

  it('ignores invalid values and metrics it does not show; remembers unassigned devices', () => {
    const store = new WardStore();
    store.addRecords([obs(1000, 'hr', 0, { quality: 'invalid' }), obs(1000, 'battery', 50), obs(5000, 'hr', 80, { deviceId: 'wb-09', patientId: undefined })]);
    expect(store.latest('P1')).toEqual({});
    expect(store.unassignedDevices()).toEqual([{ deviceId: 'wb-09', lastSeen: 5000 }]);
  });

  it('trends the charted vitals only; MAP, O2 and ACVPU keep their latest value', () => {
    const store = new WardStore();
    store.addRecords([obs(1000, 'sbp', 120), obs(1000, 'map', 93), obs(1000, 'o2', 1), obs(1000, 'acvpu', 0)]);
    expect(store.trend('P1', 'sbp', 0).map((p) => p.v)).toEqual([120]);
    for (const m of ['map', 'o2', 'acvpu'] as const) {
      expect(store.trend('P1', m, 0)).toEqual([]);
      expect(store.latest('P1')[m]?.ts).toBe(1000);
    }
    // a saved state that still holds a MAP trend (an earlier build kept one) restores without it
    const state = JSON.parse(JSON.stringify(store.snapshot())) as WardStoreState;
    const [, p1] = state.patients[0]!;
    const sbp = p1.trends.find(([m]) => m === 'sbp')!;
    p1.trends.push(['map', sbp[1]]);
    const back = new WardStore();
    back.restore(state);
    expect(back.trend('P1', 'map', 0)).toEqual([]);
    expect(back.trend('P1', 'sbp', 0).map((p) => p.v)).toEqual([120]);
    expect(JSON.stringify(back.snapshot())).not.toContain('"map",{"recent"');
  });

  it('buckets trends with mean, low and high, and forgets points past the horizon', () => {
    const store = new WardStore({ bucketMs: 10_000, horizonMs: 60_000 });
    store.addRecords([obs(0, 'spo2', 96), obs(4000, 'spo2', 90), obs(9999, 'spo2', 93), obs(10_000, 'spo2', 88)]);
    expect(store.trend('P1', 'spo2', 0)).toEqual([{ t: 0, v: 93, lo: 90, hi: 96, n: 3 }, { t: 10_000, v: 88, lo: 88, hi: 88, n: 1 }]);
    store.addRecords([obs(75_000, 'spo2', 95)]);
    expect(store.trend('P1', 'spo2', 0).map((p) => p.t)).toEqual([10_000, 70_000]); // exactly 60 s back: kept
    store.addRecords([obs(85_000, 'spo2', 94)]);
    expect(store.trend('P1', 'spo2', 0).map((p) => p.t)).toEqual([70_000, 80_000]);
    expect(store.trend('P1', 'spo2', 75_000).map((p) => p.v)).toEqual([94]);
  });

  it('draws late data (a device buffer sent after a gap) in its own bucket, and a clock running ahead at its receive time', () => {
    const store = new WardStore({ bucketMs: 10_000, horizonMs: 600_000 });
    store.addRecords([obs(100_000, 'spo2', 97), obs(110_000, 'spo2', 96)]);
    store.addRecords([obs(40_000, 'spo2', 80, { rt: 111_000 }), obs(45_000, 'spo2', 82, { rt: 111_000 })]);
    expect(store.trend('P1', 'spo2', 0)).toEqual([{ t: 40_000, v: 81, lo: 80, hi: 82, n: 2 }, { t: 100_000, v: 97, lo: 97, hi: 97, n: 1 }, { t: 110_000, v: 96, lo: 96, hi: 96, n: 1 }]);
    expect(store.latest('P1').spo2?.v).toBe(96); // late data is not the latest value
    // stamped 55 s ahead: at its receive time, so the trend and the value's age stay true
    store.addRecords([obs(175_000, 'spo2', 95, { rt: 120_000 }), obs(121_000, 'spo2', 94)]);
    expect(store.trend('P1', 'spo2', 115_000)).toEqual([{ t: 120_000, v: 94.5, lo: 94, hi: 95, n: 2 }]);
    expect(store.latest('P1').spo2).toMatchObject({ v: 94, ts: 121_000 });
  });

  it('takes as the latest value what came last, aged from its receive time, when the device clock runs behind or steps back', () => {
    const store = new WardStore({ bucketMs: 10_000, horizonMs: 600_000, lateReadingMs: 60_000 });
    store.addRecords([obs(100_000, 'spo2', 97)]);
    // the device clock steps back 50 s: the value it sends now is the latest, as the detectors take it
    store.addRecords([obs(51_000, 'spo2', 70, { rt: 101_000 })]);
    expect(store.latest('P1').spo2).toMatchObject({ v: 70, ts: 101_000 });
    // 45 s behind: not stale for being measured "45 s ago"
    store.addRecords([obs(57_000, 'spo2', 71, { rt: 102_000 })]);
    expect(store.latest('P1').spo2).toMatchObject({ v: 71, ts: 102_000 });
    // the trend draws each at its own time
    expect(store.trend('P1', 'spo2', 0).map((p) => p.t)).toEqual([50_000, 100_000]);
    // history (more than lateReadingMs late) still does not replace it
    store.addRecords([obs(30_000, 'spo2', 99, { rt: 103_000 })]);
    expect(store.latest('P1').spo2).toMatchObject({ v: 71, ts: 102_000 });
  });

  it('keeps NEWS2 and alarm histories, and what each active alarm was raised for', () => {
    const store = new WardStore();
    store.addNews2({ type: 'news2', ts: 1000, patientId: 'P1', score: 3, band: 'low-medium', complete: false, missing: ['sbp'], parts: {}, spo2Scale: 1 });
    const t = (ts: number, state: AlarmTransition['state'], reason: string): AlarmTransition => ({ ts, id: 'P1:limit:spo2:low:1', kind: 'limit', priority: 'medium', state, reason, patientId: 'P1' });
    store.addAlarm(t(2000, 'raised', 'SpO2 below 90 %'));
    store.addAlarm(t(3000, 'acknowledged', 'acknowledged by nurse'));
    expect(store.news2History('P1', 0)).toEqual([{ ts: 1000, score: 3, band: 'low-medium', complete: false }]);
    expect(store.alarmHistory('P1', 2500).map((a) => a.state)).toEqual(['acknowledged']);
    expect(store.withConditions([{ id: 'P1:limit:spo2:low:1', reason: 'acknowledged by nurse' }])[0]!.condition).toBe('SpO2 below 90 %');
    store.addAlarm(t(4000, 'resolved', 'over'));
    expect(store.withConditions([{ id: 'P1:limit:spo2:low:1', reason: 'x' }])[0]!.condition).toBe('x');
  });

  it('drops discharged patients', () => {
    const store = new WardStore();
    store.addRecords([obs(1000, 'hr', 70), obs(1000, 'hr', 70, { patientId: 'P2' })]);
    store.retain(new Set(['P2']));
    expect(store.latest('P1')).toEqual({});
    expect(store.latest('P2').hr?.v).toBe(70);
  });
});

describe('WardStore saved with its arrays as blobs', () => {
  /** A store with two patients' trends over hours, NEWS2 changes and alarm transitions. */
  function filled(): WardStore {
    const store = new WardStore();
    const t0 = 1_800_000_000_000;
    for (let k = 0; k < 2_000; k++) {
      const ts = t0 + k * 7_000;
      store.addRecords([obs(ts, 'hr', 60 + (k % 37)), obs(ts, 'spo2', 90 + (k % 9), { patientId: 'P2' }), obs(ts, 'temp', 36 + (k % 20) / 10)]);
      if (k % 13 === 0) store.addNews2({ type: 'news2', ts, patientId: k % 2 ? 'P1' : 'P2', score: k % 11, band: k % 3 ? 'low' : 'medium', complete: k % 5 !== 0, missing: [], parts: {}, spo2Scale: 1 });
      if (k % 97 === 0) store.addAlarm({ ts, id: `P1:limit:hr:high:${k}`, kind: 'limit', priority: 'high', state: 'raised', reason: `HR ${k}`, patientId: 'P1' });
    }
    return store;
  }
  /** What the station shows of both patients, as data (latest values are updated in place). */
  const view = (s: WardStore): unknown =>
    structuredClone(['P1', 'P2'].map((id) => ({ latest: s.latest(id), hr: s.trend(id, 'hr', 0), spo2: s.trend(id, 'spo2', 0), temp: s.trend(id, 'temp', 0), news2: s.news2History(id, 0), alarms: s.alarmHistory(id, 0) })));

  it('restores exactly what it showed, from JSON and the blobs, and the blobs are copies taken at the snapshot', () => {
    const store = filled();
    const before = view(store);
    const blobs = new BlobWriter();
    const json = JSON.stringify(store.snapshot(blobs));
    const bytes = Buffer.concat([...blobs.parts()]);
    // the store goes on after the snapshot; what was saved does not move with it
    store.addRecords([obs(1_800_000_000_000 + 2_000 * 7_000, 'hr', 200)]);
    store.addNews2({ type: 'news2', ts: 1_800_000_000_000 + 2_000 * 7_000, patientId: 'P1', score: 9, band: 'high', complete: true, missing: [], parts: {}, spo2Scale: 1 });
    expect(view(store)).not.toEqual(before);
    const back = new WardStore();
    back.restore(JSON.parse(json) as WardStoreState, new BlobReader(bytes));
    expect(view(back)).toEqual(before);
    // no base64 left in the JSON: the arrays are in the blobs
    expect(json.length).toBeLessThan(bytes.length);
  });

  it('still restores a state saved with the arrays inside the JSON', () => {
    const store = filled();
    const back = new WardStore();
    back.restore(JSON.parse(JSON.stringify(store.snapshot())) as WardStoreState);
    expect(view(back)).toEqual(view(store));
  });

  it('still restores a state whose alarm histories are lists in the JSON (state format 2)', () => {
    const store = filled();
    const blobs = new BlobWriter();
    const state = JSON.parse(JSON.stringify(store.snapshot(blobs))) as { patients: Array<[string, { alarms: unknown }]> };
    for (const [id, p] of state.patients) p.alarms = store.alarmHistory(id, 0);
    const back = new WardStore();
    back.restore(state as unknown as WardStoreState, new BlobReader(Buffer.concat([...blobs.parts()])));
    expect(store.alarmHistory('P1', 0)).toHaveLength(21);
    expect(view(back)).toEqual(view(store));
  });

  it('names the problem when the blobs are shorter than the state says', () => {
    const blobs = new BlobWriter();
    const state = JSON.parse(JSON.stringify(filled().snapshot(blobs))) as WardStoreState;
    const bytes = Buffer.concat([...blobs.parts()]);
    expect(() => new WardStore().restore(state, new BlobReader(bytes.subarray(0, bytes.length - 1)))).toThrow(/binary part, which holds/);
  });
});
