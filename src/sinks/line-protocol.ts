/**
 * Maps spool records to InfluxDB line protocol, one point per record. Points are never merged:
 * each record becomes its own line, so replaying a batch after a crash rewrites the same points
 * (same series and timestamp) and InfluxDB's overwrite semantics make that harmless.
 *
 * Schema (timestamps in epoch milliseconds, write with `precision=ms`):
 * - `obs`   → `vitals,device=…[,patient=…,ward=…,bed=…][,quality=…] <metric>=<float>`
 * - `tech`  → `device_events,device=…[,patient,ward,bed],kind=… count=1i[,detail="…"]`
 * - `alarm` → `alarms,[patient,ward,bed,device,]kind,priority,state[,metric] count=1i,id="…",reason="…"[,by="…"][,value=<float>]`
 */
import { isMetricName } from '../core/metrics.js';
import { TECHNICAL_KINDS } from '../core/types.js';
import type { SpoolEntry } from '../spool/types.js';
import type { Encoded, RejectedRecord } from './destination.js';

/** One record turned into one line. */
export interface EncodedLine {
  /** Spool sequence number of the record the line came from. */
  readonly seq: number;
  readonly line: string;
}

/** Thrown inside this module only; callers see it as a {@link RejectedRecord}. */
class MapError extends Error {}

// Escaping follows the InfluxDB line-protocol rules ([LP] "Special characters"): measurement
// names escape commas and spaces; tag keys, tag values and field keys escape commas, equals
// signs and spaces; string field values escape double quotes. A backslash is both a literal and
// the escape character ("two contiguous backslashes: the first is an escape"), so backslashes are
// doubled everywhere: an unescaped one at the end of a tag value escapes the comma or space
// after it and the server drops the whole point while still answering 204. Line protocol has no
// escape for a newline (it ends the point, and VictoriaMetrics drops a point whose quoted string
// spans lines), so carriage returns and newlines become spaces.
// Most names need no escaping at all; the single `test` first keeps that common case cheap.
interface Escaping {
  /** Any character that needs work, newlines included. */
  readonly needs: RegExp;
  /** Characters escaped with a backslash (global). */
  readonly escaped: RegExp;
}
const MEASUREMENT: Escaping = { needs: /[\\, \r\n]/, escaped: /[\\, ]/g };
const KEY: Escaping = { needs: /[\\,= \r\n]/, escaped: /[\\,= ]/g };
const STRING: Escaping = { needs: /[\\"\r\n]/, escaped: /[\\"]/g };

function escapeChars(value: string, e: Escaping): string {
  if (!e.needs.test(value)) return value;
  return value.replace(/[\r\n]/g, ' ').replace(e.escaped, (c) => `\\${c}`);
}

/** Escapes a measurement name: backslashes, commas and spaces. */
export function escapeMeasurement(name: string): string {
  return escapeChars(name, MEASUREMENT);
}

/** Escapes a tag key, tag value or field key: backslashes, commas, equals signs and spaces. */
export function escapeKey(value: string): string {
  return escapeChars(value, KEY);
}

/** Quotes a string field value, escaping backslashes and double quotes. */
export function quoteString(value: string): string {
  return `"${escapeChars(value, STRING)}"`;
}

/**
 * Formats a float field value. Rejects NaN and infinities, which line protocol cannot carry.
 * `field`: appended to `what` in the error (`what.field`), so a caller in a loop makes no name
 * for a value that is fine.
 */
export function formatFloat(value: number, what: string, field?: string): string {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new MapError(`${field === undefined ? what : `${what}.${field}`}: not a finite number`);
  }
  return String(value);
}

/** `[tag key, value, record field it came from (when named differently)]`. */
type Tags = ReadonlyArray<readonly [string, unknown, string?]>;

/**
 * One tag as `,key=value`, or nothing for an absent or empty value (line protocol forbids empty
 * tag values). `field`: the record's field it came from, when named differently.
 */
function tag(key: string, value: unknown, what: string, field = key): string {
  if (value === undefined || value === null || value === '') return '';
  if (typeof value !== 'string') throw new MapError(`${what}.${field}: expected a string`);
  return `,${escapeKey(key)}=${escapeKey(value)}`;
}

