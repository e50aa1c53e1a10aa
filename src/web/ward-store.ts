/**
 * What the nurse station shows, kept in memory: each patient's latest value of every vital with
 * its time, a trend of the last hours (one point per `bucketMs`), the NEWS2 history and the
 * alarm history. Fed from ingest's durable records and the detectors' outputs, so it shows
 * exactly what is stored and scored; saved and restored with the detectors' state, so a restart
 * brings it back as it was. InfluxDB keeps the long record.
 */
import type { AlarmTransition, DeviceMessage, MetricName, Observation, SpoolRecord } from '../core/types.js';
import type { News2Event } from '../detectors/news2.js';
import { NO_BLOBS, type BlobReader, type BlobWriter } from '../core/blobs.js';
import { DeferredList, type Deferring } from '../core/json-stream.js';
import { AlarmLog, News2Log, type AlarmLogState, type News2LogState, type News2Point } from './history-log.js';
import { Trends, TrendShapes, type TrendPoint, type TrendRingState } from './trend-ring.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Metrics the station shows and keeps trends of. */
export const WARD_METRICS = ['hr', 'pr', 'spo2', 'rr', 'temp', 'sbp', 'dbp', 'map', 'o2', 'acvpu'] as const satisfies readonly MetricName[];
export type WardMetric = (typeof WARD_METRICS)[number];
const SHOWN: ReadonlySet<string> = new Set(WARD_METRICS);
/**
 * The vitals the patient view charts, and so trends. MAP, O₂ and ACVPU are shown as their
 * latest values only: a trend of each would cost a tenth of all trend memory (25 MB at 5,000
 * patients) and never be drawn.
 */
export const TRENDED_METRICS = ['hr', 'pr', 'spo2', 'rr', 'temp', 'sbp', 'dbp'] as const satisfies readonly WardMetric[];
/** A trended vital's number among a patient's `Trends`. */
const TREND_NUMBER: ReadonlyMap<WardMetric, number> = new Map(TRENDED_METRICS.map((m, k) => [m, k]));

/** A vital's newest value. */
export interface LatestValue {
  readonly v: number;
  /** epoch ms */
  readonly ts: number;
  readonly deviceId: string;
  readonly quality: string;
}

export type { TrendPoint } from './trend-ring.js';

/** A device's sensor as it last reported it, when not `ok`. */
export interface SensorState {
  readonly state: 'off' | 'poor' | 'pulse_lost';
  /** epoch ms */
  readonly ts: number;
}

const SENSOR_STATES: Readonly<Record<string, SensorState['state'] | 'ok'>> = { sensor_off: 'off', sensor_poor: 'poor', pulse_lost: 'pulse_lost', sensor_ok: 'ok' };

/** One NEWS2 score as it changed. */
export type { News2Point } from './history-log.js';

export interface WardStoreOptions {
  /** Trend resolution of the recent part, ms (default 10 s). */
  readonly bucketMs?: number;
  /** How far back the recent part reaches, ms (default 30 min: the tiles' trend line). */
  readonly recentMs?: number;
  /** Trend resolution further back, ms (default 2 min). */
  readonly olderBucketMs?: number;
  /** How far back trends and histories reach, ms (default 6 h). */
  readonly horizonMs?: number;
  /** Most alarm transitions kept per patient (default 100: three times the busiest simulated patient over 6 h). */
  readonly maxAlarms?: number;
  /** Most NEWS2 changes kept per patient (default 1000). */
  readonly maxNews2?: number;
  /** A reading received more than this after its own time is history (the detectors' `lateReadingSeconds`), ms (default 60 s). */
  readonly lateReadingMs?: number;
}

interface PatientData {
  latest: Map<WardMetric, LatestValue>;
  /** Each trended vital's trend: the recent part finely, the rest of the horizon coarsely (each a fixed-size ring). */
  trends: Trends;
  news2: News2Log;
  alarms: AlarmLog;
  /** Device → its sensor state, while not ok. */
  sensors: Map<string, SensorState>;
}

/** Everything a ward store holds, as JSON data (see `snapshot`). */
export interface WardStoreState {
  readonly patients: ReadonlyArray<readonly [string, { latest: Array<[WardMetric, LatestValue]>; trends: Array<[WardMetric, { recent: TrendRingState; older?: TrendRingState }]>; news2: News2LogState; alarms: AlarmLogState; sensors?: Array<[string, SensorState]> }]>;
  readonly unassigned: ReadonlyArray<readonly [string, number]>;
  readonly conditions: ReadonlyArray<readonly [string, string]>;
}

/** A store with nothing in it. */
export const EMPTY_WARD: WardStoreState = { patients: [], unassigned: [], conditions: [] };

/** Most NEWS2 changes and alarm transitions a patient's logs keep, unless told otherwise. */
export const DEFAULT_MAX_NEWS2 = 1000;
export const DEFAULT_MAX_ALARMS = 100;

