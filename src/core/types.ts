/**
 * The seams between Vigil's stages. Data flows one way:
 * source → decode → observation → spool → sinks, and spool → detectors → alarm manager → alarm sinks.
 */
import type { Counters } from './counters.js';
import { metricInfo, type MetricName } from './metrics.js';

export type { MetricName } from './metrics.js';

/** How far a value can be trusted. Detectors ignore anything but `good` for alarms. */
export type Quality = 'good' | 'poor' | 'invalid';

/** Where a patient is and who they are, as tags for storage and alarm routing. */
export interface Placement {
  /** Patient id, absent when the device is not assigned to anyone. */
  readonly patientId?: string;
  readonly ward?: string;
  readonly bed?: string;
}

/** One measured value. Canonical and immutable. */
export interface Observation extends Placement {
  /** Epoch milliseconds: device time if trusted, otherwise receive time. */
  readonly ts: number;
  /**
   * Epoch milliseconds by the gateway's clock when it received the value, present only where it
   * differs from `ts` (device time trusted). The detectors run on this time, so no device clock
   * can move anyone's deadlines.
   */
  readonly rt?: number;
  readonly deviceId: string;
  readonly metric: MetricName;
  /** In the metric's canonical UCUM unit (see core/metrics.ts). */
  readonly value: number;
  /** UCUM unit code, copied from the metric table for self-describing records. */
  readonly unit: string;
  readonly quality: Quality;
}

/**
 * Device-reported or source-detected technical conditions. `*_ok` / `device_online` end the
 * matching condition.
 */
export const TECHNICAL_KINDS = [
  'sensor_off',
  'sensor_poor',
  'sensor_ok',
  'battery_low',
  'battery_ok',
  'device_offline',
  'device_online',
  'pulse_lost',
  'unassigned_device',
  /** A serial device keeps sending frames its profile cannot read (wrong profile or device setting). */
  'format_mismatch',
] as const;
export type TechnicalKind = (typeof TECHNICAL_KINDS)[number];

/** A technical condition reported by a device or a source. */
export interface TechnicalEvent extends Placement {
  /** Epoch milliseconds. */
  readonly ts: number;
  /** Receive time by the gateway's clock, where it differs from `ts` (see `Observation.rt`). */
  readonly rt?: number;
  readonly deviceId: string;
  readonly kind: TechnicalKind;
  /** Free text from the device or source (status code, port path, error). */
  readonly detail?: string;
}

/** A per-patient clinical setting, changed by a clinician at runtime or in a recording. */
export interface PatientSettings {
  /** [NEWS2] SpO2 scale 2 for hypercapnic respiratory failure, chosen by a clinician. */
  readonly spo2Scale?: 1 | 2;
  /** Per-patient limit overrides, e.g. `{ spo2: { low: 88 } }` for a COPD patient. */
  readonly limits?: Partial<Record<MetricName, LimitOverride>>;
}

export interface LimitOverride {
  readonly low?: number;
  readonly high?: number;
  readonly lowHigh?: number;
  readonly highHigh?: number;
}

/** What the detectors need to know of an admitted patient. */
export interface CensusEntry {
  readonly ward: string;
  readonly bed: string;
  readonly settings: PatientSettings;
}

export interface SettingsEvent {
  /** Epoch milliseconds. */
  readonly ts: number;
  readonly patientId: string;
  readonly settings: PatientSettings;
}

export type AlarmPriority = 'high' | 'medium' | 'low';
export type AlarmKind = 'limit' | 'news2' | 'trend' | 'technical';
export type AlarmState = 'raised' | 'escalated' | 'acknowledged' | 'cleared' | 'resolved';

/** One step in an alarm's life. The alarm manager is the only producer. */
export interface AlarmTransition extends Placement {
  /** Epoch milliseconds. */
  readonly ts: number;
  /** Stable id of the alarm across all its transitions. */
  readonly id: string;
  readonly kind: AlarmKind;
  readonly priority: AlarmPriority;
  readonly state: AlarmState;
  readonly metric?: MetricName;
  readonly deviceId?: string;
  /** Why the transition happened, in words a nurse can read. */
  readonly reason: string;
  /** Who acknowledged or silenced, for audit. */
  readonly by?: string;
  /** The value that caused it, where there is one. */
  readonly value?: number;
  /**
   * The escalation step this transition takes: tier 1 on `raised` (who is told first), the next
   * tier on each `escalated`. Absent on other transitions.
   */
  readonly escalation?: EscalationStep;
}

/** Where an escalation step is delivered. */
export const NOTIFY_CHANNELS = ['station', 'mqtt', 'webhook'] as const;
export type NotifyChannel = (typeof NOTIFY_CHANNELS)[number];

/** One step of an alarm's escalation: the tier it reached, whom that tier reaches and how. */
export interface EscalationStep {
  /** 1-based tier of the ward's escalation policy; tier 1 is reached when the alarm is raised. */
  readonly tier: number;
  /** Tiers in the policy. */
  readonly of: number;
  /** The tier's name, e.g. `Charge nurse`. */
  readonly name: string;
  /**
   * Who the tier reaches, resolved when the step was taken: station usernames (the bed's
   * assigned and buddy nurses, the ward's charge nurse) and fixed recipients (e.g. a
   * `rapid-response` pager group). Empty when nobody is assigned: every station session is reached.
   */
  readonly recipients: readonly string[];
  readonly channels: readonly NotifyChannel[];
}

/**
 * True when a transition goes out on `channel`: an escalation step only on the channels of its
 * tier; every other transition (raised, acknowledged, cleared, resolved) on all of them, so a
 * receiver always sees an alarm's whole life.
 */
