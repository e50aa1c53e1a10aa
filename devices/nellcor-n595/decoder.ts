/**
 * Decoder for the Nellcor N-595 / N-560 (OxiMax) real-time serial output (see README.md in this
 * folder): a data line every 2 s,
 *
 *   `29-Dec-17 07:18:57    89*     66     201    MO SL            `
 *
 * and the header lines the monitor repeats every 25 lines, which decode to nothing.
 * Pure: no I/O, no clock.
 */
import { DecodeError } from '../../src/core/errors.js';
import type { Decoded, Reading } from '../../src/core/profile.js';

type Event = Decoded['events'][number];

/**
 * Status codes about the sensor or the pulse signal. [mdpnp nellcor-n595.spec status] The
 * spec's names: SD SensorDisconnect, SO SensorOff, LP LossOfPulse, LM LossOfPulseInterference,
 * MO InterferenceDetected, PS PulseSearch.
 */
export const N595_SENSOR_CODES: Readonly<Record<string, { readonly kind: 'sensor_off' | 'sensor_poor' | 'pulse_lost'; readonly name: string }>> = {
  SD: { kind: 'sensor_off', name: 'sensor disconnect' },
  SO: { kind: 'sensor_off', name: 'sensor off' },
  LP: { kind: 'pulse_lost', name: 'loss of pulse' },
  LM: { kind: 'pulse_lost', name: 'loss of pulse with motion' },
  MO: { kind: 'sensor_poor', name: 'interference (motion)' },
  PS: { kind: 'sensor_poor', name: 'pulse search' },
};
const LOW_BATTERY = 'LB';
/**
 * The monitor's own alarm state: AO alarm off, AS alarm silence, PH/PL pulse rate upper/lower
 * limit, SH/SL saturation upper/lower limit. Informational: Vigil keeps its own limits.
 */
export const N595_INFORMATIONAL_CODES: readonly string[] = ['AO', 'AS', 'PH', 'PL', 'SH', 'SL'];

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];

const DATA_LINE = /^(\d{2})-([A-Za-z]{3})-(\d{2}) (\d{2}):(\d{2}):(\d{2})((?:[ \t]+\S+)*)[ \t]*$/;
/**
 * Lines that carry no reading. [mdpnp nellcor-n595.spec] The settings line (`N-560 VERSION
 * 1.56.00 CRC:XXXX SpO2 Limit: 90-100% PR Limit: 60-170BPM`, or `… INFO CRC:… SEC:…`), the
 * limits-type line (`ADULT 0SAT-S [SPO2 RESP MODE: NORMAL]`), the column titles, and the lines of
 * the monitor's interactive menu.
 */
const NON_DATA = [
  /^\S+\s+VERSION\s+\S+/,
  /^\s*(ADULT|NEO\w*)\s+\d+SAT-S\b/i,
  /^\s*TIME\s+%SPO2\s+BPM\s+PA\s+STATUS\s*$/i,
  /^\s*Command\?\s*$/,
  /^\S+\s+Interactive Mode\s*$/,
  /^\s+\d\)\s/,
];
/** A column value: digits with an optional `*` (its limit alarm is active; still valid). */
const VALUE = /^(\d+)\*?$/;
/** `---`: the column has no value (not zero). */
const INVALID = /^-+$/;
const CODE = /^[A-Z]{2}$/;

/**
 * Decodes one line.
 * @returns for a data line: `deviceTs` (device clock read as UTC, epoch ms), readings `spo2` (%)
 *   and `pr` (/min) when they carry values, a sensor event (`sensor_off`, `sensor_poor` or
 *   `sensor_ok`; none when the only sensor code is LP or LM), `pulse_lost` on LP or LM, and
 *   `battery_low`/`battery_ok`. During pulse search or loss of pulse (PS, LP, LM) a 0 is no
 *   reading; with the sensor off or disconnected (SO, SD) values are marked `invalid`. For a header,
 *   menu or blank line: no readings and no events.
 * @throws DecodeError `format_mismatch` (not a line of this output at all), `bad_line` (a data
 *   line with an impossible date, fewer than three columns, or a status token that is not two
 *   capital letters), `bad_value` (a column that is neither digits[*] nor `---`).
 */
