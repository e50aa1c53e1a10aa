/**
 * Detector and alarm settings: the `detectors:` section of the gateway's YAML config, and what
 * `vigil replay --config FILE` reads. Every default lives in the schema, next to its source.
 *
 * Limit semantics: a value is in breach when it is strictly below a low limit or strictly above a
 * high limit. `low`/`high` raise medium-priority alarms, `lowHigh`/`highHigh` (the more extreme
 * pair) raise high-priority ones. `null` switches a limit off.
 */
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { NOTIFY_CHANNELS } from '../core/types.js';

const seconds = z.number().nonnegative();
const priority = z.enum(['high', 'medium', 'low']);

interface LimitDefaults {
  low: number | null;
  lowHigh: number | null;
  high: number | null;
  highHigh: number | null;
  /** s */
  delaySeconds: number;
  /** s */
  clearDelaySeconds: number;
  /** metric's unit */
  hysteresis: number;
}

function metricLimits(d: LimitDefaults) {
  return z
    .strictObject({
      /** Medium-priority low limit, in the metric's unit. */
      low: z.number().nullable().default(d.low),
      /** High-priority low limit. */
      lowHigh: z.number().nullable().default(d.lowHigh),
      /** Medium-priority high limit. */
      high: z.number().nullable().default(d.high),
      /** High-priority high limit. */
      highHigh: z.number().nullable().default(d.highHigh),
      /** A breach must persist this long (s) before an alarm is raised. */
      delaySeconds: seconds.default(d.delaySeconds),
      /** The value must stay recovered this long (s) before the condition clears. */
      clearDelaySeconds: seconds.default(d.clearDelaySeconds),
      /** Recovered means back inside the limit by at least this much (metric's unit). */
      hysteresis: z.number().nonnegative().default(d.hysteresis),
    })
    .prefault({});
}

/**
 * Adult-ward limit defaults. Sources:
 * - SpO2: 15 s delay on low SpO2 cut those alarms by 60%; limits of 88–90% (lowering 90 → 88 cut
 *   alarms by 63%) — DESIGN.md "Alarm fatigue". 90 is the ward default; patients on NEWS2 SpO2
 *   scale 2 (target 88–92%) default to `spo2Scale2Low` (88) unless a clinician overrides it.
 * - Other medium limits sit at the NEWS2 (RCP 2017) 3-point edges (RR ≤ 8 / ≥ 25, pulse ≥ 131,
 *   SBP ≤ 90, temperature ≤ 35.0); high-priority limits lie further out.
 * - Hysteresis on clearing stops flapping — DESIGN.md "Alarm fatigue".
 */
export const limitsSchema = z
  .strictObject({
    spo2: metricLimits({ low: 90, lowHigh: 85, high: null, highHigh: null, delaySeconds: 15, clearDelaySeconds: 10, hysteresis: 2 }),
    hr: metricLimits({ low: 50, lowHigh: 40, high: 130, highHigh: 150, delaySeconds: 10, clearDelaySeconds: 10, hysteresis: 5 }),
    pr: metricLimits({ low: 50, lowHigh: 40, high: 130, highHigh: 150, delaySeconds: 10, clearDelaySeconds: 10, hysteresis: 5 }),
    rr: metricLimits({ low: 9, lowHigh: 6, high: 24, highHigh: 30, delaySeconds: 15, clearDelaySeconds: 15, hysteresis: 2 }),
    sbp: metricLimits({ low: 91, lowHigh: 80, high: 219, highHigh: 240, delaySeconds: 0, clearDelaySeconds: 0, hysteresis: 5 }),
    temp: metricLimits({ low: 35.1, lowHigh: 34, high: 39, highHigh: 40, delaySeconds: 0, clearDelaySeconds: 0, hysteresis: 0.2 }),
  })
  .prefault({});

export type LimitMetric = keyof z.infer<typeof limitsSchema>;
export type MetricLimits = z.infer<typeof limitsSchema>[LimitMetric];
export const LIMIT_METRICS: readonly LimitMetric[] = ['spo2', 'hr', 'pr', 'rr', 'sbp', 'temp'];

/**
 * Where a patient's alarm limit may lie, per metric, in its unit: inside the range a sensor can
 * report (core/metrics.ts), and narrower where a slip is likely to land inside that range (SpO2
 * 0.88 for 88 %; °F for °C: 100.4 is beyond 45).
 */
export const LIMIT_RANGES: Readonly<Record<LimitMetric, readonly [number, number]>> = {
  spo2: [50, 100],
  hr: [10, 300],
  pr: [10, 300],
  rr: [1, 100],
  sbp: [30, 300],
  temp: [25, 45],
};

