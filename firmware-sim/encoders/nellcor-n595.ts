/**
 * Nellcor N-595 style serial output: a data line every 2 s, CR LF, and the two header lines the
 * monitor reprints every 25 data lines.
 * `02-Mar-26 08:00:01    97    72    45` plus status codes, e.g. `   ---   ---   ---  SO`.
 */
import type { VitalSample } from '../physiology.js';
import { corruptLines } from './garbage.js';
import { BATTERY_LOW_PERCENT, type EncodeContext, type Encoder } from './types.js';

/** The two header lines, without CR LF. */
export const NELLCOR_HEADER = [
  'N-595   VERSION 1.55.00    CRC:XXXX  SpO2 Limit: 85-100%    PR Limit: 50-120BPM',
  'TIME                 %SPO2   BPM    PA   Status',
] as const;

/** Data lines between header repeats. */
export const NELLCOR_HEADER_EVERY = 25;

/** The limits printed in the header; crossing them adds the informational SL/PL/PH codes. */
const LIMITS = { spo2Low: 85, prLow: 50, prHigh: 120 };

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function two(n: number): string {
  return String(n).padStart(2, '0');
}

/** `dd-MMM-yy HH:mm:ss` of the device clock (UTC). */
export function nellcorTime(epochMs: number): string {
  const d = new Date(epochMs);
  return `${two(d.getUTCDate())}-${MONTHS[d.getUTCMonth()] ?? 'Jan'}-${two(d.getUTCFullYear() % 100)} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
}

/** One data line for a sample, CR LF included. */
export function nellcorLine(s: VitalSample, epochMs: number): string {
  const valid = s.sensor !== 'off';
  const spo2 = Math.round(s.spo2);
  const pr = Math.round(s.pr);
  // Pulse amplitude 0–254 follows perfusion at the sensor site.
  const pa = Math.min(254, Math.max(0, Math.round(s.pi * 15)));
  const codes: string[] = [];
  if (s.sensor === 'off') codes.push('SO');
  if (s.sensor === 'poor') codes.push('MO');
  if (valid && spo2 < LIMITS.spo2Low) codes.push('SL');
  if (valid && pr < LIMITS.prLow) codes.push('PL');
  if (valid && pr > LIMITS.prHigh) codes.push('PH');
  if (s.battery < BATTERY_LOW_PERCENT) codes.push('LB');
  const col = (v: number): string => (valid ? String(v) : '---').padStart(6, ' ');
  const status = codes.length > 0 ? `  ${codes.join(' ')}` : '';
  return `${nellcorTime(epochMs)}${col(spo2)}${col(pr)}${col(pa)}${status}\r\n`;
}

export function createNellcorEncoder(): Encoder {
  return {
    profile: 'nellcor-n595',
    transport: 'serial',
    periodS: 2,
    offsetS: 0,
    encode(s: VitalSample, ctx: EncodeContext): Buffer[] {
      const out: Buffer[] = [];
      if (ctx.index % NELLCOR_HEADER_EVERY === 0) for (const h of NELLCOR_HEADER) out.push(Buffer.from(`${h}\r\n`, 'latin1'));
      out.push(Buffer.from(nellcorLine(s, ctx.epochMs), 'latin1'));
      return out;
    },
    corrupt: corruptLines,
  };
}
