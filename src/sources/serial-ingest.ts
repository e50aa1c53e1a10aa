/** Connects the serial source to ingest: frames, technical events and framing errors. */
import type { Counters } from '../core/counters.js';
import type { Logger } from '../core/log.js';
import type { TechnicalKind } from '../core/types.js';
import type { Ingest } from '../ingest/ingest.js';
import type { SerialPortConfig } from './serial-port.js';
import { SerialSource } from './serial.js';
import { FormatWatch } from './serial-format-watch.js';

/** A serial port as ingest takes it: the line and profile, and whether its device's clock is trusted. */
export interface IngestPortConfig extends SerialPortConfig {
  /** Keep the device's own timestamps (else the receive time stands for them). */
  readonly trustDeviceTime: boolean;
}

export function createSerialSource(ports: readonly IngestPortConfig[], ingest: Ingest, counters: Counters, clock: () => number, logger: Logger): SerialSource {
  const trusted = new Map(ports.map((p) => [p.deviceId, p.trustDeviceTime]));
  const technical = (deviceId: string, kind: TechnicalKind, detail: string) => {
    ingest.technical(deviceId, kind, detail, clock()).catch((err: Error) => logger.error({ device: deviceId, kind, err: err.message }, 'technical event could not be stored'));
  };
  // One watch per port: a device that keeps sending what its profile cannot read gets one
  // format_mismatch event, not thousands of silent rejections.
  const watches = new Map(
    ports.map((p) => [
      p.deviceId,
      new FormatWatch(p.profile.name, {
        mismatch: (detail) => {
          logger.warn({ device: p.deviceId, path: p.path, profile: p.profile.name, detail }, 'serial device format does not match its profile');
          technical(p.deviceId, 'format_mismatch', detail);
        },
        matched: () => logger.info({ device: p.deviceId, path: p.path, profile: p.profile.name }, 'serial device format matches its profile again'),
      }),
    ]),
  );
  return new SerialSource({
    ports,
    clock,
    logger,
    onFrame: (deviceId, profile, frame, origin, receivedAt) => {
      ingest.accept({ transport: 'serial', deviceId, origin, receivedAt, payload: frame }, profile, trusted.get(deviceId) ?? false).then(
        (result) => watches.get(deviceId)?.frame(result.accepted ? null : result.reason),
        (err: Error) => {
          // A serial device cannot resend: a frame the spool refuses is lost, so say so loudly.
          counters.reject('spool_refused');
          logger.error({ device: deviceId, origin, err: err.message }, 'serial frame could not be stored');
        },
      );
    },
    onTechnical: technical,
    onFramingError: (deviceId, origin, error, bytes) => {
      ingest.reportRejected({ transport: 'serial', deviceId, origin, receivedAt: clock() }, 'framing_error', `${error} (${bytes} bytes discarded)`);
      watches.get(deviceId)?.frame(`framing_error: ${error}`);
    },
  });
}
