/**
 * `nellcor-n595-n560`: Nellcor N-595 and N-560 (OxiMax) pulse oximeters, real-time ASCII trend
 * output, a line every 2 s at 9600 8N1. Also accepted under its former name `nellcor-n595`.
 * See README.md in this folder.
 */
import type { SerialProfile } from '../../src/core/profile.js';
import { createLineFramer } from '../../src/sources/serial-line-framer.js';
import { decodeN595Line } from './decoder.js';

export { decodeN595Line, N595_INFORMATIONAL_CODES, N595_SENSOR_CODES } from './decoder.js';

/** Longest line held while waiting for a line end, in bytes. The longest real line is about 90. */
export const N595_MAX_LINE_BYTES = 512;

/** The N-595/N-560 serial profile: line framer (512-byte bound) and the line decoder. */
export const nellcorN595Profile: SerialProfile = {
  name: 'nellcor-n595-n560',
  transport: 'serial',
  description: 'Nellcor N-595 and N-560 (OxiMax), real-time ASCII output (SpO2, pulse rate, status codes), 9600 8N1; formerly nellcor-n595',
  serial: { baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 },
  decode: (payload) => decodeN595Line(payload),
  createFramer: () => createLineFramer({ maxBytes: N595_MAX_LINE_BYTES }),
};
