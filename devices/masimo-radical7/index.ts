/**
 * `masimo-radical7`: Masimo Radical-7 style pulse oximeter, ASCII serial output, one line a
 * second at 9600 8N1. See README.md in this folder.
 */
import type { SerialProfile } from '../../src/core/profile.js';
import { createLineFramer } from '../../src/sources/serial-line-framer.js';
import { decodeRadical7Line } from './decoder.js';

export { decodeRadical7Line } from './decoder.js';

/** Longest line held while waiting for CR LF, in bytes. A real line is about 130 bytes. */
export const RADICAL7_MAX_LINE_BYTES = 512;

/** The Radical-7 serial profile: line framer (512-byte bound) and the line decoder. */
export const masimoRadical7Profile: SerialProfile = {
  name: 'masimo-radical7',
  transport: 'serial',
  description: 'Masimo Radical-7 style pulse oximeter, ASCII lines (SpO2, pulse rate, PI, exceptions), 9600 8N1',
  serial: { baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 },
  decode: (payload) => decodeRadical7Line(payload),
  createFramer: () => createLineFramer({ maxBytes: RADICAL7_MAX_LINE_BYTES }),
};
