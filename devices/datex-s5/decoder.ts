/**
 * Decoder for one unescaped GE/Datex-Ohmeda S/5 DRI frame body: a record (40-byte header,
 * subrecord descriptors, subrecords) followed by its checksum. See README.md in this folder and
 * the layout table in `dri.ts`. Pure.
 */
import { DecodeError } from '../../src/core/errors.js';
import type { Decoded, Reading } from '../../src/core/profile.js';
import type { MetricName } from '../../src/core/types.js';
import {
  DRI_BASIC,
  DRI_CLASS,
  DRI_EOL_SUBR_LIST,
  DRI_HEADER,
  DRI_MAINTYPE,
  DRI_MARKER,
  DRI_MARKER_LIMIT,
  DRI_PH,
  DRI_PHDB,
  DRI_STATUS,
  type DriGroupName,
  driChecksum,
  driFieldOffset,
} from './dri.js';

/** What a DRI body decodes to: the usual result plus notes for the log. */
export interface DatexDecoded extends Decoded {
  /**
   * Things worth a log line: a value under or over range or not calibrated (`spo2 under
   * range`), a record of a kind that carries no vital signs, bytes past `r_len`.
   */
  readonly notes: readonly string[];
}

/**
 * Where each metric comes from in the basic class, in order of preference, with the divisor
 * that gives the canonical unit. [VSCaptureWave ProcessBasicSubRecord] hr /min, SpO2 0.01 %,
 * pressures 0.01 mmHg, temperatures 0.01 °C; the interface sends these units whatever the
 * monitor displays.
 */
const SOURCES: readonly { readonly metric: MetricName; readonly from: readonly (readonly [DriGroupName, string])[]; readonly divisor: number }[] = [
  { metric: 'hr', from: [['ecg', 'hr']], divisor: 1 },
  { metric: 'spo2', from: [['spo2', 'spo2']], divisor: 100 },
  { metric: 'pr', from: [['spo2', 'pr']], divisor: 1 },
  // Respiration rate from the CO2 module when present, else ECG impedance.
  { metric: 'rr', from: [['co2', 'rr'], ['ecg', 'impRr']], divisor: 1 },
  { metric: 'temp', from: [['t1', 'temp'], ['t2', 'temp'], ['t3', 'temp'], ['t4', 'temp']], divisor: 100 },
  { metric: 'sbp', from: [['nibp', 'sys']], divisor: 100 },
  { metric: 'dbp', from: [['nibp', 'dia']], divisor: 100 },
  { metric: 'map', from: [['nibp', 'mean']], divisor: 100 },
];

const KNOWN_MAINTYPES = new Set<number>(Object.values(DRI_MAINTYPE));
const PH_VALUES = new Set<number>([DRI_PH.displayed, DRI_PH.trend10s, DRI_PH.trend60s]);

/**
 * Decodes one frame body (record + checksum).
 * @returns `deviceTs` (the subrecord's time, epoch ms) and one reading per metric whose group
 *   exists and whose value is not a marker, in canonical units, from the first basic-class
 *   subrecord; nothing from waveform, alarm and network records. No technical events.
 * @throws DecodeError `truncated` (shorter than a header and checksum, `r_len` past the end, or a
 *   subrecord past `r_len`), `bad_checksum`, `bad_length` (`r_len` shorter than a header),
 *   `unknown_record` (a main type the interface does not define).
 */