/** Renders tags in order (see {@link tag}). */
function renderTags(tags: Tags, what: string): string {
  let out = '';
  for (const [key, value, field] of tags) out += tag(key, value, what, field);
  return out;
}

/**
 * `,device=…,patient=…,ward=…,bed=…`: where a device's data belongs, first among the tags of
 * every device record (built without a list of tags: this runs for every device message).
 */
function placementTags(device: string, r: Record<string, unknown>, what: string): string {
  return tag('device', device, what) + tag('patient', r.patientId, what, 'patientId') + tag('ward', r.ward, what) + tag('bed', r.bed, what);
}

function timestamp(ts: unknown, what: string): string {
  if (typeof ts !== 'number' || !Number.isSafeInteger(ts) || ts < 0) {
    throw new MapError(`${what}.ts: expected epoch milliseconds as a non-negative integer`);
  }
  return String(ts);
}

function requireString(value: unknown, what: string): string {
  if (typeof value !== 'string' || value === '') throw new MapError(`${what}: expected a non-empty string`);
  return value;
}

function object(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new MapError(`${what}: expected an object`);
  }
  return value as Record<string, unknown>;
}

function obsLine(o: Record<string, unknown>): string {
  const metric = requireString(o.metric, 'obs.metric');
  if (!isMetricName(metric)) throw new MapError(`obs.metric: unknown metric "${metric}"`);
  const device = requireString(o.deviceId, 'obs.deviceId');
  // Quality is a tag only when it is not `good`: most points are good, and a tag that is
  // nearly always the same value would double the series count for nothing.
  const quality = o.quality === 'good' ? undefined : o.quality;
  if (quality !== undefined && quality !== 'poor' && quality !== 'invalid') {
    throw new MapError('obs.quality: expected good, poor or invalid');
  }
  const tags = placementTags(device, o, 'obs') + tag('quality', quality, 'obs');
  const value = formatFloat(o.value as number, 'obs.value');
  return `vitals${tags} ${escapeKey(metric)}=${value} ${timestamp(o.ts, 'obs')}`;
}

/**
 * A device message as points of `vitals`: one line with every good value as a field (the same
 * series and time as one line per observation would give), and one more line per other quality.
 */
function messageLines(m: Record<string, unknown>): string {
  if (m.q !== undefined) return messageLinesByQuality(m);
  // Every value good, as almost always: one line, built without the groups below (this runs for
  // every device message the writer sends).
  const device = requireString(m.deviceId, 'msg.deviceId');
  const values = object(m.v, 'msg.v');
  let fields = '';
  for (const metric in values) {
    if (!isMetricName(metric)) throw new MapError(`msg.v: unknown metric "${metric}"`);
    // a metric name needs no escaping (isMetricName)
    const field = `${metric}=${formatFloat(values[metric] as number, 'msg.v', metric)}`;
    fields = fields === '' ? field : `${fields},${field}`;
  }
  if (fields === '') throw new MapError('msg.v: no values');
  return `vitals${placementTags(device, m, 'msg')} ${fields} ${timestamp(m.ts, 'msg')}`;
}

/** A device message with values of other qualities: a line per quality, in the order they first appear. */
function messageLinesByQuality(m: Record<string, unknown>): string {
  const device = requireString(m.deviceId, 'msg.deviceId');
  const values = object(m.v, 'msg.v');
  const qualities = object(m.q, 'msg.q');
  const groups = new Map<string, string>();
  for (const metric in values) {
    if (!isMetricName(metric)) throw new MapError(`msg.v: unknown metric "${metric}"`);
    const q = qualities[metric] ?? 'good';
    if (q !== 'good' && q !== 'poor' && q !== 'invalid') throw new MapError(`msg.q.${metric}: expected good, poor or invalid`);
    const field = `${escapeKey(metric)}=${formatFloat(values[metric] as number, 'msg.v', metric)}`;
    const prev = groups.get(q);
    groups.set(q, prev === undefined ? field : `${prev},${field}`);
  }
  if (groups.size === 0) throw new MapError('msg.v: no values');
  const ts = timestamp(m.ts, 'msg');
  const lines: string[] = [];
  for (const [q, fields] of groups) {
    // a quality tag only when not good, as for single observations
    const tags = placementTags(device, m, 'msg') + tag('quality', q === 'good' ? undefined : q, 'msg');
    lines.push(`vitals${tags} ${fields} ${ts}`);
  }
  return lines.join('\n');
}

