/**
 * Turns one spool record into the MQTT message the bridge publishes upstream: its topic and its
 * payload in the configured format. Pure: no I/O; time comes in as an argument.
 *
 * Topics (each variable segment percent-encodes `/ + # %` so it stays one level):
 * - `{prefix}/alarms/{ward}/{bed}`               alarm transitions (`_` when ward or bed is unknown)
 * - `{prefix}/obs/{patient | device:{id}}/{metric}` observations
 * - `{prefix}/tech/{patient | device:{id}}/{kind}`  technical events (always JSON)
 */
import { observationsOf, type AlarmTransition, type Observation, type SpoolRecord, type TechnicalEvent } from '../core/types.js';
import { alarmToFhirFlag } from '../export/fhir-flag.js';
import { observationToFhir } from '../export/fhir.js';
import { alarmToOruR40 } from '../export/hl7-alarm.js';
import { toOruR01 } from '../export/hl7.js';
import type { BridgeFormat } from './config.js';

export interface EncodeContext {
  /** Topic prefix with `{wardId}` already filled in. */
  readonly prefix: string;
  readonly forward: { readonly alarms: boolean; readonly observations: boolean; readonly technical: boolean };
  readonly format: BridgeFormat;
  /** This gateway's client id, carried in JSON payloads and HL7 control ids. */
  readonly gatewayId: string;
  /** Epoch ms, for the HL7 message time. */
  readonly now: number;
}

export interface BridgeMessage {
  readonly topic: string;
  readonly payload: string;
}

/** Why a record produced no message. */
export type SkipReason = 'not_forwarded' | 'not_exportable';

export type EncodeOutcome = BridgeMessage | { readonly skip: SkipReason } | { readonly error: string };

/** Percent-encodes the characters that would change a topic's levels or act as wildcards. */
export function topicSegment(value: string | undefined): string {
  if (value === undefined || value === '') return '_';
  return value.replace(/[/+#%\0]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

/** The prefix with `{wardId}` replaced. */
export function resolvePrefix(template: string, wardId: string): string {
  return template.replaceAll('{wardId}', topicSegment(wardId));
}

const subjectSegment = (p: { patientId?: string; deviceId: string }): string =>
  p.patientId !== undefined && p.patientId !== '' ? topicSegment(p.patientId) : `device:${topicSegment(p.deviceId)}`;

export function alarmTopic(prefix: string, a: AlarmTransition): string {
  return `${prefix}/alarms/${topicSegment(a.ward)}/${topicSegment(a.bed)}`;
}

export function observationTopic(prefix: string, o: Observation): string {
  return `${prefix}/obs/${subjectSegment(o)}/${o.metric}`;
}

export function technicalTopic(prefix: string, e: TechnicalEvent): string {
  return `${prefix}/tech/${subjectSegment(e)}/${e.kind}`;
}

/**
 * Maps one spool entry (JSON `SpoolRecord`) to its messages, a skip, or an error: a device
 * message gives one message per observation (`part` 0, 1… in the JSON envelope, `-part` in the
 * HL7 control id, so `seq` and `part` together name each). Never throws.
 */
export function encodeRecords(seq: number, payload: Buffer, ctx: EncodeContext): EncodeOutcome[] {
  let record: SpoolRecord;
  try {
    record = JSON.parse(payload.toString('utf8')) as SpoolRecord;
  } catch {
    return [{ error: 'malformed JSON' }];
  }
  if (record.t !== 'msg') return [encodeRecord(seq, record, ctx)];
  if (!ctx.forward.observations) return [{ skip: 'not_forwarded' }];
  try {
    return observationsOf(record.m).map((o, part) => observationMessage(seq, o, ctx, part));
  } catch (err) {
    return [{ error: err instanceof Error ? err.message : String(err) }];
  }
}

/** Maps one record (not a device message) to a message, a skip, or an error. Never throws. */
function encodeRecord(seq: number, record: SpoolRecord, ctx: EncodeContext): EncodeOutcome {
  try {
    switch (record.t) {
      case 'alarm':
        return ctx.forward.alarms ? alarmMessage(seq, record.a, ctx) : { skip: 'not_forwarded' };
      case 'obs':
        return ctx.forward.observations ? observationMessage(seq, record.o, ctx) : { skip: 'not_forwarded' };
      case 'msg':
        return { error: 'a device message has several observations: use encodeRecords' };
      case 'ctl':
        // inputs to the detectors: what they cause goes upstream as alarm transitions
        return { skip: 'not_forwarded' };
      case 'tech':
        if (!ctx.forward.technical) return { skip: 'not_forwarded' };
        return { topic: technicalTopic(ctx.prefix, record.e), payload: json(seq, 'tech', record.e, ctx) };
      default:
        return { error: `unknown record type ${JSON.stringify((record as { t?: unknown }).t)}` };
    }
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

function alarmMessage(seq: number, a: AlarmTransition, ctx: EncodeContext): BridgeMessage {
  const topic = alarmTopic(ctx.prefix, a);
  switch (ctx.format) {
    case 'fhir':
      return { topic, payload: JSON.stringify(alarmToFhirFlag(a)) };
    case 'hl7':
      return { topic, payload: alarmToOruR40(a, { controlId: `${ctx.gatewayId}-${seq}`, now: ctx.now, sendingFacility: ctx.gatewayId }) };
    default:
      return { topic, payload: json(seq, 'alarm', a, ctx) };
  }
}

function observationMessage(seq: number, o: Observation, ctx: EncodeContext, part?: number): EncodeOutcome {
  const topic = observationTopic(ctx.prefix, o);
  switch (ctx.format) {
    case 'fhir': {
      const resource = observationToFhir(o);
      return resource ? { topic, payload: JSON.stringify(resource) } : { skip: 'not_exportable' };
    }
    case 'hl7':
      return { topic, payload: toOruR01([o], { controlId: `${ctx.gatewayId}-${seq}${part === undefined ? '' : `-${part}`}`, now: ctx.now, sendingFacility: ctx.gatewayId }) };
    default:
      return { topic, payload: json(seq, 'obs', o, ctx, part) };
  }
}

/**
 * JSON envelope: `seq` (and `part`, for the observations of one device message) and `gateway` let
 * a receiver drop the duplicates a replay can cause.
 */
function json(seq: number, type: 'alarm' | 'obs' | 'tech', body: unknown, ctx: EncodeContext, part?: number): string {
  return JSON.stringify({ v: 1, gateway: ctx.gatewayId, seq, ...(part !== undefined && { part }), type, [type]: body });
}
