/**
 * FHIR R4 export of observations, following the vital-signs profile
 * (http://hl7.org/fhir/R4/observation-vitalsigns.html):
 * - `status` final, `category` vital-signs (observation-category), `code` with the metric's
 *   LOINC coding (required by the profile) and its IEEE 11073 MDC coding where one exists,
 *   `subject` the patient, `effectiveDateTime`, and `valueQuantity` in UCUM.
 * - SpO2 carries both 2708-6 (required by the oxygensat profile) and 59408-5 (pulse oximetry).
 * - A systolic and a diastolic reading of the same patient, device and time become one blood
 *   pressure panel 85354-9 with components 8480-6 and 8462-4 ({@link groupBloodPressure}).
 *
 * Observations that cannot meet the profile are not exported: metrics without a LOINC code
 * (`o2`, `battery`) and observations from devices not assigned to a patient (the profile
 * requires a Patient subject). {@link isFhirExportable} says which.
 */
import { createHash } from 'node:crypto';
import { ACVPU_CODES, metricInfo, type MetricInfo } from '../core/metrics.js';
import type { Observation } from '../core/types.js';
import {
  DATA_ABSENT_REASON,
  LOINC,
  MDC,
  OBSERVATION_CATEGORY,
  UCUM,
  VIGIL_DEVICE_ID,
  VIGIL_OBSERVATION_ID,
  VIGIL_PATIENT_ID,
  type BundleEntry,
  type CodeableConcept,
  type Coding,
  type FhirBundle,
  type FhirObservation,
  type ObservationComponent,
  type Quantity,
  type Reference,
} from './fhir-types.js';

export * from './fhir-types.js';

const PROFILE_BASE = 'http://hl7.org/fhir/StructureDefinition/';
export const VITAL_SIGNS_PROFILE = `${PROFILE_BASE}vitalsigns`;

/** LOINC codes of the vital-signs profile's panel and the extra SpO2 code. */
export const LOINC_BP_PANEL = '85354-9';
export const LOINC_SPO2_ARTERIAL = '2708-6';
export const LOINC_SYSTOLIC = '8480-6';
export const LOINC_DIASTOLIC = '8462-4';
export const MDC_BP_NONINV = 150020;

/** Display names for the LOINC codes Vigil uses. */
const LOINC_DISPLAY: Record<string, string> = {
  '8867-4': 'Heart rate',
  '9279-1': 'Respiratory rate',
  '2708-6': 'Oxygen saturation in Arterial blood',
  '59408-5': 'Oxygen saturation in Arterial blood by Pulse oximetry',
  '8310-5': 'Body temperature',
  '8480-6': 'Systolic blood pressure',
  '8462-4': 'Diastolic blood pressure',
  '8478-0': 'Mean blood pressure',
  '85354-9': 'Blood pressure panel with all children optional',
  '67775-7': 'Level of responsiveness',
  '61006-3': 'Perfusion index Tissue by Pulse oximetry',
};

/** The specific vital-signs profile a LOINC code falls under, where FHIR R4 defines one. */
const SPECIFIC_PROFILE: Record<string, string> = {
  '8867-4': 'heartrate',
  '9279-1': 'resprate',
  '2708-6': 'oxygensat',
  '8310-5': 'bodytemp',
  '85354-9': 'bp',
};

const VITAL_SIGNS_CATEGORY: CodeableConcept = {
  coding: [{ system: OBSERVATION_CATEGORY, code: 'vital-signs', display: 'Vital Signs' }],
  text: 'Vital Signs',
};

/** A systolic and diastolic reading taken together, exported as one panel. */
export interface BloodPressurePair {
  readonly kind: 'bp';
  readonly sbp: Observation;
  readonly dbp: Observation;
}

/** True when {@link observationToFhir} can map this observation to the profile. */
export function isFhirExportable(o: Observation): boolean {
  return metricInfo(o.metric).loinc !== undefined && o.patientId !== undefined && o.patientId !== '';
}

