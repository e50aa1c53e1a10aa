import { describe, expect, it } from 'vitest';
import { fillLogs, fillTrends } from '../../../src/bench/fill-ward.js';
import { benchPatientId } from '../../../src/bench/latency.js';
import { TRENDED_METRICS, WardStore } from '../../../src/web/ward-store.js';

describe('a ward filled for the benchmark', () => {
  it('holds every trended vital and the logs at the counts asked, for the benchmark patients, within the horizon', () => {
    const store = new WardStore({ maxNews2: 50, maxAlarms: 10 });
    const end = Date.UTC(2026, 10, 30, 12);
    fillTrends(store, 3, end);
    fillLogs(store, 3, 50, 10, end);
    for (let i = 0; i < 3; i++) {
      const id = benchPatientId(i);
      for (const m of TRENDED_METRICS) expect(store.trend(id, m, 0).map((p) => p.t).at(-1)).toBe(end - (end % store.bucketMs));
      const news2 = store.news2History(id, 0);
      const alarms = store.alarmHistory(id, 0);
      expect([news2.length, alarms.length]).toEqual([50, 10]);
      for (const t of [...news2, ...alarms].map((x) => x.ts)) {
        expect(Number.isInteger(t)).toBe(true);
        expect(t).toBeGreaterThan(end - store.horizonMs);
        expect(t).toBeLessThan(end);
      }
      expect(alarms.every((a) => a.patientId === id && a.id.startsWith(`${id}:`))).toBe(true);
    }
    expect(store.news2History(benchPatientId(3), 0)).toEqual([]);
  });
});
