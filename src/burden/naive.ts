/**
 * A naive threshold alarm, the baseline Vigil's alarm burden is compared against: the limits of
 * the detector config (the same ward defaults and per-patient overrides Vigil uses), with none of
 * Vigil's mitigations. No persistence delay, no hysteresis, no clear delay, no quality gating, no
 * flap hold: each time a value crosses from inside a limit to outside it, that is a new alarm.
 *
 * Like Vigil's limit detector, a breach is strictly beyond the limit (`< low`, `> high`), each
 * limit level is watched on its own, and `low`/`high` are medium priority while
 * `lowHigh`/`highHigh` are high priority (see detectors/config.ts). Values of any quality count.
 */
import type { AlarmPriority, MetricName, Observation, PatientSettings } from '../core/types.js';
import { LIMIT_METRICS, type DetectorConfig, type LimitMetric } from '../detectors/config.js';
import type { PipelineInput } from '../alarms/pipeline.js';

type Level = 'low' | 'lowHigh' | 'high' | 'highHigh';
const LEVELS: readonly Level[] = ['lowHigh', 'low', 'high', 'highHigh'];
const PRIORITY: Record<Level, AlarmPriority> = { low: 'medium', lowHigh: 'high', high: 'medium', highHigh: 'high' };

/** One naive alarm: from the first value outside a limit to the first value back inside. */
export interface NaiveAlarm {
  readonly patientId: string;
  readonly metric: LimitMetric;
  readonly level: Level;
  readonly priority: AlarmPriority;
  readonly limit: number;
  /** epoch ms of the value that crossed the limit */
  readonly raisedAt: number;
  /** epoch ms of the first value back inside, while it lasted within the run */
  endAt?: number;
}

function isLimitMetric(m: MetricName): m is LimitMetric {
  return (LIMIT_METRICS as readonly string[]).includes(m);
}

export class NaiveThreshold {
  /** every alarm raised, in order */
  readonly alarms: NaiveAlarm[] = [];
  private readonly open = new Map<string, NaiveAlarm>();
  private readonly settings = new Map<string, PatientSettings>();

  constructor(private readonly config: DetectorConfig) {}

  /** Takes one pipeline input; returns the alarms it raised. */
  push(input: PipelineInput): NaiveAlarm[] {
    // settings are given in full, as the detectors take them
    if (input.type === 'settings') {
      this.settings.set(input.event.patientId, input.event.settings);
      return [];
    }
    if (input.type === 'census') {
      if (input.patient) this.settings.set(input.patientId, input.patient.settings);
      else this.settings.delete(input.patientId);
      return [];
    }
    if (input.type === 'obs') return this.value(input.obs);
    if (input.type === 'reading') return input.obs.flatMap((o) => this.value(o));
    return [];
  }

  /** One value against each limit level. */
  private value(o: Observation): NaiveAlarm[] {
    if (o.patientId === undefined || !isLimitMetric(o.metric)) return [];
    const raised: NaiveAlarm[] = [];
    for (const level of LEVELS) {
      const limit = this.limit(o.patientId, o.metric, level);
      const key = `${o.patientId}|${o.metric}|${level}`;
      const current = this.open.get(key);
      const outside = limit !== null && (level === 'low' || level === 'lowHigh' ? o.value < limit : o.value > limit);
      if (outside && !current) {
        const a: NaiveAlarm = { patientId: o.patientId, metric: o.metric, level, priority: PRIORITY[level], limit: limit!, raisedAt: o.ts };
        this.open.set(key, a);
        this.alarms.push(a);
        raised.push(a);
      } else if (!outside && current) {
        current.endAt = o.ts;
        this.open.delete(key);
      }
    }
    return raised;
  }

  /** The limit in force, as Vigil's limit detector chooses it (ward default, scale 2, override). */
  private limit(patientId: string, metric: LimitMetric, level: Level): number | null {
    const s = this.settings.get(patientId) ?? {};
    const override = s.limits?.[metric]?.[level];
    if (override !== undefined) return override;
    if (level === 'low' && metric === 'spo2' && s.spo2Scale === 2) return this.config.spo2Scale2Low;
    return this.config.limits[metric][level];
  }
}