/** The metric's codings: LOINC first (SpO2: 2708-6 then 59408-5), then MDC. */
export function metricCodings(info: MetricInfo): Coding[] {
  const codings: Coding[] = [];
  if (info.name === 'spo2') codings.push(loincCoding(LOINC_SPO2_ARTERIAL));
  if (info.loinc !== undefined) codings.push(loincCoding(info.loinc));
  if (info.mdc !== undefined) codings.push({ system: MDC, code: String(info.mdc), ...(info.mdcRef ? { display: info.mdcRef } : {}) });
  return codings;
}

/**
 * Maps one observation to a vital-signs Observation.
 * @returns undefined when the observation is not exportable ({@link isFhirExportable}).
 */
export function observationToFhir(o: Observation): FhirObservation | undefined {
  if (!isFhirExportable(o)) return undefined;
  const info = metricInfo(o.metric);
  const codings = metricCodings(info);
  const primary = codings[0]!.code;
  return {
    resourceType: 'Observation',
    id: resourceId(o.deviceId, o.metric, o.ts),
    meta: { profile: profilesFor(primary) },
    identifier: [{ system: VIGIL_OBSERVATION_ID, value: `${o.deviceId}/${o.metric}/${o.ts}` }],
    status: 'final',
    category: [VITAL_SIGNS_CATEGORY],
    code: { coding: codings, text: info.label },
    subject: patientReference(o.patientId!),
    effectiveDateTime: isoInstant(o.ts),
    ...valueOf(o, info),
    device: { identifier: { system: VIGIL_DEVICE_ID, value: o.deviceId } },
    ...(o.quality === 'poor' ? { note: [{ text: 'Device reported poor signal quality' }] } : {}),
  };
}

/** Maps a systolic/diastolic pair to a blood pressure panel (85354-9) with two components. */
export function bloodPressureToFhir(pair: BloodPressurePair): FhirObservation | undefined {
  const { sbp, dbp } = pair;
  if (!isFhirExportable(sbp)) return undefined;
  const component = (o: Observation): ObservationComponent => ({
    code: { coding: metricCodings(metricInfo(o.metric)), text: metricInfo(o.metric).label },
    ...valueOf(o, metricInfo(o.metric)),
  });
  return {
    resourceType: 'Observation',
    id: resourceId(sbp.deviceId, 'bp', sbp.ts),
    meta: { profile: profilesFor(LOINC_BP_PANEL) },
    identifier: [{ system: VIGIL_OBSERVATION_ID, value: `${sbp.deviceId}/bp/${sbp.ts}` }],
    status: 'final',
    category: [VITAL_SIGNS_CATEGORY],
    code: {
      coding: [loincCoding(LOINC_BP_PANEL), { system: MDC, code: String(MDC_BP_NONINV), display: 'MDC_PRESS_BLD_NONINV' }],
      text: 'Blood pressure',
    },
    subject: patientReference(sbp.patientId!),
    effectiveDateTime: isoInstant(sbp.ts),
    component: [component(sbp), component(dbp)],
    device: { identifier: { system: VIGIL_DEVICE_ID, value: sbp.deviceId } },
  };
}

/**
 * Pairs each systolic reading with the diastolic reading of the same patient, device and time.
 * A pair takes the place of whichever of the two came first; everything else keeps its order.
 * Unpaired readings stay single observations.
 */
export function groupBloodPressure(observations: readonly Observation[]): Array<Observation | BloodPressurePair> {
  const key = (o: Observation): string => `${o.patientId ?? ''}\0${o.deviceId}\0${o.ts}`;
  const partners = new Map<string, { sbp?: number; dbp?: number }>();
  observations.forEach((o, i) => {
    if (o.metric !== 'sbp' && o.metric !== 'dbp') return;
    const slot = partners.get(key(o)) ?? {};
    if (slot[o.metric] === undefined) slot[o.metric] = i;
    partners.set(key(o), slot);
  });
  const out: Array<Observation | BloodPressurePair> = [];
  const consumed = new Set<number>();
  observations.forEach((o, i) => {
    if (consumed.has(i)) return;
    const slot = o.metric === 'sbp' || o.metric === 'dbp' ? partners.get(key(o)) : undefined;
    if (slot?.sbp !== undefined && slot.dbp !== undefined && (slot.sbp === i || slot.dbp === i)) {
      consumed.add(slot.sbp).add(slot.dbp);
      out.push({ kind: 'bp', sbp: observations[slot.sbp]!, dbp: observations[slot.dbp]! });
      return;
    }
    out.push(o);
  });
  return out;
}

