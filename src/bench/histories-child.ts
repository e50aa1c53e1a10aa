/**
 * Run by the histories phase as `node --expose-gc histories-child.js PATIENTS NEWS2 ALARMS`:
 * fills a ward store as the station's would be after its whole horizon (6 h) at PATIENTS
 * patients — every vital's trend, then NEWS2 changes and alarm transitions per patient — and
 * prints what each costs in memory (heap and typed arrays) as one JSON line.
 */
import type { AlarmTransition, SpoolRecord } from '../core/types.js';
import { WardStore } from '../web/ward-store.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
/**
 * Memory once what is dropped is freed: the bytes of an array buffer found dead go back after
 * the collection, in the background, so it collects again once that had a moment.
 */
async function settled(): Promise<NodeJS.MemoryUsage> {
  gc!();
  await new Promise((r) => setTimeout(r, 200));
  gc!();
  return process.memoryUsage();
}
const [patients, news2, alarms] = process.argv.slice(2).map(Number) as [number, number, number];
const BANDS = ['none', 'low', 'low-medium', 'medium', 'high'] as const;
const STATES = ['raised', 'acknowledged', 'resolved'] as const;
const patientOf = (i: number): string => `P-${String(i).padStart(5, '0')}`;

const before = await settled();
const store = new WardStore();
const end = Date.now();
const start = end - store.horizonMs;
for (let i = 0; i < patients; i++) {
  const patientId = patientOf(i);
  const m = (ts: number): SpoolRecord => ({
    t: 'msg',
    m: { ts, deviceId: `W-${i}`, patientId, ward: 'W1', bed: String(i), v: { hr: 80, pr: 80, spo2: 96, rr: 16, temp: 37, sbp: 120, dbp: 80, map: 93, o2: 0, acvpu: 0 } },
  });
  // trends are fixed-size rings, whole from their first value: the first and last value of the horizon fill them
  store.addRecords([m(start), m(end)]);
}
const trends = await settled();
for (let i = 0; i < patients; i++) {
  const patientId = patientOf(i);
  for (let k = 0; k < news2; k++) store.addNews2({ type: 'news2', patientId, ts: start + Math.round(((k + 1) * store.horizonMs) / (news2 + 1)), score: k % 9, band: BANDS[k % 5]!, complete: true, missing: [], parts: {}, spo2Scale: 1 });
  for (let k = 0; k < alarms; k++) {
    const a: AlarmTransition = {
      ts: start + Math.round(((k + 1) * store.horizonMs) / (alarms + 1)), id: `${patientId}:limit:spo2:low:${Math.floor(k / 3)}`, kind: 'limit', priority: 'high', state: STATES[k % 3]!,
      metric: 'spo2', deviceId: `W-${i}`, reason: `SpO2 ${85 + (k % 5)} % below the low limit of 90 % for 15 s`, patientId, ward: 'W1', bed: String(i), value: 85 + (k % 5),
      ...(k % 3 === 1 ? { by: 'nurse.kim' } : {}),
    };
    store.addAlarm(a);
  }
}
const after = await settled();
const MB = 1048576;
process.stdout.write(
  `${JSON.stringify({
    patients, news2, alarms,
    trendsMB: (trends.heapUsed + trends.external - before.heapUsed - before.external) / MB,
    logsMB: (after.heapUsed + after.external - trends.heapUsed - trends.external) / MB,
    kept: store.news2History('P-00000', 0).length + store.alarmHistory('P-00000', 0).length,
  })}\n`,
);
