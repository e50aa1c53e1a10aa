/**
 * Decoder for Masimo "ASCII 1" serial lines, as Radical-5, Radical-7 and Rad-8 send them once a
 * second (see README.md in this folder):
 *
 *   `02/22/16 22:47:45 SN=0000056661 SPO2=098% BPM=097 PI=03.60% SPCO=--.-% … ALARM=0000 EXC=000800`
 *
 * Pure: no I/O, no clock. One call decodes one line (with or without its line end, in either
 * order: the monitors end lines with CR LF or with LF CR).
 */
import { DecodeError } from '../../src/core/errors.js';
import type { Decoded, Reading } from '../../src/core/profile.js';
import type { MetricName, Quality } from '../../src/core/types.js';

type Event = Decoded['events'][number];
type SensorClass = 'off' | 'poor' | 'info';

/**
 * `EXC` bits. [mdpnp poxrad_discrete.h exceptionmessage] The Rad-8 manual (quoted in
 * nmenon/masimo-datacapture) lists 0x100 as reserved; mdpnp names it "incompatible sensor",
 * which is followed here (an unknown sensor gives no trustworthy value either way).
 */
export const MASIMO_EXC_BITS: readonly { readonly bit: number; readonly name: string; readonly class: SensorClass }[] = [
  { bit: 0x000001, name: 'no sensor', class: 'off' },
  { bit: 0x000002, name: 'defective sensor', class: 'off' },
  { bit: 0x000004, name: 'low perfusion', class: 'poor' },
  { bit: 0x000008, name: 'pulse search', class: 'poor' },
  { bit: 0x000010, name: 'interference', class: 'poor' },
  { bit: 0x000020, name: 'sensor off', class: 'off' },
  { bit: 0x000040, name: 'ambient light', class: 'poor' },
  { bit: 0x000080, name: 'unrecognized sensor', class: 'off' },
  { bit: 0x000100, name: 'incompatible sensor', class: 'off' },
  { bit: 0x000400, name: 'low signal IQ', class: 'poor' },
  // [Rad-8 manual via nmenon/masimo-datacapture] 0x800: the algorithm runs in full SET mode: normal.
  { bit: 0x000800, name: 'Masimo SET', class: 'info' },
  { bit: 0x001000, name: 'no cable connected', class: 'off' },
  { bit: 0x002000, name: 'cable life expired', class: 'off' },
  { bit: 0x004000, name: 'incompatible cable', class: 'off' },
  { bit: 0x008000, name: 'unrecognized cable', class: 'off' },
  { bit: 0x010000, name: 'defective cable', class: 'off' },
  { bit: 0x020000, name: 'sensor calibrating', class: 'poor' },
  { bit: 0x040000, name: 'sensor life expired', class: 'off' },
  { bit: 0x080000, name: 'emitter temperature out of range', class: 'poor' },
  { bit: 0x100000, name: 'sensor current limit exceeded', class: 'poor' },
  { bit: 0x200000, name: 'SpCO low confidence', class: 'info' },
  { bit: 0x400000, name: 'SpMET low confidence', class: 'info' },
];

/** The `EXC` bit for pulse search. */
const PULSE_SEARCH = 0x000008;

/** `ALARM` bits. [mdpnp poxrad_discrete.h alarmmessage] Only low battery becomes an event. */
export const MASIMO_ALARM = {
  spo2High: 0x0001,
  spo2Low: 0x0002,
  prHigh: 0x0004,
  prLow: 0x0008,
  active: 0x0010,
  silenced: 0x0020,
  lowBattery: 0x0040,
} as const;

/** Keys carrying a numeric value → canonical metric (units already match: %, /min, %). */
const VALUE_KEYS: Readonly<Record<string, MetricName>> = { SPO2: 'spo2', BPM: 'pr', PI: 'pi' };

