/** What every detector is given: settings, the virtual clock and the alarm manager. */
import type { AlarmManager } from '../alarms/manager.js';
import type { PatientSettings, Placement } from '../core/types.js';
import type { VirtualClock } from './clock.js';
import type { DetectorConfig } from './config.js';

export interface DetectorContext {
  readonly config: DetectorConfig;
  /** The only source of time. */
  readonly clock: VirtualClock;
  /** The only way out for alarms. */
  readonly alarms: AlarmManager;
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
