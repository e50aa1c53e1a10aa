/**
 * HL7 v2.6 ORU^R01 (IHE PCD-01 shape) and ORU^R40 (PCD-04 shape), segment by segment and field by
 * field, including the escaping of delimiters in values.
 */
import { describe, expect, it } from 'vitest';
import { ACVPU_CODES, allMetrics, metricInfo, type MetricName } from '../../../src/core/metrics.js';
import type { AlarmTransition, Observation } from '../../../src/core/types.js';
import { escapeHl7, hl7Timestamp, obxSegment, PCD01_PROFILE, toOruR01, unitIdentifier } from '../../../src/export/hl7.js';
import { alarmToOruR40, PCD04_PROFILE } from '../../../src/export/hl7-alarm.js';

const TS = Date.UTC(2026, 10, 23, 8, 30, 15, 250);
const HL7_TS = '20261123083015.250+0000';
const NOW = Date.UTC(2026, 10, 23, 8, 31, 0, 0);
const OPTS = { controlId: 'gw-1-42', now: NOW, sendingFacility: 'ward-7', receivingApplication: 'CIS' };

function obs(metric: MetricName, value: number, extra: Partial<Observation> = {}): Observation {
  return { ts: TS, deviceId: 'ox-01', patientId: 'P-1001', ward: 'ward-7', bed: '3', metric, value, unit: metricInfo(metric).unit, quality: 'good', ...extra };
}

/** Segments of a message (the last one also ends with CR, so the split leaves an empty tail). */
function segments(msg: string): string[][] {
  const parts = msg.split('\r');
  expect(parts.at(-1)).toBe('');
  return parts.slice(0, -1).map((s) => s.split('|'));
}

/** HL7 field n of a non-MSH segment (fields[0] is the segment id). MSH is shifted by one: use msh(). */
const field = (seg: string[], n: number): string => seg[n] ?? '';
/** MSH-n: MSH-1 is the field separator itself, so MSH-n sits at index n-1. */
const msh = (seg: string[], n: number): string => (n === 1 ? '|' : seg[n - 1] ?? '');

/** Undoes escapeHl7, to check the escaping round-trips. */
function unescape(text: string): string {
  return text.replace(/\\(E|F|S|T|R|X0D|X0A)\\/g, (_m, c: string) => ({ E: '\\', F: '|', S: '^', T: '&', R: '~', X0D: '\r', X0A: '\n' })[c]!);
}

/** OBX-6 the tests expect: MDC dimension codes from IEEE 11073-10101, UCUM alternate. */
const MDC_UNIT: Record<string, string> = {
  hr: '264864^MDC_DIM_BEAT_PER_MIN^MDC^/min^/min^UCUM',
  pr: '264864^MDC_DIM_BEAT_PER_MIN^MDC^/min^/min^UCUM',
  rr: '264928^MDC_DIM_RESP_PER_MIN^MDC^/min^/min^UCUM',
  spo2: '262688^MDC_DIM_PERCENT^MDC^%^%^UCUM',
  temp: '268192^MDC_DIM_DEGC^MDC^Cel^Cel^UCUM',
  sbp: '266016^MDC_DIM_MMHG^MDC^mm[Hg]^mm[Hg]^UCUM',
  dbp: '266016^MDC_DIM_MMHG^MDC^mm[Hg]^mm[Hg]^UCUM',
  map: '266016^MDC_DIM_MMHG^MDC^mm[Hg]^mm[Hg]^UCUM',
};

describe('escaping', () => {
  it.each([
    ['|', '\\F\\'],
    ['^', '\\S\\'],
    ['&', '\\T\\'],
    ['~', '\\R\\'],
    ['\\', '\\E\\'],
    ['\r', '\\X0D\\'],
    ['\n', '\\X0A\\'],
    ['plain text 1.5', 'plain text 1.5'],
  ])('%j becomes %j', (raw, escaped) => {
    expect(escapeHl7(raw)).toBe(escaped);
  });

  it('escapes the escape character first, so every value round-trips', () => {
    const nasty = 'a|b^c&d~e\\f\\F\\g\r\nh';
    const escaped = escapeHl7(nasty);
    expect(escaped).not.toMatch(/[|^&~\r\n]/);
    expect(unescape(escaped)).toBe(nasty);
  });

  it('formats timestamps as YYYYMMDDHHMMSS.SSS in UTC', () => {
    expect(hl7Timestamp(TS)).toBe(HL7_TS);
    expect(hl7Timestamp(Date.UTC(2026, 0, 2, 3, 4, 5, 6))).toBe('20260102030405.006+0000');
  });
});