export function decodeDatexBody(body: Buffer): DatexDecoded {
  if (body.length < DRI_HEADER.size + 1) {
    throw new DecodeError(`frame of ${body.length} byte(s) is shorter than a ${DRI_HEADER.size}-byte DRI header and its checksum`, 'truncated');
  }
  const record = body.subarray(0, body.length - 1);
  const expected = driChecksum(record);
  const actual = body[body.length - 1] ?? 0;
  if (actual !== expected) throw new DecodeError(`checksum 0x${hex(actual)} does not match 0x${hex(expected)}`, 'bad_checksum');

  const rLen = record.readInt16LE(DRI_HEADER.rLen);
  if (rLen < DRI_HEADER.size) throw new DecodeError(`r_len ${rLen} is shorter than the header`, 'bad_length');
  if (rLen > record.length) throw new DecodeError(`r_len ${rLen} is past the end of a ${record.length}-byte record`, 'truncated');
  const notes: string[] = [];
  if (rLen < record.length) notes.push(`${record.length - rLen} byte(s) after r_len ${rLen} ignored`);
  const mainType = record.readInt16LE(DRI_HEADER.mainType);
  if (!KNOWN_MAINTYPES.has(mainType)) throw new DecodeError(`unknown record main type ${mainType}`, 'unknown_record');
  const headerTime = record.readUInt32LE(DRI_HEADER.rTime);
  if (mainType !== DRI_MAINTYPE.phdb) {
    notes.push(`record main type ${mainType} carries no vital signs`);
    return { ...(headerTime > 0 ? { deviceTs: headerTime * 1000 } : {}), readings: [], events: [], notes };
  }

  const data = record.subarray(DRI_HEADER.size, rLen);
  let basic: Buffer | undefined;
  let skipped = 0;
  for (let i = 0; i < DRI_HEADER.descriptorCount; i++) {
    const at = DRI_HEADER.descriptors + i * DRI_HEADER.descriptorSize;
    const type = record.readUInt8(at + 2);
    if (type === DRI_EOL_SUBR_LIST) break;
    if (!PH_VALUES.has(type)) continue;
    const offset = record.readInt16LE(at);
    if (offset < 0 || offset + DRI_PHDB.size > data.length) {
      throw new DecodeError(`subrecord ${i} (${DRI_PHDB.size} bytes at ${offset}) runs past r_len ${rLen}`, 'truncated');
    }
    const sub = data.subarray(offset, offset + DRI_PHDB.size);
    if (((sub.readUInt16LE(DRI_PHDB.clDrilvlSubt) >> 8) & 0x0f) !== DRI_CLASS.basic) continue;
    if (basic === undefined) basic = sub;
    else skipped++;
  }
  if (skipped > 0) notes.push(`${skipped} more basic subrecord(s) ignored`);
  if (basic === undefined) return { ...(headerTime > 0 ? { deviceTs: headerTime * 1000 } : {}), readings: [], events: [], notes };

  const time = basic.readUInt32LE(DRI_PHDB.time) || headerTime;
  const readings: Reading[] = [];
  for (const { metric, from, divisor } of SOURCES) {
    for (const [group, field] of from) {
      const raw = valueOf(basic, group, field);
      if (raw === undefined) continue;
      if (raw <= DRI_MARKER_LIMIT) {
        const note = markerNote(raw);
        if (note) notes.push(`${metric} ${note}`);
        continue;
      }
      readings.push({ metric, value: divisor === 1 ? raw : raw / divisor });
      break;
    }
  }
  return { ...(time > 0 ? { deviceTs: time * 1000 } : {}), readings, events: [], notes };
}

/** The raw int16 of a field, or undefined when its group does not exist. */
function valueOf(sub: Buffer, group: DriGroupName, field: string): number | undefined {
  const status = sub.readUInt32LE(DRI_BASIC[group].at);
  if ((status & DRI_STATUS.exists) === 0) return undefined;
  return sub.readInt16LE(driFieldOffset(group, field));
}

/** Markers worth a note; invalid, not updated and discontinuity are routine. */
function markerNote(raw: number): string | undefined {
  switch (raw) {
    case DRI_MARKER.underRange:
      return 'under range';
    case DRI_MARKER.overRange:
      return 'over range';
    case DRI_MARKER.notCalibrated:
      return 'not calibrated';
    case DRI_MARKER.invalid:
    case DRI_MARKER.notUpdated:
    case DRI_MARKER.discontinuity:
      return undefined;
    default:
      return `marker ${raw}`;
  }
}

function hex(n: number): string {
  return n.toString(16).padStart(2, '0');
}
