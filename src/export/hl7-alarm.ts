/**
 * HL7 v2.6 ORU^R40 in the shape of IHE PCD-04 (Report Alarm, Alarm Communication Management):
 * MSH (MSH-21 the ACM profile id), PID, PV1, OBR naming the alarm, and OBX segments for the
 * alarm itself (OBX-8: priority PH/PM/PL and source SP physiological / ST technical), the value
 * that caused it, and its phase, state and inactivation state.
 */
import { metricInfo } from '../core/metrics.js';
import type { AlarmPriority, AlarmState, AlarmTransition } from '../core/types.js';
import { components, escapeHl7, hl7Timestamp, message, mshSegment, pidSegment, pv1Segment, segment, REPETITION, type Hl7MessageOptions } from './hl7-encoding.js';
import { observationIdentifier, unitIdentifier } from './hl7.js';

/** MSH-21 of PCD-04. */
export const PCD04_PROFILE = 'IHE_PCD_ACM_001^IHE PCD^1.3.6.1.4.1.19376.1.6.4.4^ISO';
export const MDC_EVT_ALARM = '196616^MDC_EVT_ALARM^MDC';
export const MDC_ATTR_EVENT_PHASE = '68481^MDC_ATTR_EVENT_PHASE^MDC';
export const MDC_ATTR_ALARM_STATE = '68482^MDC_ATTR_ALARM_STATE^MDC';
export const MDC_ATTR_ALARM_INACTIVATION_STATE = '68483^MDC_ATTR_ALARM_INACTIVATION_STATE^MDC';

const PRIORITY: Record<AlarmPriority, string> = { high: 'PH', medium: 'PM', low: 'PL' };

/** Vigil's alarm states in ACM terms: event phase, alarm state, inactivation state. */
const ACM_STATE: Record<AlarmState, readonly [phase: string, state: string, inactivation: string]> = {
  raised: ['start', 'active', 'enabled'],
  escalated: ['escalate', 'active', 'enabled'],
  acknowledged: ['update', 'active', 'alarm-acknowledged'],
  // A latching alarm whose condition has gone stays shown until someone acknowledges it.
  cleared: ['end', 'latched', 'enabled'],
  resolved: ['end', 'inactive', 'enabled'],
};

/** Builds an ORU^R40 for one alarm transition. */
export function alarmToOruR40(a: AlarmTransition, opts: Hl7MessageOptions): string {
  const [phase, state, inactivation] = ACM_STATE[a.state];
  const ts = hl7Timestamp(a.ts);
  const alarmId = components(escapeHl7(a.id), 'VIGIL');
  const source = a.kind === 'technical' ? 'ST' : 'SP';
  const segments = [
    mshSegment(opts, 'ORU^R40^ORU_R40', PCD04_PROFILE),
    pidSegment(a.patientId, opts),
    pv1Segment(a),
    segment('OBR', '1', alarmId, alarmId, MDC_EVT_ALARM, '', '', ts),
  ];
  let n = 0;
  const obx = (type: string, id: string, value: string, units = '', flags = ''): void => {
    n += 1;
    segments.push(segment('OBX', String(n), type, id, `1.0.0.0.${n}`, value, units, '', flags, '', '', 'F', '', '', ts, '', '', '', a.deviceId !== undefined ? components(escapeHl7(a.deviceId), 'VIGIL') : ''));
  };
  obx('ST', MDC_EVT_ALARM, escapeHl7(a.reason), '', [PRIORITY[a.priority], source].join(REPETITION));
  if (a.metric !== undefined && a.value !== undefined && Number.isFinite(a.value)) {
    obx('NM', observationIdentifier(metricInfo(a.metric)), String(a.value), unitIdentifier(a.metric));
  }
  obx('ST', MDC_ATTR_EVENT_PHASE, phase);
  obx('ST', MDC_ATTR_ALARM_STATE, state);
  obx('ST', MDC_ATTR_ALARM_INACTIVATION_STATE, inactivation);
  return message(segments);
}