export class WardStore {
  private readonly patients = new Map<string, PatientData>();
  private readonly unassigned = new Map<string, number>();
  /** Alarm id → the reason it was raised for (later transitions replace the alarm's own reason). */
  private readonly conditions = new Map<string, string>();
  readonly bucketMs: number;
  readonly horizonMs: number;
  private readonly shapes: TrendShapes;
  private readonly maxAlarms: number;
  private readonly maxNews2: number;
  private readonly lateReadingMs: number;

  constructor(opts: WardStoreOptions = {}) {
    this.bucketMs = opts.bucketMs ?? 10_000;
    this.horizonMs = opts.horizonMs ?? 6 * 3600_000;
    const recentMs = Math.min(opts.recentMs ?? 30 * 60_000, this.horizonMs);
    // a bucket exactly `span` back is still in
    const recent = { bucketMs: this.bucketMs, slots: Math.floor(recentMs / this.bucketMs) + 1 };
    const olderBucketMs = opts.olderBucketMs ?? 120_000;
    this.shapes = new TrendShapes(this.horizonMs > recentMs ? [recent, { bucketMs: olderBucketMs, slots: Math.floor(this.horizonMs / olderBucketMs) + 1 }] : [recent]);
    this.maxAlarms = opts.maxAlarms ?? DEFAULT_MAX_ALARMS;
    this.maxNews2 = opts.maxNews2 ?? DEFAULT_MAX_NEWS2;
    this.lateReadingMs = opts.lateReadingMs ?? 60_000;
  }

  private readonly changed = new Map<string, Partial<Record<WardMetric, LatestValue>>>();

  /**
   * Takes durable records from ingest.
   * @returns the patients whose latest values changed, with those values: one map, cleared and
   *   filled again by the next call (this is called for every device message).
   */
  addRecords(records: readonly SpoolRecord[]): ReadonlyMap<string, Partial<Record<WardMetric, LatestValue>>> {
    const changed = this.changed;
    changed.clear();
    for (const r of records) {
      if (r.t === 'tech') this.sensorEvent(r.e.patientId, r.e.deviceId, r.e.kind, r.e.ts);
      else if (r.t === 'msg') {
        const { m } = r;
        for (const metric in m.v) this.value(m, metric as MetricName, m.v[metric as MetricName]!, m.q?.[metric as MetricName] ?? 'good', changed);
      } else if (r.t === 'obs') this.value(r.o, r.o.metric, r.o.value, r.o.quality, changed);
    }
    return changed;
  }

  /** One value of a device message (or an observation), into the latest values and the trends. */
  private value(o: DeviceMessage | Observation, metric: MetricName, v: number, quality: string, changed: Map<string, Partial<Record<WardMetric, LatestValue>>>): void {
    if (o.patientId === undefined) {
      this.unassigned.set(o.deviceId, Math.max(o.ts, this.unassigned.get(o.deviceId) ?? 0));
      return;
    }
    this.unassigned.delete(o.deviceId);
    if (!SHOWN.has(metric) || quality === 'invalid') return;
    const m = metric as WardMetric;
    const p = this.data(o.patientId);
    const prev = p.latest.get(m);
    // drawn at the device's time, but never later than the gateway received it: a device clock
    // that runs ahead must not push a patient's trend into the future
    const ts = Math.min(o.ts, o.rt ?? o.ts);
    // The latest value is what came last on the gateway's time line, aged from when it came, as
    // the detectors take it: a device clock that stepped back, or runs a little behind, must not
    // hold the tile on an older value, or show as stale a value that is alarming. History (a
    // buffer sent late) goes to the trend only.
    const at = o.rt ?? o.ts;
    if (at - o.ts <= this.lateReadingMs && (prev === undefined || at >= prev.ts)) {
      // Updated in place: a value replaced every second would live just long enough to reach the
      // old generation of the heap and be garbage there (at 5,000 devices, tens of MB a minute).
      let value: Mutable<LatestValue>;
      if (prev === undefined) p.latest.set(m, (value = { v, ts: at, deviceId: o.deviceId, quality }));
      else {
        value = prev as Mutable<LatestValue>;
        value.v = v;
        value.ts = at;
        value.deviceId = o.deviceId;
        value.quality = quality;
      }
      const c = changed.get(o.patientId) ?? {};
      c[m] = value;
      changed.set(o.patientId, c);
    }
    const k = TREND_NUMBER.get(m);
    if (k !== undefined) p.trends.add(k, ts, v);
  }

  addNews2(e: News2Event): void {
    const p = this.data(e.patientId);
    p.news2.push(e);
    p.news2.dropBefore(e.ts - this.horizonMs);
  }

  addAlarm(a: AlarmTransition): void {
    // what the alarm was raised for, or restated for (a limit changed: the manager's `restate`,
    // an escalated alarm's without an escalation step)
    if (a.state === 'raised' || (a.state === 'escalated' && a.escalation === undefined)) this.conditions.set(a.id, a.reason);
    else if (a.state === 'resolved') this.conditions.delete(a.id);
    if (a.patientId === undefined) return;
    const p = this.data(a.patientId);
    p.alarms.push(a);
    p.alarms.dropBefore(a.ts - this.horizonMs);
  }

