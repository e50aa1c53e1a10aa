/**
 * Decoder for Nellcor N-595 style ASCII lines (see README.md in this folder):
 *
 *   `02-Mar-26 08:00:01    97    72    45` and optional status codes: `… 93 128 30 PS MO`
 *
 * plus the header lines the monitor repeats every 25 lines, and blank lines (both skipped).
 * Pure: no I/O, no clock.
 */
import { DecodeError } from '../../src/core/errors.js';
import type { Decoded, Reading } from '../../src/core/profile.js';

type Event = Decoded['events'][number];

/** Status codes that describe the sensor or the pulse signal. [wire: nellcor-n595 status codes] */
const SENSOR_CODES: Readonly<Record<string, { readonly kind: 'sensor_off' | 'sensor_poor' | 'pulse_lost'; readonly name: string }>> = {
  SD: { kind: 'sensor_off', name: 'sensor disconnect' },
  SO: { kind: 'sensor_off', name: 'sensor off' },
  LP: { kind: 'pulse_lost', name: 'loss of pulse' },
  MO: { kind: 'sensor_poor', name: 'interference (motion)' },
  PS: { kind: 'sensor_poor', name: 'pulse search' },
};
const LOW_BATTERY = 'LB';
/** Alarm-state codes: informational, ignored. */
const INFORMATIONAL = new Set(['AO', 'AS', 'SL', 'SH', 'PL', 'PH']);

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];

const DATA_LINE = /^(\d{2})-([A-Za-z]{3})-(\d{2}) (\d{2}):(\d{2}):(\d{2})((?: +\S+)*) *$/;
const HEADER_VERSION = /^N-595 +VERSION /;
const HEADER_COLUMNS = /^TIME +%SPO2 +BPM +PA +Status *$/;
const NUMBER = /^\d+$/;
/** `---`: the column is invalid (no reading, not zero). */
const INVALID = /^-+$/;
const CODE = /^[A-Z]{2}$/;

/**
 * Decodes one N-595 line.
 * @returns for a data line: `deviceTs` (device clock read as UTC, epoch ms), readings `spo2` (%)
 *   and `pr` (/min) when valid, a sensor event (`sensor_off`, `sensor_poor` or `sensor_ok`,
 *   none when the line only says LP), `pulse_lost` on LP, and `battery_low`/`battery_ok`.
 *   For a header or blank line: no readings and no events.
 * @throws DecodeError `bad_line` (not a data, header or blank line), `bad_value` (a column that
 *   is neither digits nor `---`).
 */
export function decodeN595Line(payload: Buffer): Decoded {
  const line = payload.toString('latin1').replace(/\r?\n?$/, '');
  if (line.trim() === '' || HEADER_VERSION.test(line) || HEADER_COLUMNS.test(line.trim())) {
    return { readings: [], events: [] };
  }
  const m = DATA_LINE.exec(line);
  if (!m) throw new DecodeError(`not an N-595 data line: ${JSON.stringify(line.slice(0, 40))}`, 'bad_line');
  const deviceTs = parseDeviceTime(m);
  const columns = (m[7] ?? '').split(' ').filter((t) => t.length > 0);
  const [spo2, bpm, pa, ...codes] = columns;
  if (spo2 === undefined || bpm === undefined || pa === undefined) {
    throw new DecodeError('data line needs %SpO2, BPM and PA columns', 'bad_line');
  }

  const readings: Reading[] = [];
  const spo2Value = parseColumn('%SpO2', spo2);
  if (spo2Value !== null) readings.push({ metric: 'spo2', value: spo2Value });
  const prValue = parseColumn('BPM', bpm);
  if (prValue !== null) readings.push({ metric: 'pr', value: prValue });
  // PA (pulse amplitude, 0–254) is checked for form but not stored.
  parseColumn('PA', pa);

  for (const code of codes) {
    if (!CODE.test(code)) throw new DecodeError(`not a status code: ${JSON.stringify(code.slice(0, 20))}`, 'bad_line');
  }
  return { deviceTs, readings, events: statusEvents(codes) };
}

/** `dd-MMM-yy HH:mm:ss`, English month abbreviations, device time read as UTC; yy is 2000 + yy. */
function parseDeviceTime(m: RegExpExecArray): number {
  const day = Number(m[1]);
  const month = MONTHS.indexOf((m[2] ?? '').toUpperCase());
  const year = 2000 + Number(m[3]);
  const [hour, minute, second] = [Number(m[4]), Number(m[5]), Number(m[6])];
  if (month < 0) throw new DecodeError(`unknown month ${JSON.stringify(m[2])}`, 'bad_line');
  const ts = Date.UTC(year, month, day, hour, minute, second);
  const back = new Date(ts);
  if (back.getUTCMonth() !== month || back.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) {
    throw new DecodeError(`impossible date/time: ${m[0].slice(0, 18)}`, 'bad_line');
  }
  return ts;
}

function parseColumn(name: string, text: string): number | null {
  if (INVALID.test(text)) return null;
  if (!NUMBER.test(text)) throw new DecodeError(`${name} is not a number: ${JSON.stringify(text.slice(0, 20))}`, 'bad_value');
  return Number(text);
}

/**
 * Events for a line's status codes: one sensor event (worst of SD/SO → `sensor_off`, MO/PS →
 * `sensor_poor`; `sensor_ok` only when there is no sensor-related code at all, LP counting as one),
 * `pulse_lost` on LP, and `battery_low` on LB else `battery_ok`. Unknown codes are named once
 * in the sensor event's detail.
 */
function statusEvents(codes: readonly string[]): Event[] {
  const unique = [...new Set(codes)];
  const sensor = unique.filter((c) => SENSOR_CODES[c] !== undefined);
  const unknown = unique.filter((c) => SENSOR_CODES[c] === undefined && c !== LOW_BATTERY && !INFORMATIONAL.has(c));
  const describe = (list: readonly string[]) => list.map((c) => `${c} ${SENSOR_CODES[c]?.name ?? ''}`.trim()).join(', ');
  const unknownNote = unknown.length > 0 ? `unknown status code${unknown.length > 1 ? 's' : ''} ${unknown.join(' ')}` : '';
  const join = (...parts: string[]) => parts.filter((p) => p.length > 0).join('; ');

  const events: Event[] = [];
  const off = sensor.filter((c) => SENSOR_CODES[c]?.kind === 'sensor_off');
  const poor = sensor.filter((c) => SENSOR_CODES[c]?.kind === 'sensor_poor');
  if (off.length > 0) events.push({ kind: 'sensor_off', detail: join(describe(sensor), unknownNote) });
  else if (poor.length > 0) events.push({ kind: 'sensor_poor', detail: join(describe(sensor), unknownNote) });
  else if (sensor.length === 0) events.push(unknownNote ? { kind: 'sensor_ok', detail: unknownNote } : { kind: 'sensor_ok' });
  if (sensor.includes('LP')) {
    // LP alone carries the unknown-code note, since no sensor event is emitted then.
    const alone = off.length === 0 && poor.length === 0;
    events.push({ kind: 'pulse_lost', detail: join('LP loss of pulse', alone ? unknownNote : '') });
  }
  events.push(unique.includes(LOW_BATTERY) ? { kind: 'battery_low', detail: 'LB low battery' } : { kind: 'battery_ok' });
  return events;
}
