/**
 * Masimo "ASCII 1" serial output, as Radical-7 and Rad-8 send it: one line a second, no checksum.
 * `02/22/16 22:47:45 SN=0000056661 SPO2=098% BPM=097 PI=03.60% SPCO=--.-% SPMET=--.-% DESAT=-- PIDELTA=+-- ALARM=0000 EXC=000800`
 * Variants: the Radical-5 line (`… PI=11.82% ALARM=20 EXC=800`) and newer Radical-7 firmware
 * (`… ALARM=000000 EXC=0000C00 EXC1=00000000`); bits per devices/masimo-radical7.
 */
import { MASIMO_ALARM } from '../../devices/masimo-radical7/index.js';
import type { VitalSample } from '../physiology.js';
import { corruptLines } from './garbage.js';
import { BATTERY_LOW_PERCENT, pad, type EncodeContext, type Encoder } from './types.js';

/** EXC bits the simulator sets. [mdpnp poxrad_discrete.h] */
export const MASIMO_EXC = {
  sensorOff: 0x000020,
  lowPerfusion: 0x000004,
  interference: 0x000010,
  lowSignalIq: 0x000400,
  set: 0x000800,
} as const;

/** Line layouts of the firmware families the profile was checked against. */
export type MasimoVariant = 'rad8' | 'radical5' | 'radical7-newer';

/** The device's own factory alarm limits (informational on the wire; Vigil keeps its own). */
const LIMITS = { spo2Low: 90, prLow: 50, prHigh: 120 };

export interface MasimoOptions {
  /** Device serial number, printed as 10 digits. */
  readonly serialNumber?: number;
  readonly variant?: MasimoVariant;
  /** Line end; the monitors send CR LF, some LF CR. */
  readonly lineEnd?: '\r\n' | '\n\r';
}

function two(n: number): string {
  return String(n).padStart(2, '0');
}

/** `MM/dd/yy HH:mm:ss` of the device clock (UTC). */
export function masimoTime(epochMs: number): string {
  const d = new Date(epochMs);
  return `${two(d.getUTCMonth() + 1)}/${two(d.getUTCDate())}/${two(d.getUTCFullYear() % 100)} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
}

const hex = (v: number, width: number) => v.toString(16).toUpperCase().padStart(width, '0');

/** One ASCII 1 line for a sample, line end included. */
export function masimoLine(s: VitalSample, epochMs: number, serialNumber: number, options: MasimoOptions = {}): string {
  const variant = options.variant ?? 'rad8';
  let exc = 0;
  if (s.sensor === 'off') exc |= MASIMO_EXC.sensorOff;
  else {
    exc |= MASIMO_EXC.set;
    if (s.sensor === 'poor') exc |= s.artifact ? MASIMO_EXC.interference | MASIMO_EXC.lowSignalIq : MASIMO_EXC.lowPerfusion | MASIMO_EXC.lowSignalIq;
  }
  const valid = s.sensor !== 'off';
  const spo2 = Math.round(s.spo2);
  const pr = Math.round(s.pr);
  let alarm = 0;
  if (valid && spo2 < LIMITS.spo2Low) alarm |= MASIMO_ALARM.spo2Low;
  if (valid && pr < LIMITS.prLow) alarm |= MASIMO_ALARM.prLow;
  if (valid && pr > LIMITS.prHigh) alarm |= MASIMO_ALARM.prHigh;
  if (alarm !== 0) alarm |= MASIMO_ALARM.active;
  if (s.battery < BATTERY_LOW_PERCENT) alarm |= MASIMO_ALARM.lowBattery;
  const values = [`SPO2=${valid ? pad(spo2, 3) : '---'}%`, `BPM=${valid ? pad(pr, 3) : '---'}`, `PI=${valid ? s.pi.toFixed(2).padStart(5, '0') : '--.--'}%`];
  const fields =
    variant === 'radical5'
      ? [masimoTime(epochMs), ...values, `ALARM=${hex(alarm, 2)}`, `EXC=${hex(exc, 3)}`]
      : [
          masimoTime(epochMs),
          `SN=${String(serialNumber).padStart(10, '0')}`,
          ...values,
          'SPCO=--.-%',
          'SPMET=--.-%',
          'DESAT=--',
          'PIDELTA=+--',
          ...(variant === 'radical7-newer'
            ? ['PVI=---', `ALARM=${hex(alarm, 6)}`, `EXC=${hex(exc, 7)}`, 'EXC1=00000000']
            : [`ALARM=${hex(alarm, 4)}`, `EXC=${hex(exc, 6)}`]),
        ];
  return `${fields.join(' ')}${options.lineEnd ?? '\r\n'}`;
}

export function createMasimoEncoder(options: MasimoOptions = {}): Encoder {
  const sn = options.serialNumber ?? 1234;
  return {
    profile: 'masimo-ascii1',
    transport: 'serial',
    periodS: 1,
    offsetS: 0,
    encode: (s: VitalSample, ctx: EncodeContext) => [Buffer.from(masimoLine(s, ctx.epochMs, sn, options), 'latin1')],
    corrupt: corruptLines,
  };
}
