/**
 * FHIR R4 export, checked element by element against the vital-signs profile
 * (http://hl7.org/fhir/R4/observation-vitalsigns.html) for every metric in the table that has a
 * LOINC code, plus the blood pressure panel, the bundle and the alarm Flag.
 */
import { describe, expect, it } from 'vitest';
import { ACVPU_CODES, allMetrics, metricInfo, type MetricInfo } from '../../../src/core/metrics.js';
import type { AlarmTransition, Observation } from '../../../src/core/types.js';
import {
  bloodPressureToFhir,
  groupBloodPressure,
  isFhirExportable,
  observationToFhir,
  toFhirBundle,
  toFhirObservations,
  type FhirObservation,
} from '../../../src/export/fhir.js';
import { alarmToFhirFlag } from '../../../src/export/fhir-flag.js';

const TS = Date.UTC(2026, 10, 23, 8, 30, 15, 250);
const ISO = '2026-11-23T08:30:15.250Z';

function obs(metric: MetricInfo['name'], value: number, extra: Partial<Observation> = {}): Observation {
  return { ts: TS, deviceId: 'wb-07', patientId: 'P-1001', ward: 'ward-7', bed: '3', metric, value, unit: metricInfo(metric).unit, quality: 'good', ...extra };
}

/** The unit each specific vital-signs profile fixes (FHIR R4), by LOINC code. */
const PROFILE_UNIT: Record<string, { profile: string; unit: string }> = {
  '8867-4': { profile: 'heartrate', unit: '/min' },
  '9279-1': { profile: 'resprate', unit: '/min' },
  '2708-6': { profile: 'oxygensat', unit: '%' },
  '8310-5': { profile: 'bodytemp', unit: 'Cel' },
};

const withLoinc = allMetrics().filter((m) => m.loinc !== undefined);
const withoutLoinc = allMetrics().filter((m) => m.loinc === undefined);

/** A value inside the metric's plausible range. */
const sample = (m: MetricInfo): number => (m.name === 'acvpu' ? 2 : Math.round((m.min + m.max) / 2));

