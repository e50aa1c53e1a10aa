/**
 * The JSON the ward view draws: every bed of every ward with its patient, latest vitals and their
 * times, the limits in force, each device's sensor state, NEWS2, a short trend, who looks after
 * the bed this shift, and the active alarms across the ward by priority, unacknowledged first,
 * then age.
 */
import type { Census } from '../census/census.js';
import type { LiveDetectors } from '../alarms/live.js';
import { sortAlarms } from '../alarms/routes.js';
import { LIMIT_METRICS, type DetectorConfig } from '../detectors/config.js';
import { limitsInForce } from '../detectors/limits.js';
import type { PatientSettings, WardAssignment } from '../core/types.js';
import { WARD_METRICS, type WardMetric, type WardStore } from './ward-store.js';

/** Metrics drawn as the tile's small trend line. */
export const SPARK_METRICS = ['spo2', 'hr', 'rr'] as const satisfies readonly WardMetric[];
/** How far back the tile's trend line reaches, ms. */
export const SPARK_MS = 30 * 60_000;
/**
 * Age in seconds after which each vital is shown as stale: continuous signals after
 * `continuousS` (`web.continuousStaleSeconds`); intermittent ones (cuff BP, temperature, ACVPU, oxygen) when NEWS2 stops
 * counting them (`detectors.news2.staleSeconds`).
 */
export function staleAfterSeconds(config: DetectorConfig, continuousS: number): Record<WardMetric, number> {
  const s = config.news2.staleSeconds;
  return { hr: continuousS, pr: continuousS, spo2: continuousS, rr: continuousS, temp: s.temp, sbp: s.sbp, dbp: s.sbp, map: s.sbp, o2: s.o2, acvpu: s.acvpu };
}

export interface WardViewDeps {
  readonly census: Census;
  readonly detectors: LiveDetectors;
  readonly store: WardStore;
  readonly staleSeconds: Record<WardMetric, number>;
  readonly clock: () => number;
  /** The detector settings: the limits in force come from them and the patient's settings. */
  readonly detectorConfig: DetectorConfig;
  /** The name shown for a station account. */
  readonly nameOf: (username: string) => string;
}

type Limits = { low: number | null; lowHigh: number | null; high: number | null; highHigh: number | null };

/**
 * The limits in force for a patient, by the rule the detectors use (`limitsInForce`: ward
 * defaults, the scale-2 SpO2 default, the patient's overrides), and which the patient overrides.
 */
export function effectiveLimits(config: DetectorConfig, settings: PatientSettings): Record<string, Limits & { overridden: string[] }> {
  return Object.fromEntries(
    LIMIT_METRICS.map((m) => {
      const l = limitsInForce(config, settings, m);
      return [m, { low: l.low, lowHigh: l.lowHigh, high: l.high, highHigh: l.highHigh, overridden: Object.keys(settings.limits?.[m] ?? {}) }];
    }),
  );
}

/** A ward's assignment with each person's shown name. */
function named(a: WardAssignment | undefined, nameOf: (u: string) => string) {
  const who = (u: string | undefined) => (u === undefined ? undefined : { username: u, name: nameOf(u) });
  return {
    ...(a?.charge !== undefined && { charge: who(a.charge) }),
    beds: Object.fromEntries(Object.entries(a?.beds ?? {}).map(([bed, b]) => [bed, { ...(b.nurse !== undefined && { nurse: who(b.nurse) }), ...(b.buddy !== undefined && { buddy: who(b.buddy) }) }])),
  };
}

/** The patient part of a bed tile. */
export function patientTile(deps: WardViewDeps, patientId: string, now: number) {
  const p = deps.census.patient(patientId);
  const news2 = deps.detectors.latestNews2(patientId);
  const since = now - SPARK_MS;
  return {
    id: patientId,
    ...(p?.name !== undefined ? { name: p.name } : {}),
    devices: p?.devices ?? [],
    settings: p?.settings ?? {},
    vitals: deps.store.latest(patientId),
    sensors: deps.store.sensors(patientId),
    limits: effectiveLimits(deps.detectorConfig, p?.settings ?? {}),
    news2: news2 ? { score: news2.score, band: news2.band, complete: news2.complete, missing: news2.missing, ts: news2.ts } : null,
    spark: Object.fromEntries(SPARK_METRICS.map((m) => [m, deps.store.trend(patientId, m, since).map((x) => [x.t, Math.round(x.v * 10) / 10])])),
  };
}

/** The whole ward view. */
export function wardSnapshot(deps: WardViewDeps) {
  const now = deps.clock();
  const census = deps.census.snapshot();
  const byBed = new Map(census.patients.map((p) => [`${p.ward}/${p.bed}`, p]));
  const assignments = deps.detectors.assignments();
  return {
    now,
    metrics: WARD_METRICS,
    staleSeconds: deps.staleSeconds,
    sparkMs: SPARK_MS,
    wards: census.wards.map((w) => ({
      id: w.id,
      name: w.name ?? w.id,
      assignment: named(assignments.get(w.id), deps.nameOf),
      beds: w.beds.map((bed) => {
        const p = byBed.get(`${w.id}/${bed}`);
        return { bed, patient: p ? patientTile(deps, p.id, now) : null };
      }),
    })),
    alarms: deps.store.withConditions(sortAlarms(deps.detectors.activeAlarms())),
    unassignedDevices: deps.store.unassignedDevices(),
  };
}