describe('ORU^R01 (PCD-01)', () => {
  const msg = toOruR01([obs('spo2', 97), obs('hr', 72, { ts: TS + 2000 }), obs('rr', 0, { ts: TS - 1000, quality: 'invalid' })], OPTS);
  const segs = segments(msg);

  it('has MSH, PID, PV1, OBR and one OBX per observation, separated by CR', () => {
    expect(segs.map((s) => s[0])).toEqual(['MSH', 'PID', 'PV1', 'OBR', 'OBX', 'OBX', 'OBX']);
    expect(msg).not.toContain('\n');
  });

  it('MSH: delimiters, apps, time, type, control id, version, acks, charset, PCD-01 profile', () => {
    const m = segs[0]!;
    expect(msh(m, 1)).toBe('|');
    expect(msh(m, 2)).toBe('^~\\&');
    expect(msh(m, 3)).toBe('VIGIL');
    expect(msh(m, 4)).toBe('ward-7');
    expect(msh(m, 5)).toBe('CIS');
    expect(msh(m, 7)).toBe('20261123083100.000+0000');
    expect(msh(m, 9)).toBe('ORU^R01^ORU_R01');
    expect(msh(m, 10)).toBe('gw-1-42');
    expect(msh(m, 11)).toBe('P');
    expect(msh(m, 12)).toBe('2.6');
    expect(msh(m, 15)).toBe('AL');
    expect(msh(m, 16)).toBe('NE');
    expect(msh(m, 18)).toBe('UNICODE UTF-8');
    expect(msh(m, 21)).toBe(PCD01_PROFILE);
    expect(PCD01_PROFILE).toBe('IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO');
    expect(m).toHaveLength(21);
  });

  it('PID-3 is the patient id with its authority and type PI; PV1-3 is ward^^bed', () => {
    expect(field(segs[1]!, 3)).toBe('P-1001^^^VIGIL^PI');
    expect(field(segs[2]!, 2)).toBe('I');
    expect(field(segs[2]!, 3)).toBe('ward-7^^3');
  });

  it('OBR: order numbers, monitoring-of-patient code, time span of the observations', () => {
    const o = segs[3]!;
    expect(field(o, 1)).toBe('1');
    expect(field(o, 2)).toBe('gw-1-42^VIGIL');
    expect(field(o, 3)).toBe('gw-1-42^VIGIL');
    expect(field(o, 4)).toBe('182777000^monitoring of patient^SNOMED-CT');
    expect(field(o, 7)).toBe(hl7Timestamp(TS - 1000));
    expect(field(o, 8)).toBe(hl7Timestamp(TS + 2000));
  });

  it('OBX: set id, NM, MDC code, containment id, value, unit, status, time, device', () => {
    const x = segs[4]!;
    expect(field(x, 1)).toBe('1');
    expect(field(x, 2)).toBe('NM');
    expect(field(x, 3)).toBe('150456^MDC_PULS_OXIM_SAT_O2^MDC');
    expect(field(x, 4)).toBe('1.1.1.1');
    expect(field(x, 5)).toBe('97');
    expect(field(x, 6)).toBe('262688^MDC_DIM_PERCENT^MDC^%^%^UCUM');
    expect(field(x, 11)).toBe('R');
    expect(field(x, 14)).toBe(HL7_TS);
    expect(field(x, 18)).toBe('ox-01^VIGIL');
    expect(field(segs[5]!, 3)).toBe('147842^MDC_ECG_HEART_RATE^MDC');
    expect(field(segs[5]!, 14)).toBe(hl7Timestamp(TS + 2000));
  });

  it('an invalid reading has an empty value and status X', () => {
    const x = segs[6]!;
    expect(field(x, 3)).toBe('151562^MDC_RESP_RATE^MDC');
    expect(field(x, 5)).toBe('');
    expect(field(x, 11)).toBe('X');
  });

  for (const m of allMetrics()) {
    it(`OBX for ${m.name}: code and unit`, () => {
      const value = m.name === 'acvpu' ? 1 : m.min;
      const x = segments(obxSegment(obs(m.name, value), 1) + '\r')[0]!;
      if (m.mdc !== undefined) expect(field(x, 3)).toBe(`${m.mdc}^${m.mdcRef}^MDC`);
      else if (m.loinc !== undefined) expect(field(x, 3)).toBe(`${m.loinc}^${escapeHl7(m.label)}^LN`);
      else expect(field(x, 3)).toBe(`${m.name}^${escapeHl7(m.label)}^99VGL`);
      const expectedUnit = MDC_UNIT[m.name];
      if (expectedUnit) expect(field(x, 6)).toBe(expectedUnit);
      else expect(field(x, 6)).toMatch(new RegExp(`(^|\\^)${m.unit.replace(/[[\]{}]/g, '\\$&')}\\^UCUM$`));
      expect(unitIdentifier(m.name)).toBe(field(x, 6));
      expect(field(x, 2)).toBe(m.name === 'acvpu' ? 'ST' : 'NM');
      expect(field(x, 5)).toBe(m.name === 'acvpu' ? ACVPU_CODES[1] : String(value));
    });
  }

  it('escapes delimiters in ids, ward and bed so they cannot break fields', () => {
    const tricky = toOruR01([obs('hr', 70, { patientId: 'P|1^x', ward: 'W&7', bed: '2~b\\c', deviceId: 'ox|9' })], { ...OPTS, controlId: 'c|1' });
    const s = segments(tricky);
    expect(s.map((x) => x[0])).toEqual(['MSH', 'PID', 'PV1', 'OBR', 'OBX']);
    expect(msh(s[0]!, 10)).toBe('c\\F\\1');
    expect(field(s[1]!, 3)).toBe('P\\F\\1\\S\\x^^^VIGIL^PI');
    expect(field(s[2]!, 3)).toBe('W\\T\\7^^2\\R\\b\\E\\c');
    expect(field(s[4]!, 18)).toBe('ox\\F\\9^VIGIL');
    expect(s[4]).toHaveLength(19);
  });

  it('an unassigned device has an empty PID-3; mixing patients is refused', () => {
    const s = segments(toOruR01([obs('hr', 70, { patientId: undefined })], OPTS));
    expect(s[1]).toEqual(['PID']);
    expect(() => toOruR01([obs('hr', 70), obs('hr', 70, { patientId: 'P-2' })], OPTS)).toThrow(RangeError);
    expect(() => toOruR01([], OPTS)).toThrow(RangeError);
  });
});

