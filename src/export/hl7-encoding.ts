/**
 * HL7 v2 encoding primitives shared by the message builders: escaping, timestamps, field and
 * segment assembly, and the MSH/PID/PV1 segments every Vigil message starts with.
 * Delimiters are the standard ones (MSH-1 `|`, MSH-2 `^~\&`); segments end with a carriage return.
 */
import type { Placement } from '../core/types.js';

export const FIELD = '|';
export const COMPONENT = '^';
export const REPETITION = '~';
export const ESCAPE = '\\';
export const SUBCOMPONENT = '&';
export const ENCODING_CHARACTERS = `${COMPONENT}${REPETITION}${ESCAPE}${SUBCOMPONENT}`;
export const SEGMENT_END = '\r';

const ESCAPES: Record<string, string> = {
  '\\': '\\E\\',
  '|': '\\F\\',
  '^': '\\S\\',
  '&': '\\T\\',
  '~': '\\R\\',
  '\r': '\\X0D\\',
  '\n': '\\X0A\\',
};

/**
 * Escapes text for use inside a field or component (HL7 v2.6 §2.7): `\E\ \F\ \S\ \T\ \R\`,
 * and line breaks as hex escapes `\X0D\`, `\X0A\`, so no value can end a segment.
 */
export function escapeHl7(text: string): string {
  return text.replace(/[\\|^&~\r\n]/g, (c) => ESCAPES[c] ?? c);
}

/** Joins already-escaped components with `^`, dropping trailing empty ones. */
export function components(...parts: ReadonlyArray<string | undefined>): string {
  const list = parts.map((p) => p ?? '');
  while (list.length > 0 && list[list.length - 1] === '') list.pop();
  return list.join(COMPONENT);
}

/** Builds a segment from its id and fields 1..n (already escaped), dropping trailing empty fields. */
export function segment(id: string, ...fields: ReadonlyArray<string | undefined>): string {
  const list = fields.map((f) => f ?? '');
  while (list.length > 0 && list[list.length - 1] === '') list.pop();
  return [id, ...list].join(FIELD);
}

/** Epoch ms as an HL7 DTM in UTC with milliseconds: `YYYYMMDDHHMMSS.SSS+0000`. */
export function hl7Timestamp(ts: number): string {
  const iso = new Date(ts).toISOString(); // 2026-01-02T03:04:05.678Z
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}.${iso.slice(20, 23)}+0000`;
}

/** Who sends and receives, and how the message is identified. */
export interface Hl7MessageOptions {
  /** MSH-10, unique per message from this sender. */
  readonly controlId: string;
  /** Epoch ms for MSH-7. */
  readonly now: number;
  /** MSH-3, default `VIGIL`. */
  readonly sendingApplication?: string;
  /** MSH-4, e.g. the ward or gateway id. */
  readonly sendingFacility?: string;
  /** MSH-5. */
  readonly receivingApplication?: string;
  /** MSH-6. */
  readonly receivingFacility?: string;
  /** MSH-11: P production (default), T training, D debugging. */
  readonly processingId?: 'P' | 'T' | 'D';
  /** PID-3.4, the authority that issued patient ids; default `VIGIL`. */
  readonly patientIdAuthority?: string;
}

/**
 * MSH for a v2.6 message in an IHE PCD profile.
 * @param type MSH-9, e.g. `ORU^R01^ORU_R01` (not escaped: it is made of components).
 * @param profile MSH-21, the IHE profile id (components).
 */
export function mshSegment(opts: Hl7MessageOptions, type: string, profile: string): string {
  return [
    'MSH',
    ENCODING_CHARACTERS,
    escapeHl7(opts.sendingApplication ?? 'VIGIL'),
    escapeHl7(opts.sendingFacility ?? ''),
    escapeHl7(opts.receivingApplication ?? ''),
    escapeHl7(opts.receivingFacility ?? ''),
    hl7Timestamp(opts.now),
    '',
    type,
    escapeHl7(opts.controlId),
    opts.processingId ?? 'P',
    '2.6',
    '',
    '',
    // MSH-15 accept acknowledgement AL, MSH-16 application acknowledgement NE, as IHE PCD asks.
    'AL',
    'NE',
    '',
    'UNICODE UTF-8',
    '',
    '',
    profile,
  ].join(FIELD);
}

/** PID with the patient id in PID-3 (`id^^^authority^PI`); empty PID-3 for an unassigned device. */
export function pidSegment(patientId: string | undefined, opts: Hl7MessageOptions): string {
  const pid3 = patientId === undefined ? '' : components(escapeHl7(patientId), '', '', escapeHl7(opts.patientIdAuthority ?? 'VIGIL'), 'PI');
  return segment('PID', '', '', pid3);
}

/** PV1 with patient class I (inpatient) and PV1-3 `ward^^bed` (point of care, room, bed). */
export function pv1Segment(p: Placement): string {
  const location = components(escapeHl7(p.ward ?? ''), '', escapeHl7(p.bed ?? ''));
  return segment('PV1', '', 'I', location);
}

/** Joins segments into a message, each ending with a carriage return. */
export function message(segments: readonly string[]): string {
  return segments.map((s) => s + SEGMENT_END).join('');
}