export function reachesChannel(t: Pick<AlarmTransition, 'state' | 'escalation'>, channel: NotifyChannel): boolean {
  return t.state !== 'escalated' || t.escalation === undefined || t.escalation.channels.includes(channel);
}

/** A bed's caregivers for the shift (station usernames). */
export interface BedAssignment {
  /** The assigned nurse: alarms for the bed go to them first. */
  readonly nurse?: string;
  /** The buddy nurse who covers the assigned nurse. */
  readonly buddy?: string;
}

/** Who looks after a ward's beds this shift, as the charge nurse set it. */
export interface WardAssignment {
  /** The shift's charge nurse. */
  readonly charge?: string;
  /** Bed → its nurses; beds not listed have nobody assigned. */
  readonly beds: Readonly<Record<string, BedAssignment>>;
}

/**
 * What a person or the gateway itself tells the detectors, besides device data. Kept in the
 * spool in order with the data, so that a restart replays it exactly as it happened.
 */
export type ControlInput =
  /** A patient's clinical settings in full: they replace the previous ones. */
  | { readonly type: 'settings'; readonly event: SettingsEvent }
  /**
   * A patient as the census now holds them, after any census change: where they are and their
   * clinical settings in full (replacing the previous ones). No `patient`: discharged.
   */
  | { readonly type: 'census'; readonly ts: number; readonly patientId: string; readonly patient?: CensusEntry }
  | { readonly type: 'ack'; readonly alarmId: string; readonly by: string; readonly ts: number }
  /** Audio paused: pauses an alarm's sound and holds its escalation for `seconds`. */
  | { readonly type: 'silence'; readonly alarmId: string; readonly by: string; readonly ts: number; readonly seconds: number }
  /** A ward's caregiver assignment for the shift, in full: it replaces the previous one. */
  | { readonly type: 'assign'; readonly ts: number; readonly ward: string; readonly by: string; readonly assignment: WardAssignment }
  /**
   * A condition of the gateway itself (e.g. its spool nearing its bound), shown to nurses as a
   * technical alarm with no patient, and cleared when `active` turns false.
   */
  | { readonly type: 'system'; readonly ts: number; readonly condition: string; readonly active: boolean; readonly priority: AlarmPriority; readonly reason: string };

/** A control input's time, epoch ms. */
export function controlTs(c: ControlInput): number {
  return c.type === 'settings' ? c.event.ts : c.ts;
}

/**
 * The observations of one device message, kept as one spool record: they share the time, the
 * device and the placement, so each is written once, and the message is encoded, checksummed,
 * read back and parsed once instead of once per observation.
 */
export interface DeviceMessage extends Placement {
  /** Epoch milliseconds: device time if trusted, otherwise receive time (as `Observation.ts`). */
  readonly ts: number;
  /** Receive time where it differs from `ts` (as `Observation.rt`). */
  readonly rt?: number;
  readonly deviceId: string;
  /** metric → value in its canonical unit, in the order the device sent them. */
  readonly v: Readonly<Partial<Record<MetricName, number>>>;
  /** metric → quality, for the values that are not good. */
  readonly q?: Readonly<Partial<Record<MetricName, 'poor' | 'invalid'>>>;
}

/** The observations of a device message, in its order. */
export function observationsOf(m: DeviceMessage): Observation[] {
  const out: Observation[] = [];
  for (const metric in m.v) {
    const value = m.v[metric as MetricName]!;
    const o: { -readonly [K in keyof Observation]: Observation[K] } = { ts: m.ts, deviceId: m.deviceId, metric: metric as MetricName, value, unit: metricInfo(metric as MetricName).unit, quality: m.q?.[metric as MetricName] ?? 'good' };
    if (m.rt !== undefined) o.rt = m.rt;
    if (m.patientId !== undefined) o.patientId = m.patientId;
    if (m.ward !== undefined) o.ward = m.ward;
    if (m.bed !== undefined) o.bed = m.bed;
    out.push(o);
  }
  return out;
}

/** A record in the durable spool. Short tags keep the log compact. */
export type SpoolRecord =
  | { readonly t: 'msg'; readonly m: DeviceMessage }
  /** One observation (manual observations; every device observation before messages were kept whole). */
  | { readonly t: 'obs'; readonly o: Observation }
  | { readonly t: 'tech'; readonly e: TechnicalEvent }
  | { readonly t: 'alarm'; readonly a: AlarmTransition }
  /** An input to the detectors other than device data; the time-series sinks pass it over. */
  | { readonly t: 'ctl'; readonly c: ControlInput };

/** A raw unit of input with its origin, before decoding. */
export interface Frame {
  readonly transport: 'mqtt' | 'serial' | 'replay';
  /** Device id the frame came from (authenticated MQTT username, or the configured serial port's device). */
  readonly deviceId: string;
  /** Topic or port path, for logs. */
  readonly origin: string;
  /** Epoch milliseconds when the gateway received it. */
  readonly receivedAt: number;
  readonly payload: Buffer;
}

/** A part of the gateway with a lifecycle, started in order and stopped in reverse. */
export interface Service {
  /** Name used in logs and health. */
  readonly name: string;
  /** Resolves once the service is ready; rejects with a clear error when it cannot start. */
  start(): Promise<void>;
  /** Stops accepting work, finishes or persists what is in flight, releases resources. Idempotent. */
  stop(): Promise<void>;
}

/**
 * A part that reports on itself: its own section of GET /healthz and its own series on
 * /metrics. The gateway only collects them, so each figure is defined where it is kept.
 */
export interface Reporting {
  /** The part's section of the /healthz body, as JSON data. */
  health(): unknown;
  /** Registers the part's gauges and counters on the gateway's registry; they are read at scrape time. */
  registerMetrics(counters: Counters): void;
}
