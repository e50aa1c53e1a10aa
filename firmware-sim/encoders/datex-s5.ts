/**
 * Datex-Ohmeda S/5 style binary frames: `0x7E` + escaped(body) + `0x7E`, body little-endian
 * (22 bytes): u8 record type 0x01, u32 device time (s, UTC), int16 hr, spo2 (0.01 %), pr, rr,
 * temp (0.01 °C), sbp, dbp, map (0.01 mmHg), u8 additive checksum of the preceding bytes.
 * NIBP fields are "not updated" except on the frame right after a cuff measurement.
 */
import type { VitalSample } from '../physiology.js';
import { corruptFrames } from './garbage.js';
import type { EncodeContext, Encoder } from './types.js';

export const DATEX_FLAG = 0x7e;
export const DATEX_ESCAPE = 0x7d;
export const DATEX_RECORD_PHYSIOLOGICAL = 0x01;
export const DATEX_BODY_LENGTH = 22;

/** Special int16 values that are never numbers. */
export const DATEX_SPECIAL = { invalid: -32767, notUpdated: -32766, underRange: -32764, overRange: -32763 } as const;

/** Seconds between frames. The S/5 computer interface sends displayed values every 5 s at its fastest. */
export const DATEX_PERIOD_S = 5;

/** A value in the field's unit, scaled and clamped into int16, or a special value. */
function scaled(v: number, factor: number): number {
  const n = Math.round(v * factor);
  if (n > 32767) return DATEX_SPECIAL.overRange;
  if (n < -32762) return DATEX_SPECIAL.underRange;
  return n;
}

/** The unescaped 22-byte body for a sample. */
export function datexBody(s: VitalSample, epochMs: number, nibp?: VitalSample): Buffer {
  const body = Buffer.alloc(DATEX_BODY_LENGTH);
  body.writeUInt8(DATEX_RECORD_PHYSIOLOGICAL, 0);
  body.writeUInt32LE(Math.floor(epochMs / 1000) >>> 0, 1);
  const oxim = s.sensor !== 'off';
  const values = [
    Math.round(s.hr), // ECG: unaffected by the finger sensor
    oxim ? scaled(Math.round(s.spo2), 100) : DATEX_SPECIAL.invalid,
    oxim ? Math.round(s.pr) : DATEX_SPECIAL.invalid,
    Math.round(s.rr),
    scaled(s.temp, 100),
    // A cuff reports whole mmHg; the interface carries them in hundredths.
    nibp ? scaled(Math.round(nibp.sbp), 100) : DATEX_SPECIAL.notUpdated,
    nibp ? scaled(Math.round(nibp.dbp), 100) : DATEX_SPECIAL.notUpdated,
    nibp ? scaled(Math.round(nibp.map), 100) : DATEX_SPECIAL.notUpdated,
  ];
  values.forEach((v, i) => body.writeInt16LE(v, 5 + 2 * i));
  body.writeUInt8(checksum(body.subarray(0, DATEX_BODY_LENGTH - 1)), DATEX_BODY_LENGTH - 1);
  return body;
}

/** 8-bit additive checksum: sum of bytes mod 256. */
export function checksum(bytes: Uint8Array): number {
  let sum = 0;
  for (const b of bytes) sum = (sum + b) & 0xff;
  return sum;
}

/** Escapes 0x7E and 0x7D in a body and adds the flags. */
export function datexFrame(body: Uint8Array): Buffer {
  const out: number[] = [DATEX_FLAG];
  for (const b of body) {
    if (b === DATEX_FLAG || b === DATEX_ESCAPE) out.push(DATEX_ESCAPE, b ^ 0x20);
    else out.push(b);
  }
  out.push(DATEX_FLAG);
  return Buffer.from(out);
}

export function createDatexEncoder(): Encoder {
  return {
    profile: 'datex-s5',
    transport: 'serial',
    periodS: DATEX_PERIOD_S,
    offsetS: 0,
    encode: (s: VitalSample, ctx: EncodeContext) => [datexFrame(datexBody(s, ctx.epochMs, ctx.nibp))],
    corrupt: (units, rand) => corruptFrames(units, rand, DATEX_FLAG),
  };
}