function techLine(e: Record<string, unknown>): string {
  const device = requireString(e.deviceId, 'tech.deviceId');
  const kind = requireString(e.kind, 'tech.kind');
  if (!(TECHNICAL_KINDS as readonly string[]).includes(kind)) throw new MapError(`tech.kind: unknown kind "${kind}"`);
  const tags = placementTags(device, e, 'tech') + tag('kind', kind, 'tech');
  // `count=1i` is always written so the event is countable in stores that drop string fields;
  // `detail` rides along when the device or source gave one.
  let fields = 'count=1i';
  if (e.detail !== undefined) {
    if (typeof e.detail !== 'string') throw new MapError('tech.detail: expected a string');
    fields += `,detail=${quoteString(e.detail)}`;
  }
  return `device_events${tags} ${fields} ${timestamp(e.ts, 'tech')}`;
}

function alarmLine(a: Record<string, unknown>): string {
  const id = requireString(a.id, 'alarm.id');
  const tags = renderTags(
    [
      ['patient', a.patientId, 'patientId'],
      ['ward', a.ward],
      ['bed', a.bed],
      ['device', a.deviceId, 'deviceId'],
      ['kind', requireString(a.kind, 'alarm.kind')],
      ['priority', requireString(a.priority, 'alarm.priority')],
      ['state', requireString(a.state, 'alarm.state')],
      ['metric', a.metric],
    ],
    'alarm',
  );
  if (typeof a.reason !== 'string') throw new MapError('alarm.reason: expected a string');
  // `count=1i` gives every transition a numeric field: stores that keep only numbers (and
  // dashboards that count transitions) still see each one.
  let fields = `count=1i,id=${quoteString(id)},reason=${quoteString(a.reason)}`;
  if (a.by !== undefined) {
    if (typeof a.by !== 'string') throw new MapError('alarm.by: expected a string');
    fields += `,by=${quoteString(a.by)}`;
  }
  if (a.value !== undefined) fields += `,value=${formatFloat(a.value as number, 'alarm.value')}`;
  return `alarms${tags} ${fields} ${timestamp(a.ts, 'alarm')}`;
}

/**
 * Maps one decoded spool record (any JSON value) to a line (a device message: to its lines,
 * joined by newlines).
 * @throws Error with a reason naming the bad field; {@link encodeEntries} turns it into a rejection.
 */
export function recordToLine(record: unknown): string {
  const r = object(record, 'record');
  switch (r.t) {
    case 'msg':
      return messageLines(object(r.m, 'msg'));
    case 'obs':
      return obsLine(object(r.o, 'obs'));
    case 'tech':
      return techLine(object(r.e, 'tech'));
    case 'alarm':
      return alarmLine(object(r.a, 'alarm'));
    default:
      throw new MapError(`record.t: unknown record type ${JSON.stringify(r.t)}`);
  }
}

/**
 * Turns spool entries (JSON-encoded `SpoolRecord`s) into lines. Never throws: a record that is
 * not JSON or does not map is returned in `rejected` with its reason (e.g.
 * `obs.value: not a finite number`).
 */
export function encodeEntries(entries: readonly SpoolEntry[]): Encoded<EncodedLine> {
  const lines: EncodedLine[] = [];
  const rejected: RejectedRecord[] = [];
  for (const entry of entries) {
    const raw = entry.payload.toString('utf8');
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      rejected.push({ seq: entry.seq, reason: 'malformed JSON', raw });
      continue;
    }
    // Control inputs (acknowledgements, census changes…) are for the detectors; their effects
    // reach the database as the alarm transitions they cause.
    if (isControl(parsed)) continue;
    try {
      lines.push({ seq: entry.seq, line: recordToLine(parsed) });
    } catch (err) {
      rejected.push({ seq: entry.seq, reason: err instanceof Error ? err.message : String(err), raw });
    }
  }
  return { items: lines, rejected };
}

function isControl(r: unknown): boolean {
  return typeof r === 'object' && r !== null && (r as { t?: unknown }).t === 'ctl';
}
