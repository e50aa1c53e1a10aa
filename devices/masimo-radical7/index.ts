/**
 * `masimo-ascii1`: Masimo Radical-5, Radical-7 and Rad-8 pulse oximeters, "ASCII 1" serial
 * output, one line a second at 9600 8N1. Also accepted under its former name `masimo-radical7`.
 * See README.md in this folder.
 */
import type { SerialProfile } from '../../src/core/profile.js';
import { createLineFramer } from '../../src/sources/serial-line-framer.js';
import { decodeRadical7Line } from './decoder.js';

export { decodeRadical7Line, MASIMO_ALARM, MASIMO_EXC_BITS } from './decoder.js';

/** Longest line held while waiting for a line end, in bytes. The longest real line is about 190. */
export const RADICAL7_MAX_LINE_BYTES = 512;

/** The ASCII 1 serial profile: line framer (512-byte bound) and the line decoder. */
export const masimoRadical7Profile: SerialProfile = {
  name: 'masimo-ascii1',
  transport: 'serial',
  description: 'Masimo Radical-5, Radical-7 and Rad-8, ASCII 1 serial output (SpO2, pulse rate, PI, exceptions), 9600 8N1; formerly masimo-radical7',
  serial: { baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 },
  decode: (payload) => decodeRadical7Line(payload),
  createFramer: () => createLineFramer({ maxBytes: RADICAL7_MAX_LINE_BYTES }),
};
