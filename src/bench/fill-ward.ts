/**
 * A ward store filled as the station's would be after its whole horizon (6 h) at N patients, the
 * benchmark's own (ids, devices, wards and beds as the load and its gateway config name them):
 * every trended vital's trend, then NEWS2 changes and alarm transitions per patient, spread
 * evenly over the horizon up to `end`.
 */
import type { AlarmTransition, SpoolRecord } from '../core/types.js';
import type { WardStore } from '../web/ward-store.js';
import { benchWardId } from './config.js';
import { benchPatientId } from './latency.js';
import { benchDeviceId } from './protocol.js';

const BANDS = ['none', 'low', 'low-medium', 'medium', 'high'] as const;
const STATES = ['raised', 'acknowledged', 'resolved'] as const;

/** Gives each of `patients` patients a value of every vital at the start and the end of the horizon: each vital's trend is then whole (its rings are fixed-size from the first value). */
export function fillTrends(store: WardStore, patients: number, end: number): void {
  const start = end - store.horizonMs;
  for (let i = 0; i < patients; i++) {
    const place = { deviceId: benchDeviceId(i), patientId: benchPatientId(i), ward: benchWardId(i), bed: String(i) };
    const m = (ts: number): SpoolRecord => ({ t: 'msg', m: { ts, ...place, v: { hr: 80, pr: 80, spo2: 96, rr: 16, temp: 37, sbp: 120, dbp: 80, map: 93, o2: 0, acvpu: 0 } } });
    store.addRecords([m(start), m(end)]);
  }
}

/** Gives each patient `news2` NEWS2 changes and `alarms` alarm transitions, spread over the horizon up to `end` (whole ms, as real times are). */
export function fillLogs(store: WardStore, patients: number, news2: number, alarms: number, end: number): void {
  const start = end - store.horizonMs;
  const at = (k: number, n: number): number => start + Math.round(((k + 1) * store.horizonMs) / (n + 1));
  for (let i = 0; i < patients; i++) {
    const patientId = benchPatientId(i);
    const deviceId = benchDeviceId(i);
    for (let k = 0; k < news2; k++) store.addNews2({ type: 'news2', patientId, ts: at(k, news2), score: k % 9, band: BANDS[k % 5]!, complete: true, missing: [], parts: {}, spo2Scale: 1 });
    for (let k = 0; k < alarms; k++) {
      const a: AlarmTransition = {
        ts: at(k, alarms), id: `${patientId}:limit:spo2:low:${Math.floor(k / 3)}`, kind: 'limit', priority: 'high', state: STATES[k % 3]!,
        reason: `SpO2 ${85 + (k % 5)} % below the low limit of 90 % for 15 s`, patientId, ward: benchWardId(i), bed: String(i), metric: 'spo2', deviceId,
        ...(k % 3 === 1 ? { by: 'nurse.kim' } : {}), value: 85 + (k % 5),
      };
      store.addAlarm(a);
    }
  }
}
