/**
 * `ge-datex-s5-dri`: GE/Datex-Ohmeda S/5 monitors, DRI computer interface (levels 2001 to 2015),
 * displayed values, 19200 8E1. The host asks for the transfer; the monitor sends nothing until
 * it does. Also accepted under its former name `datex-s5`. See README.md in this folder.
 */
import type { SerialProfile } from '../../src/core/profile.js';
import { decodeDatexBody } from './decoder.js';
import { createFlagFramer, DEFAULT_MAX_RAW_BYTES } from './framer.js';
import { driTransferRequests } from './dri.js';

export { decodeDatexBody, type DatexDecoded } from './decoder.js';
export { FlagFramer, createFlagFramer } from './framer.js';
export * from './dri.js';

/** Seconds between displayed-values records asked for: the interface's shortest. */
export const DATEX_REQUEST_INTERVAL_S = 5;
/** A monitor silent this long after a request is asked again (it may have been restarted), ms. */
export const DATEX_RESEND_AFTER_SILENCE_MS = 30_000;

/** The S/5 DRI serial profile: flag framer, the record decoder, and the transfer request. */
export const datexS5Profile: SerialProfile = {
  name: 'ge-datex-s5-dri',
  transport: 'serial',
  description: 'GE/Datex-Ohmeda S/5, DRI computer interface, displayed values (HR, SpO2, PR, RR, temp, NIBP), 19200 8E1; sends the transfer request; formerly datex-s5',
  serial: { baudRate: 19200, dataBits: 8, parity: 'even', stopBits: 1 },
  decode: (payload) => decodeDatexBody(payload),
  createFramer: () => createFlagFramer({ maxRawBytes: DEFAULT_MAX_RAW_BYTES }),
  host: { onOpen: () => driTransferRequests(DATEX_REQUEST_INTERVAL_S), resendAfterSilenceMs: DATEX_RESEND_AFTER_SILENCE_MS },
};
