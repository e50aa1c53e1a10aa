/** Connects the serial source to ingest: frames, technical events and framing errors. */
import type { Counters } from '../core/counters.js';
import type { Logger } from '../core/log.js';
import type { Ingest } from '../ingest/ingest.js';
import type { ResolvedPort } from '../config/resolve.js';
import { SerialSource } from './serial.js';

export function createSerialSource(ports: readonly ResolvedPort[], ingest: Ingest, counters: Counters, clock: () => number, logger: Logger): SerialSource {
  const trusted = new Map(ports.map((p) => [p.deviceId, p.trustDeviceTime]));
  return new SerialSource({
    ports,
    clock,
    logger,
    onFrame: (deviceId, profile, frame, origin, receivedAt) => {
      ingest.accept({ transport: 'serial', deviceId, origin, receivedAt, payload: frame }, profile, trusted.get(deviceId) ?? false).catch((err: Error) => {
        // A serial device cannot resend: a frame the spool refuses is lost, so say so loudly.
        counters.reject('spool_refused');
        logger.error({ device: deviceId, origin, err: err.message }, 'serial frame could not be stored');
      });
    },
    onTechnical: (deviceId, kind, detail) => {
      ingest.technical(deviceId, kind, detail, clock()).catch((err: Error) => logger.error({ device: deviceId, kind, err: err.message }, 'technical event could not be stored'));
    },
    onFramingError: (deviceId, origin, error, bytes) => {
      ingest.reportRejected({ transport: 'serial', deviceId, origin, receivedAt: clock() }, 'framing_error', `${error} (${bytes} bytes discarded)`);
    },
  });
}
