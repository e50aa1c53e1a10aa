/**
 * Masimo Radical-7 style serial output: one ASCII line a second, CR LF, no checksum.
 * `MM/dd/yy HH:mm:ss SN=0000001234 SPO2=097% BPM=072 PI=02.10% SPCO=--.-% SPMET=--.-% DESAT=-- PIDELTA=+-- ALARM=0000 EXC=000000`
 */
import type { VitalSample } from '../physiology.js';
import { corruptLines } from './garbage.js';
import { BATTERY_LOW_PERCENT, pad, type EncodeContext, type Encoder } from './types.js';

/** EXC bits (6 hex digits). */
export const MASIMO_EXC = {
  noSensor: 0x000001,
  lowPerfusion: 0x000004,
  interference: 0x000010,
  sensorOffPatient: 0x000020,
  lowSignalIq: 0x000200,
} as const;

/** ALARM bits (4 hex digits). */
export const MASIMO_ALARM = { spo2Limit: 0x0001, prLimit: 0x0002, lowBattery: 0x0010 } as const;

/** The device's own factory alarm limits (informational on the wire; Vigil keeps its own). */
const LIMITS = { spo2Low: 90, prLow: 50, prHigh: 120 };

export interface MasimoOptions {
  /** Device serial number, printed as 10 digits. */
  readonly serialNumber?: number;
}

function two(n: number): string {
  return String(n).padStart(2, '0');
}

/** `MM/dd/yy HH:mm:ss` of the device clock (UTC). */
export function masimoTime(epochMs: number): string {
  const d = new Date(epochMs);
  return `${two(d.getUTCMonth() + 1)}/${two(d.getUTCDate())}/${two(d.getUTCFullYear() % 100)} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
}

/** One Masimo line for a sample, CR LF included. */
export function masimoLine(s: VitalSample, epochMs: number, serialNumber: number): string {
  let exc = 0;
  if (s.sensor === 'off') exc |= MASIMO_EXC.sensorOffPatient;
  else if (s.sensor === 'poor') exc |= s.artifact ? MASIMO_EXC.interference | MASIMO_EXC.lowSignalIq : MASIMO_EXC.lowPerfusion | MASIMO_EXC.lowSignalIq;
  const valid = s.sensor !== 'off';
  const spo2 = Math.round(s.spo2);
  const pr = Math.round(s.pr);
  let alarm = 0;
  if (valid && spo2 < LIMITS.spo2Low) alarm |= MASIMO_ALARM.spo2Limit;
  if (valid && (pr < LIMITS.prLow || pr > LIMITS.prHigh)) alarm |= MASIMO_ALARM.prLimit;
  if (s.battery < BATTERY_LOW_PERCENT) alarm |= MASIMO_ALARM.lowBattery;
  const fields = [
    masimoTime(epochMs),
    `SN=${String(serialNumber).padStart(10, '0')}`,
    `SPO2=${valid ? pad(spo2, 3) : '---'}%`,
    `BPM=${valid ? pad(pr, 3) : '---'}`,
    `PI=${valid ? s.pi.toFixed(2).padStart(5, '0') : '--.--'}%`,
    'SPCO=--.-%',
    'SPMET=--.-%',
    'DESAT=--',
    'PIDELTA=+--',
    `ALARM=${alarm.toString(16).toUpperCase().padStart(4, '0')}`,
    `EXC=${exc.toString(16).toUpperCase().padStart(6, '0')}`,
  ];
  return `${fields.join(' ')}\r\n`;
}

export function createMasimoEncoder(options: MasimoOptions = {}): Encoder {
  const sn = options.serialNumber ?? 1234;
  return {
    profile: 'masimo-radical7',
    transport: 'serial',
    periodS: 1,
    offsetS: 0,
    encode: (s: VitalSample, ctx: EncodeContext) => [Buffer.from(masimoLine(s, ctx.epochMs, sn), 'latin1')],
    corrupt: corruptLines,
  };
}