export function decodeN595Line(payload: Buffer): Decoded {
  const line = payload.toString('latin1').replace(/^[\r\0]+/, '').replace(/[\r\n]+$/, '');
  if (line.trim() === '' || NON_DATA.some((re) => re.test(line))) return { readings: [], events: [] };
  const m = DATA_LINE.exec(line);
  if (!m) {
    const dated = /^\d{2}-[A-Za-z]{3}-\d{2} /.test(line);
    throw new DecodeError(`${dated ? 'malformed data line' : 'not a Nellcor N-595/N-560 line'}: ${JSON.stringify(line.slice(0, 40))}`, dated ? 'bad_line' : 'format_mismatch');
  }
  const deviceTs = parseDeviceTime(m);
  const columns = (m[7] ?? '').split(/[ \t]+/).filter((t) => t.length > 0);
  const [spo2, bpm, pa, ...codes] = columns;
  if (spo2 === undefined || bpm === undefined || pa === undefined) {
    throw new DecodeError('data line needs %SpO2, BPM and PA columns', 'bad_line');
  }
  for (const code of codes) {
    if (!CODE.test(code)) throw new DecodeError(`not a status code: ${JSON.stringify(code.slice(0, 20))}`, 'bad_line');
  }

  // While the monitor searches for a pulse or has lost it, it prints 0 for what it has not
  // found: no reading. With the sensor off or disconnected, what it prints is no measurement
  // (as the Masimo profile marks values shown with its sensor off).
  const noPulse = codes.some((c) => c === 'PS' || N595_SENSOR_CODES[c]?.kind === 'pulse_lost');
  const sensorOff = codes.some((c) => N595_SENSOR_CODES[c]?.kind === 'sensor_off');
  const readings: Reading[] = [];
  const add = (metric: Reading['metric'], value: number | null): void => {
    if (value === null || (noPulse && value === 0)) return;
    readings.push(sensorOff ? { metric, value, quality: 'invalid' } : { metric, value });
  };
  add('spo2', parseColumn('%SpO2', spo2));
  add('pr', parseColumn('BPM', bpm));
  // PA (pulse amplitude, 0–254) is checked for form but not stored.
  parseColumn('PA', pa);
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
  const m = VALUE.exec(text);
  if (!m) throw new DecodeError(`${name} is not a number: ${JSON.stringify(text.slice(0, 20))}`, 'bad_value');
  return Number(m[1]);
}

/**
 * Events for a line's status codes: one sensor event (SD/SO → `sensor_off`, else MO/PS →
 * `sensor_poor`; `sensor_ok` only when there is no sensor code at all, LP and LM counting as
 * ones), `pulse_lost` on LP or LM, and `battery_low` on LB else `battery_ok`. Unknown codes are
 * named once, in the first event.
 */
function statusEvents(codes: readonly string[]): Event[] {
  const unique = [...new Set(codes)];
  const sensor = unique.filter((c) => N595_SENSOR_CODES[c] !== undefined);
  const unknown = unique.filter((c) => N595_SENSOR_CODES[c] === undefined && c !== LOW_BATTERY && !N595_INFORMATIONAL_CODES.includes(c));
  const describe = (list: readonly string[]) => list.map((c) => `${c} ${N595_SENSOR_CODES[c]?.name ?? ''}`.trim()).join(', ');
  const unknownNote = unknown.length > 0 ? `unknown status code${unknown.length > 1 ? 's' : ''} ${unknown.join(' ')}` : '';
  const join = (...parts: string[]) => parts.filter((p) => p.length > 0).join('; ');
  const detailed = (kind: Event['kind'], detail: string): Event => (detail ? { kind, detail } : { kind });

  const events: Event[] = [];
  const kinds = new Set(sensor.map((c) => N595_SENSOR_CODES[c]?.kind));
  const signal = sensor.filter((c) => N595_SENSOR_CODES[c]?.kind !== 'pulse_lost');
  if (kinds.has('sensor_off')) events.push(detailed('sensor_off', join(describe(sensor), unknownNote)));
  else if (kinds.has('sensor_poor')) events.push(detailed('sensor_poor', join(describe(sensor), unknownNote)));
  else if (sensor.length === 0) events.push(detailed('sensor_ok', unknownNote));
  if (kinds.has('pulse_lost')) {
    const lost = sensor.filter((c) => N595_SENSOR_CODES[c]?.kind === 'pulse_lost');
    // When pulse_lost is the only event about the sensor, it carries the unknown-code note.
    events.push(detailed('pulse_lost', join(describe(lost), signal.length === 0 ? unknownNote : '')));
  }
  events.push(unique.includes(LOW_BATTERY) ? { kind: 'battery_low', detail: 'LB low battery' } : { kind: 'battery_ok' });
  return events;
}
