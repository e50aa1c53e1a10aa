/**
 * `nellcor-n595`: Nellcor N-595 style pulse oximeter, ASCII trend lines every 2 s at 9600 8N1.
 * See README.md in this folder.
 */
import type { SerialProfile } from '../../src/core/profile.js';
import { createLineFramer } from '../../src/sources/serial-line-framer.js';
import { decodeN595Line } from './decoder.js';

export { decodeN595Line } from './decoder.js';

/** Longest line held while waiting for CR LF, in bytes. The longest real line is about 90 bytes. */
export const N595_MAX_LINE_BYTES = 512;

/** The N-595 serial profile: line framer (512-byte bound) and the line decoder. */
export const nellcorN595Profile: SerialProfile = {
  name: 'nellcor-n595',
  transport: 'serial',
  description: 'Nellcor N-595 style pulse oximeter, ASCII lines (SpO2, pulse rate, status codes), 9600 8N1',
  serial: { baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 },
  decode: (payload) => decodeN595Line(payload),
  createFramer: () => createLineFramer({ maxBytes: N595_MAX_LINE_BYTES }),
};