  /** Adds `condition`, what each alarm was raised for, to active alarms. */
  withConditions<T extends { id: string; reason: string }>(alarms: readonly T[]): Array<T & { condition: string }> {
    return alarms.map((a) => ({ ...a, condition: this.conditions.get(a.id) ?? a.reason }));
  }

  /** Newest value of each vital. */
  latest(patientId: string): Partial<Record<WardMetric, LatestValue>> {
    return Object.fromEntries(this.patients.get(patientId)?.latest ?? []);
  }

  /** Each device of the patient whose sensor is off, poor or has lost the pulse, with since when. */
  sensors(patientId: string): Record<string, SensorState> {
    return Object.fromEntries(this.patients.get(patientId)?.sensors ?? []);
  }

  /**
   * Trend points of one vital since `sinceTs` (epoch ms), oldest first: coarse buckets up to the
   * recent part, then its fine ones.
   */
  trend(patientId: string, metric: WardMetric, sinceTs: number): TrendPoint[] {
    const k = TREND_NUMBER.get(metric);
    return (k !== undefined && this.patients.get(patientId)?.trends.points(k, sinceTs)) || [];
  }

  news2History(patientId: string, sinceTs: number): News2Point[] {
    return this.patients.get(patientId)?.news2.since(sinceTs) ?? [];
  }

  alarmHistory(patientId: string, sinceTs: number): AlarmTransition[] {
    return this.patients.get(patientId)?.alarms.since(sinceTs) ?? [];
  }

  /** Devices sending data without being assigned to a patient, with when they were last heard (epoch ms). */
  unassignedDevices(): Array<{ deviceId: string; lastSeen: number }> {
    return [...this.unassigned].map(([deviceId, lastSeen]) => ({ deviceId, lastSeen })).sort((a, b) => a.deviceId.localeCompare(b.deviceId));
  }

  /**
   * The whole store as JSON data: what a restart brings back with `restore`. With `blobs`, the
   * trends, NEWS2 and alarm logs put their bytes there rather than into the data. The patients are
   * made one at a time as they are written (`core/json-stream.ts`), so written at once.
   */
  snapshot(blobs?: BlobWriter): Deferring<WardStoreState> {
    return {
      patients: new DeferredList(() => this.patientStates(blobs)),
      unassigned: [...this.unassigned],
      conditions: [...this.conditions],
    };
  }

  private *patientStates(blobs?: BlobWriter): Generator<WardStoreState['patients'][number]> {
    for (const [id, p] of this.patients) {
      const trends = p.trends.snapshot(blobs);
      yield [
        id,
        {
          // copies: latest values are updated in place
          latest: [...p.latest].map(([m, v]) => [m, { ...v }]),
          trends: TRENDED_METRICS.flatMap((m, k) => {
            const [recent, older] = trends[k] ?? [];
            return recent ? [[m, { recent, ...(older && { older }) }] as [WardMetric, { recent: TrendRingState; older?: TrendRingState }]] : [];
          }),
          news2: p.news2.snapshot(blobs),
          alarms: p.alarms.snapshot(blobs),
          sensors: [...p.sensors],
        },
      ];
    }
  }

  restore(s: WardStoreState, blobs: BlobReader = NO_BLOBS): void {
    this.patients.clear();
    this.unassigned.clear();
    this.conditions.clear();
    for (const [id, p] of s.patients) {
      const trends = new Trends(this.shapes);
      for (const [m, t] of p.trends) {
        const k = TREND_NUMBER.get(m);
        // a state from a build that trended more vitals: those trends are no longer kept
        if (k !== undefined) trends.load(k, [t.recent, t.older], blobs);
      }
      this.patients.set(id, { latest: new Map(p.latest), trends, news2: News2Log.restore(p.news2, this.maxNews2, blobs), alarms: AlarmLog.restore(p.alarms, this.maxAlarms, blobs, id), sensors: new Map(p.sensors ?? []) });
    }
    for (const [d, t] of s.unassigned) this.unassigned.set(d, t);
    for (const [id, r] of s.conditions) this.conditions.set(id, r);
  }

  /** Drops the data of patients no longer admitted. */
  retain(patientIds: ReadonlySet<string>): void {
    for (const id of this.patients.keys()) if (!patientIds.has(id)) this.patients.delete(id);
  }

  private data(patientId: string): PatientData {
    let p = this.patients.get(patientId);
    if (!p) {
      p = { latest: new Map(), trends: new Trends(this.shapes), news2: new News2Log(this.maxNews2), alarms: new AlarmLog(this.maxAlarms, patientId), sensors: new Map() };
      this.patients.set(patientId, p);
    }
    return p;
  }

  private sensorEvent(patientId: string | undefined, deviceId: string, kind: string, ts: number): void {
    const state = SENSOR_STATES[kind];
    if (patientId === undefined || state === undefined) return;
    const sensors = this.data(patientId).sensors;
    if (state === 'ok') sensors.delete(deviceId);
    else if (sensors.get(deviceId)?.state !== state) sensors.set(deviceId, { state, ts });
  }
}
