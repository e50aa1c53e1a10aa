/**
 * HL7 v2.6 ORU^R01 in the shape of IHE PCD-01 (Communicate PCD Data): MSH (MSH-21 the PCD-01
 * profile id), PID, PV1 (ward and bed in PV1-3), one OBR, and one OBX per observation with
 * OBX-3 the IEEE 11073 MDC code, OBX-6 the unit in MDC with its UCUM code as the alternate, and
 * OBX-14 the observation time. Metrics without an MDC code use LOINC (`LN`), and failing that
 * Vigil's local code system `99VGL`.
 */
import { ACVPU_CODES, metricInfo, type MetricInfo, type MetricName } from '../core/metrics.js';
import type { Observation } from '../core/types.js';
import {
  components,
  escapeHl7,
  hl7Timestamp,
  message,
  mshSegment,
  pidSegment,
  pv1Segment,
  segment,
  type Hl7MessageOptions,
} from './hl7-encoding.js';

export { escapeHl7, hl7Timestamp, type Hl7MessageOptions } from './hl7-encoding.js';

/** MSH-21 of PCD-01: profile id, namespace, OID, ISO. */
export const PCD01_PROFILE = 'IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO';
/** OBR-4 of PCD-01: SNOMED CT "monitoring of patient". */
export const PCD01_OBR4 = '182777000^monitoring of patient^SNOMED-CT';
/** Local coding system for metrics that have neither an MDC nor a LOINC code. */
export const LOCAL_CODE_SYSTEM = '99VGL';

/** MDC unit codes for the UCUM units in the metric table (IEEE 11073-10101 dimensions). */
const MDC_UNITS: Record<string, { code: number; ref: string }> = {
  '%': { code: 262688, ref: 'MDC_DIM_PERCENT' },
  Cel: { code: 268192, ref: 'MDC_DIM_DEGC' },
  'mm[Hg]': { code: 266016, ref: 'MDC_DIM_MMHG' },
  '{score}': { code: 262656, ref: 'MDC_DIM_DIMLESS' },
  '{bool}': { code: 262656, ref: 'MDC_DIM_DIMLESS' },
};
const BEATS_PER_MIN = { code: 264864, ref: 'MDC_DIM_BEAT_PER_MIN' };
const BREATHS_PER_MIN = { code: 264928, ref: 'MDC_DIM_RESP_PER_MIN' };

/** OBX-3 for a metric: `code^name^MDC`, or LOINC, or the local code. Components escaped. */
export function observationIdentifier(info: MetricInfo): string {
  if (info.mdc !== undefined) return components(String(info.mdc), escapeHl7(info.mdcRef ?? ''), 'MDC');
  if (info.loinc !== undefined) return components(info.loinc, escapeHl7(info.label), 'LN');
  return components(info.name, escapeHl7(info.label), LOCAL_CODE_SYSTEM);
}

/** OBX-6 for a metric: the MDC unit with the UCUM code as alternate (`262688^MDC_DIM_PERCENT^MDC^%^%^UCUM`). */
export function unitIdentifier(metric: MetricName): string {
  const info = metricInfo(metric);
  const mdc = info.unit === '/min' ? (metric === 'rr' ? BREATHS_PER_MIN : BEATS_PER_MIN) : MDC_UNITS[info.unit];
  const ucum = escapeHl7(info.unit);
  if (!mdc) return components(ucum, ucum, 'UCUM');
  return components(String(mdc.code), mdc.ref, 'MDC', ucum, ucum, 'UCUM');
}

/**
 * One OBX. `setId` is OBX-1 and the last part of the OBX-4 containment id `1.1.1.n`
 * (MDS.VMD.channel.metric). Quality `invalid` gives an empty OBX-5 and result status `X`
 * (cannot be obtained); otherwise `R` (device data, not verified by a person).
 */
export function obxSegment(o: Observation, setId: number): string {
  const info = metricInfo(o.metric);
  const invalid = o.quality === 'invalid' || !Number.isFinite(o.value);
  const letter = o.metric === 'acvpu' ? ACVPU_CODES[o.value] : undefined;
  const type = letter !== undefined ? 'ST' : 'NM';
  const value = invalid ? '' : letter ?? String(o.value);
  return segment(
    'OBX',
    String(setId),
    type,
    observationIdentifier(info),
    `1.1.1.${setId}`,
    value,
    unitIdentifier(o.metric),
    '',
    '',
    '',
    '',
    invalid ? 'X' : 'R',
    '',
    '',
    hl7Timestamp(o.ts),
    '',
    '',
    '',
    components(escapeHl7(o.deviceId), 'VIGIL'),
  );
}

/**
 * Builds an ORU^R01 for observations of one patient (or one unassigned device).
 * @throws RangeError when the list is empty or mixes patients.
 */
export function toOruR01(observations: readonly Observation[], opts: Hl7MessageOptions): string {
  const first = observations[0];
  if (!first) throw new RangeError('toOruR01: no observations');
  for (const o of observations) {
    if (o.patientId !== first.patientId) throw new RangeError('toOruR01: observations of different patients belong in separate messages');
    if (first.patientId === undefined && o.deviceId !== first.deviceId) throw new RangeError('toOruR01: unassigned observations of different devices belong in separate messages');
  }
  let start = first.ts;
  let end = first.ts;
  for (const o of observations) {
    start = Math.min(start, o.ts);
    end = Math.max(end, o.ts);
  }
  const order = components(escapeHl7(opts.controlId), 'VIGIL');
  return message([
    mshSegment(opts, 'ORU^R01^ORU_R01', PCD01_PROFILE),
    pidSegment(first.patientId, opts),
    pv1Segment(first),
    segment('OBR', '1', order, order, PCD01_OBR4, '', '', hl7Timestamp(start), hl7Timestamp(end)),
    ...observations.map((o, i) => obxSegment(o, i + 1)),
  ]);
}
