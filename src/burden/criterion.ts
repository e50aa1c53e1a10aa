/**
 * When a true event became alarm-worthy: the first device time, at or after its onset, at which
 * the scenario's noise-free values met one of Vigil's alarm criteria covering it: the event's
 * metric beyond a limit of the detector config, or the NEWS2 score of the measured parameters in a
 * band that raises an alarm (`news2.bandPriority`).
 *
 * A true event's onset is where the scenario says the condition starts (e.g. the NEWS2 one-point
 * edge for a fever), which can lie well inside the alarm limits; from onset to this time the
 * patient is getting worse, not being missed. The time from here to the alarm is the detectors'
 * own latency, which their delays and smoothing bound.
 */
import type { PatientModel } from '../../firmware-sim/physiology.js';
import type { Param } from '../../firmware-sim/trend.js';
import { LIMIT_METRICS, type DetectorConfig, type LimitMetric } from '../detectors/config.js';
import { scoreNews2, type News2Inputs } from '../detectors/news2-score.js';

/** What made the event alarm-worthy. */
export interface Criterion {
  /** Device seconds since the start of the run. */
  readonly atS: number;
  /** `limit` when the event's own metric was beyond a limit, else `news2`. */
  readonly by: 'limit' | 'news2';
}

/**
 * @param metric the event's metric, if any
 * @param fromS onset, device seconds
 * @param untilS end of the event or of the run, device seconds
 * @param cuff whether systolic pressure is measured (NEWS2 scores only what is measured)
 * @returns null when no criterion is met before `untilS`
 */
export function alarmCriterion(patient: PatientModel, config: DetectorConfig, metric: string | undefined, fromS: number, untilS: number, cuff: boolean): Criterion | null {
  const scale = patient.timeScale;
  const trend = patient.scenario.trend;
  const value = (p: Param, t: number): number => trend.value(p, t * scale);
  const limitMetric: LimitMetric | undefined = metric !== undefined && (LIMIT_METRICS as readonly string[]).includes(metric) ? (metric as LimitMetric) : undefined;
  const param: Param | undefined = limitMetric === 'pr' ? 'hr' : (limitMetric as Param | undefined);
  for (let t = fromS; t <= untilS; t += 1) {
    if (limitMetric !== undefined && param !== undefined && beyond(config, limitMetric, value(param, t))) return { atS: t, by: 'limit' };
    const inputs: News2Inputs = { rr: value('rr', t), spo2: value('spo2', t), pulse: value('hr', t), temp: value('temp', t), ...(cuff && { sbp: value('sbp', t) }) };
    const band = scoreNews2(inputs, 1).band;
    if (band !== 'none' && config.news2.bandPriority[band] !== null) return { atS: t, by: 'news2' };
  }
  return null;
}

/** Strictly beyond any limit of the metric, as Vigil's limit detector reads them. */
function beyond(config: DetectorConfig, metric: LimitMetric, v: number): boolean {
  const l = config.limits[metric];
  return [l.low, l.lowHigh].some((x) => x !== null && v < x) || [l.high, l.highHigh].some((x) => x !== null && v > x);
}
