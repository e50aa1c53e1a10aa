/** What every detector is given (settings, the virtual clock) and where its conditions go. */
import type { AlarmKind, AlarmPriority, MetricName, PatientSettings, Placement } from '../core/types.js';
import type { VirtualClock } from './clock.js';
import type { DetectorConfig } from './config.js';

/** What a detector says about one condition. */
export interface AlarmCondition extends Placement {
  /**
   * Stable name of the condition within its scope, e.g. `limit:spo2:low`, `technical:ox1:sensor_off`.
   * Together with the patient (or device, when unassigned) it identifies the alarm.
   */
  readonly name: string;
  readonly kind: AlarmKind;
  readonly priority: AlarmPriority;
  readonly metric?: MetricName;
  readonly deviceId?: string;
}

/**
 * Where detectors report their conditions: the alarm manager (src/alarms/manager.ts) is the one
 * implementation, and turns them into alarm transitions. Times are the virtual clock's, epoch ms.
 */
export interface ConditionSink {
  /** A condition started (or is still present: duplicates are absorbed). */
  raise(cond: AlarmCondition, ts: number, reason: string, value?: number): void;
  /** The condition ended. */
  clear(cond: AlarmCondition, ts: number, reason: string): void;
  /** The condition's sensor can no longer confirm it: its alarm is held as it is. */
  suppress(cond: AlarmCondition, ts: number, reason: string): void;
  /**
   * The condition goes on, but what it rests on changed (its limit moved): the alarm shown says
   * `reason` from now on, with no new annunciation. A sink that cannot restate an alarm leaves
   * it as it is.
   */
  restate?(cond: AlarmCondition, ts: number, reason: string, value?: number): void;
  /** True while the condition has an alarm shown. */
  isShown(cond: AlarmCondition): boolean;
}

export interface DetectorContext {
  readonly config: DetectorConfig;
  /** The only source of time. */
  readonly clock: VirtualClock;
  /** The only way out for alarms. */
  readonly alarms: ConditionSink;
  /** The patient's current clinical settings (merged from every settings event so far). */
  settings(patientId: string): PatientSettings;
  /** Where the patient was last seen (ward, bed), for alarm routing. */
  placement(patientId: string): Placement;
  /**
   * True while the device flags its sensor (off, poor, pulse lost), raised or not yet: its
   * values confirm nothing, so a persistence delay that runs out meanwhile waits for good data.
   */
  sensorFlagged(deviceId: string): boolean;
}

/** Formats a duration in ms as seconds for reasons: `15 s`. */
export function secs(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}
