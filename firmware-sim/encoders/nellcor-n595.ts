/**
 * Nellcor N-595 / N-560 real-time serial output: a data line every 2 s, CR LF, and the three
 * header lines the monitor reprints every 25 data lines, laid out as in a real N-560 capture
 * (konz/cosmopusher `demo_stream.py`):
 * `29-Dec-17 07:18:57    89*     66     201    MO SL            `
 */
import type { VitalSample } from '../physiology.js';
import { corruptLines } from './garbage.js';
import { BATTERY_LOW_PERCENT, type EncodeContext, type Encoder } from './types.js';

/** The limits printed in the header; crossing them stars the value and adds SL/PL/PH. */
const LIMITS = { spo2Low: 85, spo2High: 100, prLow: 50, prHigh: 120 };

/** The three header lines, without CR LF. */
export const NELLCOR_HEADER = [
  `N-595    VERSION 1.55.00    CRC:XXXX  SpO2 Limit: ${LIMITS.spo2Low}-${LIMITS.spo2High}%    PR Limit: ${LIMITS.prLow}-${LIMITS.prHigh}BPM`,
  '                             ADULT            0SAT-S ',
  'TIME                 %SpO2   BPM     PA     Status',
] as const;

/** Data lines between header repeats. */
export const NELLCOR_HEADER_EVERY = 25;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function two(n: number): string {
  return String(n).padStart(2, '0');
}

/** `dd-MMM-yy HH:mm:ss` of the device clock (UTC). */
export function nellcorTime(epochMs: number): string {
  const d = new Date(epochMs);
  return `${two(d.getUTCDate())}-${MONTHS[d.getUTCMonth()] ?? 'Jan'}-${two(d.getUTCFullYear() % 100)} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
}

/** One data line for a sample, CR LF included. Columns as the monitor aligns them. */
export function nellcorLine(s: VitalSample, epochMs: number): string {
  const valid = s.sensor !== 'off';
  const spo2 = Math.round(s.spo2);
  const pr = Math.round(s.pr);
  // Pulse amplitude 0–254 follows perfusion at the sensor site.
  const pa = Math.min(254, Math.max(0, Math.round(s.pi * 15)));
  const spo2Alarm = valid && spo2 < LIMITS.spo2Low;
  const prAlarm = valid && (pr < LIMITS.prLow || pr > LIMITS.prHigh);
  const codes: string[] = [];
  if (s.sensor === 'off') codes.push('SO');
  if (s.sensor === 'poor') codes.push('MO');
  if (spo2Alarm) codes.push('SL');
  if (valid && pr < LIMITS.prLow) codes.push('PL');
  if (valid && pr > LIMITS.prHigh) codes.push('PH');
  if (s.battery < BATTERY_LOW_PERCENT) codes.push('LB');
  // A value whose limit alarm is active carries a star, which takes the next column's first space.
  const col = (text: string, starred: boolean, width: number) => (starred ? `${text}*`.padStart(width + 1) : text.padStart(width));
  const spo2Col = valid ? col(String(spo2), spo2Alarm, 6) : '   ---';
  const prCol = valid ? col(String(pr), prAlarm, spo2Alarm ? 7 : 8) : '     ---';
  const paCol = valid ? String(pa).padStart(prAlarm ? 7 : 8) : '     ---';
  return `${nellcorTime(epochMs)}${spo2Col}${prCol}${paCol}    ${codes.join(' ').padEnd(17)}\r\n`;
}

export function createNellcorEncoder(): Encoder {
  return {
    profile: 'nellcor-n595-n560',
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
