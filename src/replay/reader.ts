/**
 * Reads a recording: one JSON object per line, ordered by `ts` (ISO 8601 or epoch ms).
 *
 * - observation: `{"ts", "patient"?, "metric", "value", "device"?, "quality"?, "ward"?, "bed"?}`;
 *   `acvpu` values are "A", "C", "V", "P", "U" (or their codes 0..4), `o2` is 0 air / 1 oxygen.
 *   No `patient` means an unassigned device.
 * - reading, the values one device message carried at one instant (NEWS2 scores them together):
 *   `{"ts", "patient"?, "ward"?, "bed"?, "values": {"hr": 72, "spo2": 97}, "device"?,
 *   "quality"?: {"spo2": "poor"}}`; a value without a quality is good.
 * - patient setting, in full (it replaces the patient's previous settings):
 *   `{"ts", "patient", "settings": {"spo2Scale": 2, "limits": {"spo2": {"low": 88}}}}`
 * - census change: `{"ts", "patient", "census": {"ward", "bed", "settings"}}`, or `"census": null`
 *   when the patient is discharged
 * - device data may carry `rt`, the gateway's receive time, when the device's own clock gave `ts`;
 *   the detectors then run on `rt`.
 * - technical event: `{"ts", "patient"?, "device", "event": "sensor_off", "detail"?}`
 * - acknowledgement: `{"ts", "ack": ALARM_ID, "by": "nurse"}`; silence: `{"ts", "silence": ALARM_ID, "by", "seconds"}`
 * - caregiver assignment of a ward, in full (it replaces the ward's previous one):
 *   `{"ts", "assign": WARD, "by", "assignment": {"charge"?, "beds": {"3": {"nurse"?, "buddy"?}}}}`
 */
import { z } from 'zod';
import { ACVPU_CODES, checkValue, isMetricName, metricInfo, type MetricName } from '../core/metrics.js';
import { TECHNICAL_KINDS, type Observation, type TechnicalEvent, type WardAssignment } from '../core/types.js';
import { parseIsoInstant } from '../core/time.js';
import type { PipelineInput } from '../alarms/pipeline.js';

/** A line that cannot be replayed. */
export class ReplayLineError extends Error {
  override readonly name = 'ReplayLineError';
  constructor(
    /** 1-based */
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
  }
}

// Epoch ms are taken as they are (tests and synthetic recordings run from 0); ISO text is read
// strictly, so an impossible date is an error instead of a rolled-over day.
const tsSchema = z.union([z.number().finite(), z.string()]).transform((v, ctx) => {
  if (typeof v === 'number') return v;
  if (/^\d+$/.test(v)) return Number(v);
  const ms = parseIsoInstant(v);
  if (typeof ms === 'number') return ms;
  ctx.addIssue({ code: 'custom', message: `${JSON.stringify(v.slice(0, 40))} ${ms.problem}` });
  return z.NEVER;
});
const id = z.string().min(1);
const placement = { patient: id.optional(), ward: z.string().optional(), bed: z.string().optional() };

const limitOverride = z.strictObject({
  low: z.number().optional(),
  high: z.number().optional(),
  lowHigh: z.number().optional(),
  highHigh: z.number().optional(),
});

const settingsSchema = z.strictObject({
  spo2Scale: z.union([z.literal(1), z.literal(2)]).optional(),
  limits: z.record(z.string(), limitOverride).optional(),
});
const obsLine = z.strictObject({
  ts: tsSchema,
  rt: tsSchema.optional(),
  ...placement,
  metric: z.string(),
  value: z.union([z.number(), z.string()]),
  device: id.optional(),
  quality: z.enum(['good', 'poor', 'invalid']).default('good'),
  unit: z.string().optional(),
});
const readingLine = z.strictObject({
  ts: tsSchema,
  rt: tsSchema.optional(),
  ...placement,
  values: z.record(z.string(), z.union([z.number(), z.string()])),
  device: id.optional(),
  quality: z.record(z.string(), z.enum(['good', 'poor', 'invalid'])).optional(),
});
const settingsLine = z.strictObject({ ts: tsSchema, patient: id, settings: settingsSchema });
const censusLine = z.strictObject({ ts: tsSchema, patient: id, census: z.strictObject({ ward: id, bed: id, settings: settingsSchema }).nullable() });
const techLine = z.strictObject({ ts: tsSchema, rt: tsSchema.optional(), ...placement, device: id, event: z.enum(TECHNICAL_KINDS), detail: z.string().optional() });
const ackLine = z.strictObject({ ts: tsSchema, ack: id, by: id });
const silenceLine = z.strictObject({ ts: tsSchema, silence: id, by: id, seconds: z.number().positive() });
const assignLine = z.strictObject({
  ts: tsSchema,
  assign: id,
  by: id,
  assignment: z.strictObject({ charge: id.optional(), beds: z.record(z.string(), z.strictObject({ nurse: id.optional(), buddy: id.optional() })) }),
});