/** [NEWS2] staleness per parameter source: a value counts while it is younger than this (s). */
export const news2Schema = z
  .strictObject({
    /**
     * Seconds a value stays fresh. Continuous wearable signals go stale after 5 min; manual
     * observations (BP, temperature, ACVPU, oxygen) after 4 h, the short end of the RCP 2017
     * 4–6-hourly minimum monitoring frequency for a total of 1–4.
     */
    staleSeconds: z
      .object({
        hr: seconds.default(300),
        pr: seconds.default(300),
        spo2: seconds.default(300),
        rr: seconds.default(300),
        sbp: seconds.default(4 * 3600),
        temp: seconds.default(4 * 3600),
        acvpu: seconds.default(4 * 3600),
        o2: seconds.default(4 * 3600),
      })
      .prefault({}),
    /** Median window (s) for continuous signals (hr, pr, spo2, rr): one noisy second does not move the score. */
    smoothingSeconds: seconds.default(30),
    /**
     * A response band must hold this long (s) before its first alarm: the score is a periodic
     * summary, and acute events are the limit alarms' job (with their own delays).
     */
    alarmDelaySeconds: seconds.default(60),
    /**
     * Band hysteresis: an alarm's band is left only once a lower band has held for more than this
     * long (s); a return within it continues the same alarm. 15 min is three readings of a 5-min
     * cuff, so borderline cuff readings do not step the band alarm down and back up.
     */
    alarmClearDelaySeconds: seconds.default(900),
    /** Alarm priority per response band; `null` raises no alarm for that band. */
    bandPriority: z
      .object({
        low: priority.nullable().default(null),
        'low-medium': priority.nullable().default('low'),
        medium: priority.nullable().default('medium'),
        high: priority.nullable().default('high'),
      })
      .prefault({}),
  })
  .prefault({});

export const trendSchema = z
  .strictObject({
    /** [NEWS2] rise of this many points within `news2WindowSeconds` raises a trend warning. */
    news2Rise: z.number().int().positive().default(2),
    news2WindowSeconds: seconds.default(3600),
    /** The rise must hold this long (s) to count as sustained. */
    news2RiseHoldSeconds: seconds.default(300),
    /** EWMA shift: fast and slow time constants (s). */
    ewmaFastSeconds: z.number().positive().default(300),
    ewmaSlowSeconds: z.number().positive().default(3600),
    /** The slow baseline must have this much data behind it (s) before a shift counts. */
    ewmaWarmupSeconds: seconds.default(1800),
    /** Fast minus slow at or above this (metric's unit) raises a warning; below half of it clears. */
    ewmaShift: z
      .object({ hr: z.number().positive().nullable().default(20), rr: z.number().positive().nullable().default(6) })
      .prefault({}),
    priority: priority.default('low'),
  })
  .prefault({});

export const technicalSchema = z
  .strictObject({
    /** No data from a device that sends continuous signals for this long (s) is signal loss. */
    signalLossSeconds: z.number().positive().default(30),
    /**
     * [IEC 60601-1-8] alarm condition delay for technical sensor conditions: the condition must
     * persist this long (s) before its alarm is raised, and only then are the sensor's
     * physiological alarms suppressed. Sensor off is short (no monitoring at all); poor signal is
     * longer, since flagged motion artifacts last seconds and end by themselves.
     */
    sensorOffDelaySeconds: seconds.default(10),
    sensorPoorDelaySeconds: seconds.default(30),
    pulseLostDelaySeconds: seconds.default(10),
    /** A `battery` reading below this (%) is a low battery; it clears 5 points above. */
    lowBatteryPercent: z.number().min(0).max(100).default(20),
    /** IEC 60601-1-8: technical alarms are mostly low or medium priority. */
    priorities: z
      .object({
        sensor_off: priority.default('medium'),
        sensor_poor: priority.default('low'),
        pulse_lost: priority.default('medium'),
        signal_loss: priority.default('medium'),
        device_offline: priority.default('medium'),
        battery_low: priority.default('low'),
        unassigned_device: priority.default('low'),
      })
      .prefault({}),
  })
  .prefault({});

/** Seconds after the previous tier: one number for every priority, or per priority. */
const tierDelay = z.union([seconds, z.strictObject({ high: seconds.optional(), medium: seconds.optional(), low: seconds.optional() })]);