const DATE_TIME = /^(\d{2})\/(\d{2})\/(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;
const NUMBER = /^\d+(?:\.\d+)?$/;
/** Values made only of dashes and dots (`---`, `--.-`, `--.--`) mean "no value" (not zero). */
const INVALID = /^[-.]+$/;
/** `ALARM`, `EXC` and `EXC1` widths seen: 2 (Radical-5), 4, 6 (Radical-7 newer), 3, 7, 8. */
const HEX = /^[0-9A-Fa-f]{1,8}$/;
/** Leading bytes a line may carry: the CR of an LF CR line end, and NULs some monitors send. */
const LEADING = /^[\r\0]+/;

/**
 * Decodes one ASCII 1 line.
 * @returns for a data line: `deviceTs` (the device clock read as UTC, epoch ms), readings for
 *   SPO2 (`spo2`, %), BPM (`pr`, /min) and PI (`pi`, %) when they carry values, one sensor event
 *   (from `EXC`) and one battery event (from `ALARM`) when those fields are present. Readings on
 *   a line whose `EXC` says the sensor is off are marked `invalid`; during pulse search a SPO2 or
 *   BPM of 0 is no reading. A blank line gives nothing.
 * @throws DecodeError `format_mismatch` (the line is not ASCII 1 at all: no date and no ASCII 1
 *   field), `bad_line` (no date/time, or a token that is not KEY=VALUE), `missing_field` (SPO2
 *   or BPM absent), `bad_value` (a value that is neither a number nor dashes, or ALARM/EXC/EXC1
 *   that is not 1–8 hex digits).
 */
export function decodeRadical7Line(payload: Buffer): Decoded {
  const line = payload.toString('latin1').replace(LEADING, '').replace(/[\r\n]+$/, '');
  if (line.trim() === '') return { readings: [], events: [] };
  const tokens = line.split(/[ \t]+/).filter((t) => t.length > 0);
  const date = tokens[0] ?? '';
  const time = tokens[1] ?? '';
  if (!DATE_TIME.test(`${date} ${time}`)) {
    const looksLikeAscii1 = /^\d{2}\/\d{2}\/\d{2}\b/.test(line) || /\b(SPO2|BPM|EXC)=/.test(line);
    throw new DecodeError(
      `${looksLikeAscii1 ? 'no MM/dd/yy HH:mm:ss at line start' : 'not a Masimo ASCII 1 line'}: ${JSON.stringify(line.slice(0, 40))}`,
      looksLikeAscii1 ? 'bad_line' : 'format_mismatch',
    );
  }
  const deviceTs = parseDeviceTime(`${date} ${time}`);

  const fields = new Map<string, string>();
  for (const token of tokens.slice(2)) {
    const eq = token.indexOf('=');
    if (eq <= 0) throw new DecodeError(`not a KEY=VALUE field: ${JSON.stringify(token.slice(0, 40))}`, 'bad_line');
    fields.set(token.slice(0, eq), token.slice(eq + 1));
  }
  for (const key of ['SPO2', 'BPM']) {
    if (!fields.has(key)) throw new DecodeError(`line has no ${key} field`, 'missing_field');
  }
  const exc1 = fields.get('EXC1');
  if (exc1 !== undefined) parseHex('EXC1', exc1);

  const events: Event[] = [];
  let quality: Quality | undefined;
  let searching = false;
  const exc = fields.get('EXC');
  if (exc !== undefined) {
    const mask = parseHex('EXC', exc);
    searching = (mask & PULSE_SEARCH) !== 0;
    const sensor = sensorEvent(mask, exc);
    events.push(sensor);
    // A value shown while the monitor says the sensor is off is not a measurement.
    if (sensor.kind === 'sensor_off') quality = 'invalid';
  }
  const alarm = fields.get('ALARM');
  if (alarm !== undefined) {
    events.push(parseHex('ALARM', alarm) & MASIMO_ALARM.lowBattery ? { kind: 'battery_low', detail: `ALARM=${alarm}: low battery` } : { kind: 'battery_ok' });
  }

  const readings: Reading[] = [];
  for (const [key, metric] of Object.entries(VALUE_KEYS)) {
    const raw = fields.get(key);
    if (raw === undefined) continue;
    const value = parseValue(key, raw);
    // During pulse search a 0 is what has not been found yet, not a measurement.
    if (value === null || (searching && value === 0 && metric !== 'pi')) continue;
    readings.push(quality ? { metric, value, quality } : { metric, value });
  }
  return { deviceTs, readings, events };
}

/** `MM/dd/yy HH:mm:ss`, device local time with no zone, read as UTC; yy is 2000 + yy. */
function parseDeviceTime(text: string): number {
  const m = DATE_TIME.exec(text);
  if (!m) throw new DecodeError(`no date/time at line start: ${JSON.stringify(text.slice(0, 40))}`, 'bad_line');
  const [month, day, year, hour, minute, second] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const ts = Date.UTC(2000 + year, month - 1, day, hour, minute, second);
  const back = new Date(ts);
  // Date.UTC rolls 02/30 over to March; a real device clock never says that.
  if (back.getUTCMonth() !== month - 1 || back.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) {
    throw new DecodeError(`impossible date/time: ${text}`, 'bad_line');
  }
  return ts;
}

/** A value with an optional trailing `%`: a number, or dashes/dots for no value (null). */
function parseValue(key: string, raw: string): number | null {
  const text = raw.endsWith('%') ? raw.slice(0, -1) : raw;
  if (INVALID.test(text)) return null;
  if (!NUMBER.test(text)) throw new DecodeError(`${key} is not a number: ${JSON.stringify(raw.slice(0, 20))}`, 'bad_value');
  return Number(text);
}

function parseHex(key: string, raw: string): number {
  if (!HEX.test(raw)) throw new DecodeError(`${key} must be 1 to 8 hex digits: ${JSON.stringify(raw.slice(0, 20))}`, 'bad_value');
  return Number.parseInt(raw, 16);
}

/**
 * The sensor event for an `EXC` bitmask: `sensor_off` when any "off" bit is set, else
 * `sensor_poor` when any "poor" bit is set, else `sensor_ok` (0x800 "Masimo SET" and the
 * low-confidence bits are normal operation). The detail names every set bit, unknown ones too.
 */
function sensorEvent(mask: number, raw: string): Event {
  const names: string[] = [];
  let off = false;
  let poor = false;
  let known = 0;
  for (const { bit, name, class: c } of MASIMO_EXC_BITS) {
    if ((mask & bit) === 0) continue;
    known |= bit;
    if (c === 'info') continue;
    names.push(name);
    if (c === 'off') off = true;
    else poor = true;
  }
  const unknown = mask & ~known;
  if (unknown !== 0) names.push(`unknown bits 0x${unknown.toString(16)}`);
  const kind = off ? 'sensor_off' : poor ? 'sensor_poor' : 'sensor_ok';
  return names.length === 0 ? { kind } : { kind, detail: `EXC=${raw}: ${names.join(', ')}` };
}
