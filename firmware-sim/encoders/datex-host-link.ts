/**
 * The simulated S/5's side of the DRI handshake: it reads what the host writes, and sends
 * displayed values only after a transfer request of its own DRI level, at the interval asked,
 * until a request with interval 0 stops it. [VSCaptureWave RequestTransfer / StopTransfer]
 */
import { DRI_HEADER, DRI_MAINTYPE, DRI_PH, DRI_REQUEST, createFlagFramer, driChecksum } from '../../devices/datex-s5/index.js';
import type { HostLink } from './types.js';

export function createDriHostLink(level: number): HostLink {
  const framer = createFlagFramer();
  let requests = 0;
  let intervalS = 0;
  /** Device time of the next record to send; undefined until the first one after a request. */
  let nextDue: number | undefined;
  const accept = (body: Buffer): void => {
    const record = body.subarray(0, body.length - 1);
    if (record.length < DRI_HEADER.size + DRI_REQUEST.size || driChecksum(record) !== body[body.length - 1]) return;
    if (record.readUInt8(DRI_HEADER.driLevel) !== level || record.readInt16LE(DRI_HEADER.mainType) !== DRI_MAINTYPE.phdb) return;
    if (record.readUInt8(DRI_HEADER.descriptors + 2) !== DRI_PH.request) return;
    const req = record.subarray(DRI_HEADER.size);
    if (req.readUInt8(DRI_REQUEST.type) !== DRI_PH.displayed) return;
    requests += 1;
    intervalS = req.readInt16LE(DRI_REQUEST.interval);
    nextDue = undefined;
  };
  return {
    receive(bytes: Buffer): void {
      for (const item of framer.push(bytes)) if ('frame' in item) accept(item.frame);
    },
    sends(t: number): boolean {
      if (intervalS <= 0) return false;
      if (nextDue !== undefined && t < nextDue - 1e-9) return false;
      nextDue = t + intervalS;
      return true;
    },
    get requests() {
      return requests;
    },
  };
}
