/**
 * The slice of FHIR R4 that Vigil writes: Observation (vital-signs profile), Flag and Bundle.
 * Only the elements Vigil fills are declared; see https://hl7.org/fhir/R4/.
 */

export interface Coding {
  readonly system: string;
  readonly code: string;
  readonly display?: string;
}

export interface CodeableConcept {
  readonly coding?: readonly Coding[];
  readonly text?: string;
}

export interface Reference {
  readonly reference?: string;
  readonly identifier?: Identifier;
  readonly display?: string;
}

export interface Identifier {
  readonly system: string;
  readonly value: string;
}

/** A UCUM quantity: `system` is always {@link UCUM}. */
export interface Quantity {
  readonly value: number;
  /** Human-readable unit (the UCUM code). */
  readonly unit: string;
  readonly system: string;
  /** UCUM code, e.g. `/min`, `%`, `Cel`, `mm[Hg]`. */
  readonly code: string;
}

export interface ObservationComponent {
  readonly code: CodeableConcept;
  readonly valueQuantity?: Quantity;
  readonly dataAbsentReason?: CodeableConcept;
}

export interface FhirObservation {
  readonly resourceType: 'Observation';
  readonly id: string;
  readonly meta: { readonly profile: readonly string[] };
  readonly identifier: readonly Identifier[];
  readonly status: 'final';
  readonly category: readonly CodeableConcept[];
  readonly code: CodeableConcept;
  readonly subject: Reference;
  /** ISO 8601 instant with milliseconds, UTC. */
  readonly effectiveDateTime: string;
  readonly valueQuantity?: Quantity;
  readonly valueCodeableConcept?: CodeableConcept;
  readonly dataAbsentReason?: CodeableConcept;
  readonly component?: readonly ObservationComponent[];
  readonly device?: Reference;
  readonly note?: readonly { readonly text: string }[];
}

export interface Extension {
  readonly url: string;
  readonly valueCodeableConcept?: CodeableConcept;
  readonly valueCode?: string;
  readonly valueDecimal?: number;
  readonly valueString?: string;
}

export interface FhirFlag {
  readonly resourceType: 'Flag';
  readonly id: string;
  readonly identifier: readonly Identifier[];
  readonly extension: readonly Extension[];
  readonly status: 'active' | 'inactive';
  readonly category: readonly CodeableConcept[];
  readonly code: CodeableConcept;
  readonly subject: Reference;
  readonly period: { readonly start: string; readonly end?: string };
  readonly author?: Reference;
}

export interface BundleEntry<R> {
  readonly fullUrl: string;
  readonly resource: R;
}

export interface FhirBundle<R = FhirObservation> {
  readonly resourceType: 'Bundle';
  readonly id: string;
  readonly type: 'collection';
  /** When the bundle was assembled, ISO 8601. */
  readonly timestamp: string;
  readonly entry: readonly BundleEntry<R>[];
}

export const LOINC = 'http://loinc.org';
export const UCUM = 'http://unitsofmeasure.org';
/** IEEE 11073-10101 nomenclature, as FHIR names it. */
export const MDC = 'urn:iso:std:iso:11073:10101';
export const OBSERVATION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
export const DATA_ABSENT_REASON = 'http://terminology.hl7.org/CodeSystem/data-absent-reason';
export const FLAG_CATEGORY = 'http://terminology.hl7.org/CodeSystem/flag-category';
/** R4 core extension carrying a Flag's alarm priority (PN, PL, PM, PH). */
export const FLAG_PRIORITY_EXTENSION = 'http://hl7.org/fhir/StructureDefinition/flag-priority';
export const FLAG_PRIORITY_CODES = 'http://hl7.org/fhir/flag-priority-code';
/** Identifier systems for Vigil's own ids (URNs: no domain is assumed). */
export const VIGIL_OBSERVATION_ID = 'urn:vigil:observation';
export const VIGIL_ALARM_ID = 'urn:vigil:alarm';
export const VIGIL_DEVICE_ID = 'urn:vigil:device';
export const VIGIL_PATIENT_ID = 'urn:vigil:patient';
export const VIGIL_ALARM_STATE_EXTENSION = 'urn:vigil:fhir:alarm-state';
export const VIGIL_ALARM_VALUE_EXTENSION = 'urn:vigil:fhir:alarm-value';
