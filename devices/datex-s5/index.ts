/**
 * `datex-s5`: Datex-Ohmeda S/5 style monitor, binary flag-delimited frames at 19200 8E1.
 * See README.md in this folder.
 */
import type { SerialProfile } from '../../src/core/profile.js';
import { decodeDatexBody } from './decoder.js';
import { createFlagFramer, DEFAULT_MAX_RAW_BYTES } from './framer.js';

export { decodeDatexBody, checksum, type DatexDecoded } from './decoder.js';
export { FlagFramer, createFlagFramer } from './framer.js';

/** The S/5 serial profile: flag framer (64 raw bytes between flags at most) and the body decoder. */
export const datexS5Profile: SerialProfile = {
  name: 'datex-s5',
  transport: 'serial',
  description: 'Datex-Ohmeda S/5 style monitor, binary 0x7E-framed records (HR, SpO2, PR, RR, temp, NIBP), 19200 8E1',
  serial: { baudRate: 19200, dataBits: 8, parity: 'even', stopBits: 1 },
  decode: (payload) => decodeDatexBody(payload),
  createFramer: () => createFlagFramer({ maxRawBytes: DEFAULT_MAX_RAW_BYTES }),
};