/**
 * Parses one line.
 * @param lineNo 1-based, for the error
 * @returns null for a blank line
 * @throws ReplayLineError naming the line and what is wrong with it
 */
export function parseLine(text: string, lineNo: number): PipelineInput | null {
  if (text.trim() === '') return null;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new ReplayLineError(lineNo, 'not valid JSON');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ReplayLineError(lineNo, 'not a JSON object');
  const has = (k: string): boolean => Object.prototype.hasOwnProperty.call(raw, k);
  const parse = <T>(schema: z.ZodType<T>): T => {
    const r = schema.safeParse(raw);
    if (r.success) return r.data;
    const msg = r.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
    throw new ReplayLineError(lineNo, msg);
  };
  const checkLimits = (settings: z.infer<typeof settingsSchema>, path: string): void => {
    for (const m of Object.keys(settings.limits ?? {})) {
      if (!isMetricName(m)) throw new ReplayLineError(lineNo, `${path}.limits: unknown metric "${m}"`);
    }
  };
  if (has('census')) {
    const l = parse(censusLine);
    if (l.census === null) return { type: 'census', ts: l.ts, patientId: l.patient };
    checkLimits(l.census.settings, 'census.settings');
    return { type: 'census', ts: l.ts, patientId: l.patient, patient: l.census };
  }
  if (has('settings')) {
    const l = parse(settingsLine);
    checkLimits(l.settings, 'settings');
    return { type: 'settings', event: { ts: l.ts, patientId: l.patient, settings: l.settings } };
  }
  if (has('event')) {
    const l = parse(techLine);
    const event: TechnicalEvent = {
      ts: l.ts,
      ...(l.rt !== undefined && { rt: l.rt }),
      deviceId: l.device,
      kind: l.event,
      ...(l.patient !== undefined && { patientId: l.patient }),
      ...(l.ward !== undefined && { ward: l.ward }),
      ...(l.bed !== undefined && { bed: l.bed }),
      ...(l.detail !== undefined && { detail: l.detail }),
    };
    return { type: 'tech', event };
  }
  if (has('ack')) {
    const l = parse(ackLine);
    return { type: 'ack', alarmId: l.ack, by: l.by, ts: l.ts };
  }
  if (has('silence')) {
    const l = parse(silenceLine);
    return { type: 'silence', alarmId: l.silence, by: l.by, ts: l.ts, seconds: l.seconds };
  }
  if (has('assign')) {
    const l = parse(assignLine);
    return { type: 'assign', ts: l.ts, ward: l.assign, by: l.by, assignment: withoutUndefined(l.assignment) };
  }
  if (has('values')) {
    const fast = plainReading(raw as Record<string, unknown>);
    if (fast) return { type: 'reading', obs: fast };
    const l = parse(readingLine);
    const metrics = Object.keys(l.values);
    if (metrics.length === 0) throw new ReplayLineError(lineNo, 'values: a reading holds at least one value');
    for (const m of Object.keys(l.quality ?? {})) if (!metrics.includes(m)) throw new ReplayLineError(lineNo, `quality.${m}: no such value in the reading`);
    const obs = metrics.map((metric): Observation => {
      if (!isMetricName(metric)) throw new ReplayLineError(lineNo, `values: unknown metric "${metric}"`);
      const value = metricValue(metric, l.values[metric]!, lineNo);
      const bad = checkValue(metric, value);
      if (bad) throw new ReplayLineError(lineNo, `values.${metric}: ${bad}`);
      return observation(l, metric, value, l.quality?.[metric] ?? 'good');
    });
    return { type: 'reading', obs };
  }
  if (has('metric')) {
    // Almost every line of a recording is a well-formed observation: read it without the schema
    // (the replay rate rests on it); anything unusual takes the schema path, which says what is wrong.
    const fast = plainObservation(raw as Record<string, unknown>);
    if (fast) return { type: 'obs', obs: fast };
    const l = parse(obsLine);
    if (!isMetricName(l.metric)) throw new ReplayLineError(lineNo, `unknown metric "${l.metric}"`);
    const value = metricValue(l.metric, l.value, lineNo);
    const bad = checkValue(l.metric, value);
    if (bad) throw new ReplayLineError(lineNo, bad);
    return { type: 'obs', obs: observation(l, l.metric, value, l.quality) };
  }
  throw new ReplayLineError(lineNo, 'not an observation (metric), setting (settings), census change (census), technical event (event), acknowledgement (ack), silence or assignment (assign)');
}

/** The assignment as the pipeline keeps it: no keys that hold `undefined`. */
function withoutUndefined(a: { charge?: string | undefined; beds: Record<string, { nurse?: string | undefined; buddy?: string | undefined }> }): WardAssignment {
  return JSON.parse(JSON.stringify(a)) as WardAssignment;
}

