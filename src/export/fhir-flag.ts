/**
 * FHIR R4 export of an alarm transition as a `Flag`.
 *
 * Why Flag and not DetectedIssue: a Flag is "a prospective warning of potential issues when
 * providing care to the patient" with an `active`/`inactive` status and a `period`, which is
 * what an alarm is for the people around a bed: it starts, stays on while it matters, and ends.
 * DetectedIssue is built around implicated clinical actions (a drug interaction, a duplicate
 * order) and has no such lifecycle. The R4 core `flag-priority` extension carries IEC 60601-1-8
 * priorities as PL, PM and PH.
 *
 * Mapping of Vigil's alarm states: `raised`, `escalated`, `acknowledged` and `cleared` (a latched
 * alarm still shown until acknowledged) are `active`; `resolved` is `inactive` with
 * `period.end`. The exact state rides in an extension so a receiver can follow the lifecycle.
 */
import { metricInfo } from '../core/metrics.js';
import type { AlarmPriority, AlarmTransition } from '../core/types.js';
import {
  FLAG_CATEGORY,
  FLAG_PRIORITY_CODES,
  FLAG_PRIORITY_EXTENSION,
  VIGIL_ALARM_ID,
  VIGIL_ALARM_STATE_EXTENSION,
  VIGIL_ALARM_VALUE_EXTENSION,
  VIGIL_DEVICE_ID,
  type Extension,
  type FhirFlag,
  type Reference,
} from './fhir-types.js';
import { isoInstant, metricCodings, patientReference, uuidFrom } from './fhir.js';

const PRIORITY_CODE: Record<AlarmPriority, { code: string; display: string }> = {
  high: { code: 'PH', display: 'High priority' },
  medium: { code: 'PM', display: 'Medium priority' },
  low: { code: 'PL', display: 'Low priority' },
};

export interface FlagOptions {
  /** When the alarm was first raised, epoch ms; defaults to the transition's own time. */
  readonly raisedAt?: number;
}

/**
 * Maps one alarm transition to a Flag. Each transition gets its own resource id (alarm id and
 * time), and all of an alarm's transitions share the `identifier`.
 */
export function alarmToFhirFlag(a: AlarmTransition, opts: FlagOptions = {}): FhirFlag {
  const resolved = a.state === 'resolved';
  const extension: Extension[] = [
    { url: FLAG_PRIORITY_EXTENSION, valueCodeableConcept: { coding: [{ system: FLAG_PRIORITY_CODES, ...PRIORITY_CODE[a.priority] }] } },
    { url: VIGIL_ALARM_STATE_EXTENSION, valueCode: a.state },
  ];
  if (a.value !== undefined) extension.push({ url: VIGIL_ALARM_VALUE_EXTENSION, valueDecimal: a.value });
  const technical = a.kind === 'technical';
  const subject: Reference = a.patientId !== undefined
    ? patientReference(a.patientId)
    : { identifier: { system: VIGIL_DEVICE_ID, value: a.deviceId ?? 'unknown' }, display: 'Device not assigned to a patient' };
  const start = opts.raisedAt ?? a.ts;
  return {
    resourceType: 'Flag',
    id: uuidFrom(`alarm\0${a.id}\0${a.state}\0${a.ts}`),
    identifier: [{ system: VIGIL_ALARM_ID, value: a.id }],
    extension,
    status: resolved ? 'inactive' : 'active',
    category: [
      technical
        ? { coding: [{ system: FLAG_CATEGORY, code: 'safety', display: 'Safety' }], text: 'Technical alarm' }
        : { coding: [{ system: FLAG_CATEGORY, code: 'clinical', display: 'Clinical' }], text: `Physiological alarm (${a.kind})` },
    ],
    code: { ...(a.metric !== undefined ? { coding: metricCodings(metricInfo(a.metric)) } : {}), text: a.reason },
    subject,
    period: { start: isoInstant(start), ...(resolved ? { end: isoInstant(a.ts) } : {}) },
    ...(a.deviceId !== undefined ? { author: { identifier: { system: VIGIL_DEVICE_ID, value: a.deviceId } } } : {}),
  };
}