/** One tier of an escalation policy. */
export const escalationTierSchema = z.strictObject({
  /** Shown at the station and sent with each step, e.g. `Charge nurse`. */
  name: z.string().min(1).max(60),
  /**
   * Who the tier reaches: `assigned` (the bed's assigned nurse), `buddy` (its buddy nurse),
   * `charge` (the ward's charge nurse), or a fixed recipient passed on as written (a pager
   * group such as `rapid-response`).
   */
  to: z.array(z.string().min(1).max(64)).min(1),
  /** Where the step is delivered: `station` (the recipients' station sessions), `mqtt`, `webhook`. */
  channels: z.array(z.enum(NOTIFY_CHANNELS)).min(1).default(['station']),
  /**
   * Seconds after the previous tier before this one is reached, when nobody has acknowledged
   * (default `escalationSeconds` of the alarm's priority). 0 for a priority: its alarms stop at
   * the tier before. Not allowed on the first tier, which is reached when the alarm is raised.
   */
  afterSeconds: tierDelay.optional(),
});
export type EscalationTier = z.infer<typeof escalationTierSchema>;

const tiersSchema = z
  .array(escalationTierSchema)
  .min(1)
  .superRefine((tiers, ctx) => {
    if (tiers[0]?.afterSeconds !== undefined) ctx.addIssue({ code: 'custom', path: [0, 'afterSeconds'], message: 'the first tier is reached when the alarm is raised: no delay' });
  });

/**
 * The default policy: the bed's assigned nurse at the station first; nobody acknowledging within
 * `escalationSeconds`, the buddy and the charge nurse, paged on MQTT and the webhook too.
 */
export const DEFAULT_ESCALATION_TIERS: EscalationTier[] = [
  { name: 'Assigned nurse', to: ['assigned'], channels: ['station'] },
  { name: 'Buddy and charge nurse', to: ['buddy', 'charge'], channels: ['station', 'mqtt', 'webhook'] },
];

export const escalationSchema = z
  .strictObject({
    /** The policy of every ward without one of its own, tier by tier. */
    tiers: tiersSchema.default(DEFAULT_ESCALATION_TIERS),
    /** Per-ward policies, by ward id: `{ w1: { tiers: [...] } }`. */
    wards: z.record(z.string(), z.strictObject({ tiers: tiersSchema })).default({}),
  })
  .prefault({});

export const alarmSchema = z
  .strictObject({
    /**
     * [IEC 60601-1-8] unacknowledged alarms escalate: seconds from one tier of the escalation
     * policy to the next, per priority (unless a tier sets its own `afterSeconds`). 0 switches
     * escalation off for that priority.
     */
    escalationSeconds: z
      .object({ high: seconds.default(60), medium: seconds.default(180), low: seconds.default(600) })
      .prefault({}),
    /** Who is told of an alarm, tier by tier, while nobody acknowledges it. */
    escalation: escalationSchema,
    /** [IEC 60601-1-8] latching: alarms of these priorities stay until acknowledged. */
    latching: z.array(priority).default(['high']),
    /**
     * A condition that returns within this long (s) after ending continues the same alarm instead
     * of raising a new one, so a flapping condition gives one alarm.
     */
    flapHoldSeconds: seconds.default(10),
  })
  .prefault({});

export const detectorConfigSchema = z
  .strictObject({
    /**
     * A reading its device stamped more than this long (s) before the gateway received it (device
     * time trusted, e.g. sent late from the device's buffer) is stored and drawn in the trends, but
     * it is history: it tells that the device is alive, and raises no alarm and scores no NEWS2.
     */
    lateReadingSeconds: z.number().positive().default(60),
    limits: limitsSchema,
    /** SpO2 low limit for patients on NEWS2 scale 2 without their own override (BTS target 88–92%). */
    spo2Scale2Low: z.number().default(88),
    news2: news2Schema,
    trend: trendSchema,
    technical: technicalSchema,
    alarms: alarmSchema,
  })
  .prefault({});

/** Validated detector settings with every default filled in. */
export type DetectorConfig = z.infer<typeof detectorConfigSchema>;

/** The defaults alone. */
export function defaultDetectorConfig(): DetectorConfig {
  return detectorConfigSchema.parse(undefined);
}

/**
 * Validates a `detectors:` section.
 * @throws ConfigError whose issues read `detectors.limits.spo2.low: expected number`.
 */
export function parseDetectorConfig(raw: unknown, path = 'detectors'): DetectorConfig {
  const r = detectorConfigSchema.safeParse(raw);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => {
    const where = [path, ...i.path.map(String)].join('.');
    if (i.code === 'unrecognized_keys') return `${where}: unknown setting${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `"${k}"`).join(', ')}`;
    return `${where}: ${i.message}`;
  });
  throw new ConfigError(`${path}: ${issues.length} problem${issues.length > 1 ? 's' : ''}:\n  ${issues.join('\n  ')}`, issues);
}