const OBS_KEYS: ReadonlySet<string> = new Set(['ts', 'rt', 'patient', 'ward', 'bed', 'metric', 'value', 'device', 'quality', 'unit']);
const READING_KEYS: ReadonlySet<string> = new Set(['ts', 'rt', 'patient', 'ward', 'bed', 'values', 'device', 'quality']);
const QUALITIES: ReadonlySet<string> = new Set(['good', 'poor', 'invalid']);

/** A line time as the schema reads it, or undefined when only the schema can say what is wrong. */
function plainTs(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v !== 'string') return undefined;
  if (/^\d+$/.test(v)) return Number(v);
  const ms = parseIsoInstant(v);
  return typeof ms === 'number' ? ms : undefined;
}

const optString = (v: unknown, nonEmpty: boolean): boolean => v === undefined || (typeof v === 'string' && (!nonEmpty || v !== ''));

/** Where and when a line's device data was taken, as the schemas read it. */
interface LineHead {
  readonly ts: number;
  readonly rt?: number | undefined;
  readonly patient?: string | undefined;
  readonly ward?: string | undefined;
  readonly bed?: string | undefined;
  readonly device?: string | undefined;
}

/** One value of a line as an observation. */
function observation(h: LineHead, metric: MetricName, value: number, quality: Observation['quality']): Observation {
  return {
    ts: h.ts,
    ...(h.rt !== undefined && { rt: h.rt }),
    deviceId: h.device ?? `replay:${h.patient ?? 'unassigned'}`,
    metric,
    value,
    unit: metricInfo(metric).unit,
    quality,
    ...(h.patient !== undefined && { patientId: h.patient }),
    ...(h.ward !== undefined && { ward: h.ward }),
    ...(h.bed !== undefined && { bed: h.bed }),
  };
}

/** A line's time, place and device read by hand, when plainly valid; undefined otherwise. */
function plainHead(l: Record<string, unknown>): LineHead | undefined {
  const { patient, ward, bed, device } = l;
  if (!optString(patient, true) || !optString(device, true) || !optString(ward, false) || !optString(bed, false)) return undefined;
  const ts = plainTs(l.ts);
  const rt = l.rt === undefined ? undefined : plainTs(l.rt);
  if (ts === undefined || (l.rt !== undefined && rt === undefined)) return undefined;
  return { ts, rt, patient: patient as string | undefined, ward: ward as string | undefined, bed: bed as string | undefined, device: device as string | undefined };
}

/**
 * An observation line read by hand, exactly as `obsLine` would read it, when it is plainly valid
 * (numeric value, known metric, plausible); undefined otherwise.
 */
function plainObservation(l: Record<string, unknown>): Observation | undefined {
  for (const k in l) if (!OBS_KEYS.has(k)) return undefined;
  const { metric, value, quality } = l;
  if (typeof metric !== 'string' || !isMetricName(metric) || typeof value !== 'number' || !optString(l.unit, false)) return undefined;
  if (quality !== undefined && (typeof quality !== 'string' || !QUALITIES.has(quality))) return undefined;
  const head = plainHead(l);
  if (head === undefined || checkValue(metric, value) !== null) return undefined;
  return observation(head, metric, value, (quality as Observation['quality'] | undefined) ?? 'good');
}

/**
 * A reading line read by hand, exactly as `readingLine` would read it, when it is plainly valid
 * (numeric values of known metrics, plausible, qualities of its values); undefined otherwise.
 */
function plainReading(l: Record<string, unknown>): Observation[] | undefined {
  for (const k in l) if (!READING_KEYS.has(k)) return undefined;
  const { values, quality } = l;
  if (!isPlainObject(values) || (quality !== undefined && !isPlainObject(quality))) return undefined;
  const head = plainHead(l);
  if (head === undefined) return undefined;
  const out: Observation[] = [];
  for (const metric in values) {
    const value = values[metric];
    const q = quality?.[metric] ?? 'good';
    if (!isMetricName(metric) || typeof value !== 'number' || checkValue(metric, value) !== null || typeof q !== 'string' || !QUALITIES.has(q)) return undefined;
    out.push(observation(head, metric, value, q as Observation['quality']));
  }
  // own keys only: `in` would find a quality named after an object's own methods (`toString`)
  if (quality !== undefined) for (const m in quality) if (!Object.hasOwn(values, m)) return undefined;
  return out.length > 0 ? out : undefined;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function metricValue(metric: string, v: number | string, lineNo: number): number {
  if (typeof v === 'number') return v;
  if (metric === 'acvpu') {
    const i = (ACVPU_CODES as readonly string[]).indexOf(v.toUpperCase());
    if (i >= 0) return i;
    throw new ReplayLineError(lineNo, `acvpu: expected one of ${ACVPU_CODES.join(', ')}, got ${JSON.stringify(v)}`);
  }
  throw new ReplayLineError(lineNo, `value: expected a number, got ${JSON.stringify(v)}`);
}
