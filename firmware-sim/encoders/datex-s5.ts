/**
 * GE/Datex-Ohmeda S/5 DRI output: a displayed-values record every 5 s (a 40-byte header, one
 * descriptor and one 278-byte basic-class subrecord with grouped values and their status),
 * framed, escaped and checksummed as devices/datex-s5 reads it. Like the real monitor it sends
 * nothing until the host asks (see `createDriHostLink`).
 */
import {
  DRI_BASIC,
  DRI_HEADER,
  DRI_LEVEL,
  DRI_MAINTYPE,
  DRI_MARKER,
  DRI_PH,
  DRI_PHDB,
  DRI_STATUS,
  type DriGroupName,
  driFieldOffset,
  driFrame,
  driRecord,
} from '../../devices/datex-s5/index.js';
import type { VitalSample } from '../physiology.js';
import { createDriHostLink } from './datex-host-link.js';
import { corruptFrames } from './garbage.js';
import type { EncodeContext, Encoder } from './types.js';

export { createDriHostLink } from './datex-host-link.js';

/** Seconds between records: the interface's shortest displayed-values interval. */
export const DATEX_PERIOD_S = 5;
/** The simulated monitor's DRI level. */
export const DATEX_SIM_LEVEL = DRI_LEVEL.l2005;

/** A value in hundredths, or the over/under-range marker when it does not fit an int16. */
function hundredths(v: number): number {
  const n = Math.round(v * 100);
  if (n > 32767) return DRI_MARKER.overRange;
  if (n < -32000) return DRI_MARKER.underRange;
  return n;
}

/** One displayed-values record (unframed) for a sample; `nibp` is the last cuff measurement, if any. */
export function datexRecord(s: VitalSample, epochMs: number, nibp?: VitalSample): Buffer {
  const time = Math.floor(epochMs / 1000);
  const r = driRecord(DRI_HEADER.size + DRI_PHDB.size, { level: DATEX_SIM_LEVEL, time, mainType: DRI_MAINTYPE.phdb }, [{ offset: 0, type: DRI_PH.displayed }]);
  const sub = r.subarray(DRI_HEADER.size);
  sub.writeUInt32LE(time >>> 0, DRI_PHDB.time);
  // Every value starts invalid, as in a real record of absent modules.
  for (let at = DRI_PHDB.data; at < DRI_PHDB.marker; at += 2) sub.writeInt16LE(DRI_MARKER.invalid, at);
  for (const g of Object.values(DRI_BASIC)) sub.writeUInt32LE(0, g.at);
  const group = (name: DriGroupName, values: Record<string, number>) => {
    sub.writeUInt32LE(DRI_STATUS.exists | DRI_STATUS.active, DRI_BASIC[name].at);
    sub.writeUInt16LE(0, DRI_BASIC[name].at + 4);
    for (const [field, v] of Object.entries(values)) sub.writeInt16LE(v, driFieldOffset(name, field));
  };
  const oxim = s.sensor !== 'off';
  // ECG: heart rate and impedance respiration rate, unaffected by the finger sensor.
  group('ecg', { hr: Math.round(s.hr), impRr: Math.round(s.rr) });
  group('spo2', oxim ? { spo2: hundredths(Math.round(s.spo2)), pr: Math.round(s.pr) } : { spo2: DRI_MARKER.invalid, pr: DRI_MARKER.invalid });
  group('t1', { temp: hundredths(s.temp) });
  // A cuff reports whole mmHg, carried in hundredths; before the first cycle there is none.
  group('nibp', nibp ? { sys: hundredths(Math.round(nibp.sbp)), dia: hundredths(Math.round(nibp.dbp)), mean: hundredths(Math.round(nibp.map)) } : {});
  // cl_drilvl_subt: basic class, this level, displayed values (as 0x00B1 in a real record).
  sub.writeUInt16LE((DATEX_SIM_LEVEL << 4) | DRI_PH.displayed, DRI_PHDB.clDrilvlSubt);
  return r;
}

export function createDatexEncoder(): Encoder {
  return {
    profile: 'ge-datex-s5-dri',
    transport: 'serial',
    periodS: DATEX_PERIOD_S,
    offsetS: 0,
    encode: (s: VitalSample, ctx: EncodeContext) => [driFrame(datexRecord(s, ctx.epochMs, ctx.nibp))],
    corrupt: (units, rand) => corruptFrames(units, rand, 0x7e),
    createHostLink: () => createDriHostLink(DATEX_SIM_LEVEL),
  };
}