/** Maps observations to FHIR Observations, pairing blood pressure; unexportable ones are left out. */
export function toFhirObservations(observations: readonly Observation[]): FhirObservation[] {
  const out: FhirObservation[] = [];
  for (const item of groupBloodPressure(observations)) {
    const resource = 'kind' in item ? bloodPressureToFhir(item) : observationToFhir(item);
    if (resource) out.push(resource);
  }
  return out;
}

/**
 * A `collection` Bundle of the observations' FHIR Observations (blood pressure paired).
 * @param now epoch ms stamped as the bundle's `timestamp`.
 */
export function toFhirBundle(observations: readonly Observation[], now: number): FhirBundle {
  const resources = toFhirObservations(observations);
  const entry: BundleEntry<FhirObservation>[] = resources.map((r) => ({ fullUrl: `urn:uuid:${r.id}`, resource: r }));
  const id = uuidFrom(['bundle', String(now), ...resources.map((r) => r.id)].join('\0'));
  return { resourceType: 'Bundle', id, type: 'collection', timestamp: isoInstant(now), entry };
}

/** [FHIR R4] datatypes: id, `[A-Za-z0-9\-\.]{1,64}`. */
const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;

/**
 * The patient as a FHIR Reference. An id that is a FHIR id becomes the literal reference
 * `Patient/{id}`; any other (an underscore, or a census kept from before ids were checked) is
 * carried as a logical reference by identifier, so no id can point the reference at another
 * resource (`P1/../Practitioner/x`) or break it.
 */
export function patientReference(patientId: string): Reference {
  return FHIR_ID.test(patientId) && !/^\.+$/.test(patientId) ? { reference: `Patient/${patientId}` } : { identifier: { system: VIGIL_PATIENT_ID, value: patientId } };
}

/** Epoch ms as an ISO 8601 instant in UTC with milliseconds. */
export function isoInstant(ts: number): string {
  return new Date(ts).toISOString();
}

/** A stable UUID (RFC 9562 version 8 layout) derived from `text`, so a replay gives the same id. */
export function uuidFrom(text: string): string {
  const h = createHash('sha256').update(text).digest();
  h[6] = (h[6]! & 0x0f) | 0x80;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

function resourceId(deviceId: string, metric: string, ts: number): string {
  return uuidFrom(`${deviceId}\0${metric}\0${ts}`);
}

function loincCoding(code: string): Coding {
  const display = LOINC_DISPLAY[code];
  return { system: LOINC, code, ...(display ? { display } : {}) };
}

function profilesFor(loinc: string): string[] {
  const specific = SPECIFIC_PROFILE[loinc];
  return specific ? [VITAL_SIGNS_PROFILE, `${PROFILE_BASE}${specific}`] : [VITAL_SIGNS_PROFILE];
}

/** `valueQuantity` in UCUM; ACVPU as a coded letter; invalid quality as a data-absent reason. */
function valueOf(o: Observation, info: MetricInfo): { valueQuantity?: Quantity; valueCodeableConcept?: CodeableConcept; dataAbsentReason?: CodeableConcept } {
  if (o.quality === 'invalid' || !Number.isFinite(o.value)) {
    return { dataAbsentReason: { coding: [{ system: DATA_ABSENT_REASON, code: 'error', display: 'Error' }], text: 'Device reported the value as invalid' } };
  }
  if (info.name === 'acvpu') {
    const letter = ACVPU_CODES[o.value];
    if (letter !== undefined) return { valueCodeableConcept: { text: letter } };
  }
  return { valueQuantity: { value: o.value, unit: info.unit, system: UCUM, code: info.unit } };
}
