/**
 * Decoder for Masimo Radical-7 style ASCII lines (see README.md in this folder):
 *
 *   `MM/dd/yy HH:mm:ss SN=0000001234 SPO2=097% BPM=072 PI=02.10% … ALARM=0000 EXC=000000`
 *
 * Pure: no I/O, no clock. One call decodes one line (without or with its CR LF).
 */
import { DecodeError } from '../../src/core/errors.js';
import type { Decoded, Reading } from '../../src/core/profile.js';
import type { MetricName, TechnicalKind } from '../../src/core/types.js';

type Event = Decoded['events'][number];

/** `EXC` bits → what they mean for the sensor. [wire: masimo-radical7 EXC] */
const EXC_BITS: readonly { readonly bit: number; readonly name: string; readonly kind: 'sensor_off' | 'sensor_poor' }[] = [
  { bit: 0x000001, name: 'no sensor', kind: 'sensor_off' },
  { bit: 0x000002, name: 'defective sensor', kind: 'sensor_off' },
  { bit: 0x000004, name: 'low perfusion', kind: 'sensor_poor' },
  { bit: 0x000008, name: 'pulse search', kind: 'sensor_poor' },
  { bit: 0x000010, name: 'interference', kind: 'sensor_poor' },
  { bit: 0x000020, name: 'sensor off patient', kind: 'sensor_off' },
  { bit: 0x000040, name: 'ambient light', kind: 'sensor_poor' },
  { bit: 0x000080, name: 'unrecognised sensor', kind: 'sensor_off' },
  { bit: 0x000200, name: 'low signal IQ', kind: 'sensor_poor' },
];

/** `ALARM` bit for low battery. The limit-alarm bits (0x0001, 0x0002) are informational. */
const ALARM_LOW_BATTERY = 0x0010;

/** Keys carrying a numeric value → canonical metric (units already match: %, /min, %). */
const VALUE_KEYS: Readonly<Record<string, MetricName>> = { SPO2: 'spo2', BPM: 'pr', PI: 'pi' };

const DATE_TIME = /^(\d{2})\/(\d{2})\/(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;
const NUMBER = /^\d+(?:\.\d+)?$/;
/** Values made only of dashes and dots mean "invalid" (no reading, not zero). */
const INVALID = /^[-.]+$/;

/**
 * Decodes one Radical-7 line.
 * @returns `deviceTs` (the device clock read as UTC, epoch ms), readings for SPO2 (`spo2`, %),
 *   BPM (`pr`, /min) and PI (`pi`, %) when valid, and one sensor event (from `EXC`) and one
 *   battery event (from `ALARM`) when those keys are present.
 * @throws DecodeError `bad_line` (no date/time, or a token that is not KEY=VALUE),
 *   `missing_field` (SPO2 or BPM absent), `bad_value` (a value that is neither a number nor
 *   dashes, or malformed ALARM/EXC hex).
 */
export function decodeRadical7Line(payload: Buffer): Decoded {
  const line = payload.toString('latin1').replace(/\r?\n?$/, '');
  const tokens = line.split(' ').filter((t) => t.length > 0);
  const date = tokens[0];
  const time = tokens[1];
  if (date === undefined || time === undefined) throw new DecodeError('line has no date and time', 'bad_line');
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

  const readings: Reading[] = [];
  for (const [key, metric] of Object.entries(VALUE_KEYS)) {
    const raw = fields.get(key);
    if (raw === undefined) continue;
    const value = parseValue(key, raw);
    if (value !== null) readings.push({ metric, value });
  }

  const events: Event[] = [];
  const exc = fields.get('EXC');
  if (exc !== undefined) {
    const event = sensorEvent(parseHex('EXC', exc, 6), exc);
    if (event) events.push(event);
  }
  const alarm = fields.get('ALARM');
  if (alarm !== undefined) {
    const bits = parseHex('ALARM', alarm, 4);
    events.push(
      bits & ALARM_LOW_BATTERY
        ? { kind: 'battery_low', detail: `ALARM=${alarm} low battery` }
        : { kind: 'battery_ok' },
    );
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

/** A value with an optional trailing `%`: a number, or dashes/dots for invalid (null). */
function parseValue(key: string, raw: string): number | null {
  const text = raw.endsWith('%') ? raw.slice(0, -1) : raw;
  if (INVALID.test(text)) return null;
  if (!NUMBER.test(text)) throw new DecodeError(`${key} is not a number: ${JSON.stringify(raw.slice(0, 20))}`, 'bad_value');
  return Number(text);
}

function parseHex(key: string, raw: string, digits: number): number {
  if (raw.length !== digits || !/^[0-9A-Fa-f]+$/.test(raw)) {
    throw new DecodeError(`${key} must be ${digits} hex digits: ${JSON.stringify(raw.slice(0, 20))}`, 'bad_value');
  }
  return Number.parseInt(raw, 16);
}

/**
 * One sensor event for an `EXC` bitmask: `sensor_off` when any "off" bit is set, else
 * `sensor_poor` when any "poor" bit is set, `sensor_ok` when the mask is zero, and nothing when
 * only bits this table does not know are set. The detail names every set bit.
 */
function sensorEvent(mask: number, raw: string): Event | undefined {
  if (mask === 0) return { kind: 'sensor_ok' };
  const names: string[] = [];
  let kind: TechnicalKind | undefined;
  let known = 0;
  for (const { bit, name, kind: k } of EXC_BITS) {
    if ((mask & bit) === 0) continue;
    known |= bit;
    names.push(name);
    // The worst condition wins: off before poor.
    if (k === 'sensor_off') kind = 'sensor_off';
    else if (kind === undefined) kind = 'sensor_poor';
  }
  const unknown = mask & ~known;
  if (unknown !== 0) names.push(`unknown bits 0x${unknown.toString(16).padStart(6, '0')}`);
  if (kind === undefined) return undefined;
  return { kind, detail: `EXC=${raw}: ${names.join(', ')}` };
}
