/**
 * Decoder for one unescaped Datex-Ohmeda S/5 style body (see README.md in this folder). Pure.
 *
 * Body, little-endian, 22 bytes: `u8 recordType` (0x01 physiological), `u32 deviceTime`
 * (s since the Unix epoch, UTC), eight `int16` (hr, spo2, pr, rr, temp, sbp, dbp, map), then
 * `u8 checksum` = sum of all preceding body bytes mod 256.
 */
import { DecodeError } from '../../src/core/errors.js';
import type { Decoded, Reading } from '../../src/core/profile.js';
import type { MetricName } from '../../src/core/types.js';

/** Record type of a physiological data record. */
export const RECORD_PHYSIOLOGICAL = 0x01;
/** Length of a physiological body, checksum included, in bytes. */
export const BODY_LENGTH = 22;

/** Special int16 values; never turned into numbers. [wire: datex-s5 special values] */
export const DATEX_INVALID = -32767;
export const DATEX_NOT_UPDATED = -32766;
export const DATEX_UNDER_RANGE = -32764;
export const DATEX_OVER_RANGE = -32763;
/**
 * Values at or below this are status codes, not measurements. Only the four above are named;
 * the others in this band (−32768, −32765, −32762 … −32001) are treated as reserved statuses.
 */
export const DATEX_STATUS_LIMIT = -32001;

/** The eight int16 fields in wire order, with the divisor that turns them into canonical units. */
export const DATEX_FIELDS: readonly { readonly metric: MetricName; readonly divisor: number }[] = [
  { metric: 'hr', divisor: 1 }, // /min
  { metric: 'spo2', divisor: 100 }, // 0.01 % → %
  { metric: 'pr', divisor: 1 }, // /min
  { metric: 'rr', divisor: 1 }, // /min
  { metric: 'temp', divisor: 100 }, // 0.01 Cel → Cel
  { metric: 'sbp', divisor: 100 }, // 0.01 mm[Hg] → mm[Hg]
  { metric: 'dbp', divisor: 100 },
  { metric: 'map', divisor: 100 },
];

/** What a Datex body decodes to: the usual result plus notes for the log. */
export interface DatexDecoded extends Decoded {
  /**
   * Fields that carried a status instead of a value and are worth a log line: under range,
   * over range and reserved statuses, e.g. `spo2 under range`. Invalid and not-updated fields
   * are routine and not noted.
   */
  readonly notes: readonly string[];
}

/**
 * Decodes one unescaped body (the flag framer's output).
 * @returns `deviceTs` (epoch ms) and one reading per field that holds a value, in canonical
 *   units (% for spo2, Cel for temp, mm[Hg] for pressures). No technical events.
 * @throws DecodeError `truncated` (shorter than its record needs), `bad_length` (a
 *   physiological body longer than 22 bytes), `bad_checksum`, `unknown_record` (a record type
 *   other than 0x01 with a good checksum).
 */
export function decodeDatexBody(body: Buffer): DatexDecoded {
  if (body.length < 2) throw new DecodeError(`body of ${body.length} byte(s) is too short`, 'truncated');
  const type = body[0];
  if (type === RECORD_PHYSIOLOGICAL) {
    if (body.length < BODY_LENGTH) {
      throw new DecodeError(`physiological body is ${body.length} bytes, needs ${BODY_LENGTH}`, 'truncated');
    }
    if (body.length > BODY_LENGTH) {
      throw new DecodeError(`physiological body is ${body.length} bytes, expected ${BODY_LENGTH}`, 'bad_length');
    }
  }
  const expected = checksum(body.subarray(0, body.length - 1));
  const actual = body[body.length - 1];
  if (actual !== expected) {
    throw new DecodeError(`checksum 0x${hex(actual ?? 0)} does not match 0x${hex(expected)}`, 'bad_checksum');
  }
  if (type !== RECORD_PHYSIOLOGICAL) {
    throw new DecodeError(`unknown record type 0x${hex(type ?? 0)}`, 'unknown_record');
  }

  const deviceTs = body.readUInt32LE(1) * 1000;
  const readings: Reading[] = [];
  const notes: string[] = [];
  DATEX_FIELDS.forEach(({ metric, divisor }, i) => {
    const raw = body.readInt16LE(5 + 2 * i);
    if (raw > DATEX_STATUS_LIMIT) {
      readings.push({ metric, value: divisor === 1 ? raw : raw / divisor });
      return;
    }
    const note = statusNote(raw);
    if (note) notes.push(`${metric} ${note}`);
  });
  return { deviceTs, readings, events: [], notes };
}

/** Sum of the bytes mod 256. */
export function checksum(bytes: Buffer): number {
  let sum = 0;
  for (const b of bytes) sum = (sum + b) & 0xff;
  return sum;
}

function statusNote(raw: number): string | undefined {
  switch (raw) {
    case DATEX_INVALID:
    case DATEX_NOT_UPDATED:
      return undefined;
    case DATEX_UNDER_RANGE:
      return 'under range';
    case DATEX_OVER_RANGE:
      return 'over range';
    default:
      return `reserved status ${raw}`;
  }
}

function hex(n: number): string {
  return n.toString(16).padStart(2, '0');
}