function expectVitalSignsCore(r: FhirObservation): void {
  expect(r.resourceType).toBe('Observation');
  expect(r.status).toBe('final');
  expect(r.meta.profile).toContain('http://hl7.org/fhir/StructureDefinition/vitalsigns');
  // VSCat slice: exactly one category with observation-category#vital-signs.
  expect(r.category).toHaveLength(1);
  expect(r.category[0]!.coding).toContainEqual({ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs', display: 'Vital Signs' });
  expect(r.subject).toEqual({ reference: 'Patient/P-1001' });
  expect(r.effectiveDateTime).toBe(ISO);
  expect(r.id).toMatch(/^[A-Za-z0-9\-.]{1,64}$/);
}

describe('FHIR Observation per metric (vital-signs profile)', () => {
  it('covers the metrics with a LOINC code', () => {
    expect(withLoinc.map((m) => m.name)).toEqual(expect.arrayContaining(['hr', 'spo2', 'rr', 'temp', 'sbp', 'dbp']));
  });

  for (const m of withLoinc) {
    it(`${m.name}: status, category, LOINC and MDC codes, subject, time, UCUM value`, () => {
      const value = sample(m);
      const r = observationToFhir(obs(m.name, value))!;
      expect(r).toBeDefined();
      expectVitalSignsCore(r);
      const codings = r.code.coding!;
      expect(codings).toContainEqual(expect.objectContaining({ system: 'http://loinc.org', code: m.loinc }));
      expect(codings[0]!.system).toBe('http://loinc.org');
      if (m.mdc !== undefined) {
        expect(codings).toContainEqual({ system: 'urn:iso:std:iso:11073:10101', code: String(m.mdc), display: m.mdcRef });
      } else {
        expect(codings.some((c) => c.system === 'urn:iso:std:iso:11073:10101')).toBe(false);
      }
      expect(r.code.text).toBe(m.label);
      if (m.name === 'acvpu') {
        expect(r.valueCodeableConcept).toEqual({ text: ACVPU_CODES[value] });
        expect(r.valueQuantity).toBeUndefined();
      } else {
        expect(r.valueQuantity).toEqual({ value, unit: m.unit, system: 'http://unitsofmeasure.org', code: m.unit });
      }
      // The specific profile for the primary code, with the unit that profile fixes.
      const specific = PROFILE_UNIT[codings[0]!.code];
      if (specific) {
        expect(r.meta.profile).toContain(`http://hl7.org/fhir/StructureDefinition/${specific.profile}`);
        expect(r.valueQuantity?.code).toBe(specific.unit);
      }
      expect(r.device).toEqual({ identifier: { system: 'urn:vigil:device', value: 'wb-07' } });
      expect(r.dataAbsentReason).toBeUndefined();
    });
  }

  it('spo2 carries 2708-6 first (oxygensat profile) and 59408-5 (pulse oximetry)', () => {
    const r = observationToFhir(obs('spo2', 94))!;
    expect(r.code.coding!.map((c) => `${c.system}|${c.code}`)).toEqual(['http://loinc.org|2708-6', 'http://loinc.org|59408-5', 'urn:iso:std:iso:11073:10101|150456']);
    expect(r.meta.profile).toEqual(['http://hl7.org/fhir/StructureDefinition/vitalsigns', 'http://hl7.org/fhir/StructureDefinition/oxygensat']);
  });

  it('leaves out what the profile cannot express: metrics without LOINC, unassigned devices', () => {
    for (const m of withoutLoinc) expect(observationToFhir(obs(m.name, m.min))).toBeUndefined();
    const unassigned = obs('hr', 70, { patientId: undefined, ward: undefined, bed: undefined });
    expect(isFhirExportable(unassigned)).toBe(false);
    expect(observationToFhir(unassigned)).toBeUndefined();
  });

  it('an invalid reading has a data-absent reason instead of a value; a poor one a note', () => {
    const r = observationToFhir(obs('spo2', 0, { quality: 'invalid' }))!;
    expect(r.valueQuantity).toBeUndefined();
    expect(r.dataAbsentReason?.coding).toEqual([{ system: 'http://terminology.hl7.org/CodeSystem/data-absent-reason', code: 'error', display: 'Error' }]);
    expect(observationToFhir(obs('hr', 70, { quality: 'poor' }))!.note).toEqual([{ text: 'Device reported poor signal quality' }]);
  });

  it('gives the same observation the same id (a replay upserts, not duplicates)', () => {
    expect(observationToFhir(obs('hr', 70))!.id).toBe(observationToFhir(obs('hr', 71))!.id);
    expect(observationToFhir(obs('hr', 70))!.id).not.toBe(observationToFhir(obs('hr', 70, { ts: TS + 1 }))!.id);
  });
});

describe('blood pressure panel', () => {
  it('pairs systolic and diastolic of the same patient, device and time into 85354-9 with two components', () => {
    const grouped = groupBloodPressure([obs('hr', 80), obs('dbp', 78), obs('spo2', 97), obs('sbp', 121)]);
    expect(grouped.map((g) => ('kind' in g ? 'bp' : g.metric))).toEqual(['hr', 'bp', 'spo2']);
    const pair = grouped[1]!;
    if (!('kind' in pair)) throw new Error('expected a pair');
    const r = bloodPressureToFhir(pair)!;
    expectVitalSignsCore(r);
    expect(r.meta.profile).toContain('http://hl7.org/fhir/StructureDefinition/bp');
    expect(r.code.coding![0]).toEqual({ system: 'http://loinc.org', code: '85354-9', display: 'Blood pressure panel with all children optional' });
    expect(r.valueQuantity).toBeUndefined();
    expect(r.component).toHaveLength(2);
    const [sys, dia] = r.component!;
    expect(sys!.code.coding![0]).toMatchObject({ system: 'http://loinc.org', code: '8480-6' });
    expect(sys!.code.coding).toContainEqual({ system: 'urn:iso:std:iso:11073:10101', code: '150021', display: 'MDC_PRESS_BLD_NONINV_SYS' });
    expect(sys!.valueQuantity).toEqual({ value: 121, unit: 'mm[Hg]', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' });
    expect(dia!.code.coding![0]).toMatchObject({ system: 'http://loinc.org', code: '8462-4' });
    expect(dia!.valueQuantity).toEqual({ value: 78, unit: 'mm[Hg]', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' });
  });

  it('does not pair readings of different times or devices', () => {
    const grouped = groupBloodPressure([obs('sbp', 120), obs('dbp', 80, { ts: TS + 1000 }), obs('dbp', 79, { deviceId: 'other' })]);
    expect(grouped.every((g) => !('kind' in g))).toBe(true);
    const resources = toFhirObservations([obs('sbp', 120), obs('dbp', 80, { ts: TS + 1000 })]);
    expect(resources.map((r) => r.code.coding![0]!.code)).toEqual(['8480-6', '8462-4']);
  });
});

describe('bundle', () => {
  it('is a collection of the exportable observations, each with a urn:uuid fullUrl', () => {
    const b = toFhirBundle([obs('hr', 70), obs('sbp', 120), obs('dbp', 80), obs('battery', 50), obs('rr', 14)], TS + 5000);
    expect(b.resourceType).toBe('Bundle');
    expect(b.type).toBe('collection');
    expect(b.timestamp).toBe('2026-11-23T08:30:20.250Z');
    expect(b.entry.map((e) => e.resource.code.coding![0]!.code)).toEqual(['8867-4', '85354-9', '9279-1']);
    for (const e of b.entry) expect(e.fullUrl).toBe(`urn:uuid:${e.resource.id}`);
    expect(b.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe('alarm as Flag', () => {
  const base: AlarmTransition = { ts: TS, id: 'al-42', kind: 'limit', priority: 'high', state: 'raised', metric: 'spo2', deviceId: 'wb-07', patientId: 'P-1001', ward: 'ward-7', bed: '3', reason: 'SpO2 84 % below 88 % for 15 s', value: 84 };

  it('maps a raised physiological alarm to an active clinical Flag with priority PH', () => {
    const f = alarmToFhirFlag(base);
    expect(f.resourceType).toBe('Flag');
    expect(f.status).toBe('active');
    expect(f.identifier).toEqual([{ system: 'urn:vigil:alarm', value: 'al-42' }]);
    expect(f.category[0]!.coding).toEqual([{ system: 'http://terminology.hl7.org/CodeSystem/flag-category', code: 'clinical', display: 'Clinical' }]);
    expect(f.code.text).toBe(base.reason);
    expect(f.code.coding).toContainEqual(expect.objectContaining({ system: 'http://loinc.org', code: '2708-6' }));
    expect(f.subject).toEqual({ reference: 'Patient/P-1001' });
    expect(f.period).toEqual({ start: ISO });
    expect(f.extension).toContainEqual({ url: 'http://hl7.org/fhir/StructureDefinition/flag-priority', valueCodeableConcept: { coding: [{ system: 'http://hl7.org/fhir/flag-priority-code', code: 'PH', display: 'High priority' }] } });
    expect(f.extension).toContainEqual({ url: 'urn:vigil:fhir:alarm-state', valueCode: 'raised' });
    expect(f.extension).toContainEqual({ url: 'urn:vigil:fhir:alarm-value', valueDecimal: 84 });
  });

  it('a resolved alarm is inactive with an end; a technical one is a safety flag; priorities map to PM and PL', () => {
    const resolved = alarmToFhirFlag({ ...base, state: 'resolved', ts: TS + 60_000 }, { raisedAt: TS });
    expect(resolved.status).toBe('inactive');
    expect(resolved.period).toEqual({ start: ISO, end: '2026-11-23T08:31:15.250Z' });
    for (const state of ['escalated', 'acknowledged', 'cleared'] as const) expect(alarmToFhirFlag({ ...base, state }).status).toBe('active');
    const tech = alarmToFhirFlag({ ...base, kind: 'technical', priority: 'low', metric: undefined, value: undefined, patientId: undefined });
    expect(tech.category[0]!.coding![0]!.code).toBe('safety');
    expect(tech.subject).toEqual({ identifier: { system: 'urn:vigil:device', value: 'wb-07' }, display: 'Device not assigned to a patient' });
    expect(JSON.stringify(tech.extension)).toContain('"PL"');
    expect(JSON.stringify(alarmToFhirFlag({ ...base, priority: 'medium' }).extension)).toContain('"PM"');
  });
});

describe('patient references', () => {
  it.each(['P1/../Practitioner/x', 'P1?_format=xml', '..', 'P 1', 'x'.repeat(65), 'ward_7-P1'])('no id can change the reference: %s', (patientId) => {
    const subjects = [
      observationToFhir(obs('hr', 70, { patientId }))!.subject,
      bloodPressureToFhir({ kind: 'bp', sbp: obs('sbp', 120, { patientId }), dbp: obs('dbp', 80, { patientId }) })!.subject,
      alarmToFhirFlag({ ts: TS, id: 'a', kind: 'limit', priority: 'high', state: 'raised', patientId, reason: 'r' }).subject,
    ];
    for (const s of subjects) expect(s).toEqual({ identifier: { system: 'urn:vigil:patient', value: patientId } });
  });

  it('a FHIR id stays a literal Patient reference', () => {
    expect(observationToFhir(obs('hr', 70, { patientId: 'P-1001.2' }))!.subject).toEqual({ reference: 'Patient/P-1001.2' });
  });
});