describe('ORU^R40 (PCD-04)', () => {
  const alarm: AlarmTransition = { ts: TS, id: 'al-7', kind: 'limit', priority: 'high', state: 'raised', metric: 'spo2', deviceId: 'ox-01', patientId: 'P-1001', ward: 'ward-7', bed: '3', reason: 'SpO2 84 % < 88 % | 15 s', value: 84 };

  it('MSH names ORU^R40 and the ACM profile; OBR names the alarm; OBX carry priority, value and state', () => {
    const s = segments(alarmToOruR40(alarm, OPTS));
    expect(s.map((x) => x[0])).toEqual(['MSH', 'PID', 'PV1', 'OBR', 'OBX', 'OBX', 'OBX', 'OBX', 'OBX']);
    expect(msh(s[0]!, 9)).toBe('ORU^R40^ORU_R40');
    expect(msh(s[0]!, 21)).toBe(PCD04_PROFILE);
    expect(field(s[3]!, 2)).toBe('al-7^VIGIL');
    expect(field(s[3]!, 4)).toBe('196616^MDC_EVT_ALARM^MDC');
    expect(field(s[3]!, 7)).toBe(HL7_TS);
    const [event, value, phase, state, inactivation] = s.slice(4);
    expect(field(event!, 5)).toBe('SpO2 84 % < 88 % \\F\\ 15 s');
    expect(field(event!, 8)).toBe('PH~SP');
    expect(field(value!, 3)).toBe('150456^MDC_PULS_OXIM_SAT_O2^MDC');
    expect(field(value!, 5)).toBe('84');
    expect([field(phase!, 3), field(phase!, 5)]).toEqual(['68481^MDC_ATTR_EVENT_PHASE^MDC', 'start']);
    expect([field(state!, 3), field(state!, 5)]).toEqual(['68482^MDC_ATTR_ALARM_STATE^MDC', 'active']);
    expect([field(inactivation!, 3), field(inactivation!, 5)]).toEqual(['68483^MDC_ATTR_ALARM_INACTIVATION_STATE^MDC', 'enabled']);
    for (const x of s.slice(4)) expect(field(x, 14)).toBe(HL7_TS);
  });

  it.each([
    ['acknowledged', 'update', 'active', 'alarm-acknowledged'],
    ['cleared', 'end', 'latched', 'enabled'],
    ['resolved', 'end', 'inactive', 'enabled'],
    ['escalated', 'escalate', 'active', 'enabled'],
  ] as const)('%s → phase %s, state %s, inactivation %s', (st, phase, state, inactivation) => {
    const s = segments(alarmToOruR40({ ...alarm, state: st, kind: 'technical', priority: 'low', value: undefined }, OPTS));
    const obx = s.filter((x) => x[0] === 'OBX');
    expect(field(obx[0]!, 8)).toBe('PL~ST');
    expect(obx.slice(1).map((x) => field(x, 5))).toEqual([phase, state, inactivation]);
  });
});
