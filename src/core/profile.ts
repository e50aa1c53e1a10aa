/**
 * The device-profile seam. A profile turns one frame of a device's wire format into readings and
 * technical events. Profiles are pure: no I/O, no clocks (receive time comes in the context).
 * See devices/README.md for how to add one.
 */
import type { MetricName } from './metrics.js';
import type { Quality, TechnicalKind } from './types.js';

/** One value a frame carried, before census tagging. */
export interface Reading {
  readonly metric: MetricName;
  /** In the metric's canonical unit (core/metrics.ts). */
  readonly value: number;
  /** Defaults to `good`. */
  readonly quality?: Quality;
}

/** What a profile extracted from one frame. */
export interface Decoded {
  /** Device clock, epoch ms, when the frame carried one. Used only when the device's time is trusted. */
  readonly deviceTs?: number;
  readonly readings: readonly Reading[];
  readonly events: readonly { readonly kind: TechnicalKind; readonly detail?: string }[];
  /** Remarks worth a debug log line (e.g. a value the device reported as over range). */
  readonly notes?: readonly string[];
}

export interface DecodeContext {
  readonly deviceId: string;
  /** Epoch ms the gateway received the frame. */
  readonly receivedAt: number;
}

export interface DeviceProfile {
  /** The name used as `profile:` in the config. */
  readonly name: string;
  readonly transport: 'mqtt' | 'serial';
  /** One line for `vigil profiles` and logs. */
  readonly description: string;
  /**
   * Decodes one frame.
   * @throws DecodeError when the frame is malformed; the caller counts it and drops the frame.
   */
  decode(payload: Buffer, ctx: DecodeContext): Decoded;
}

/** Output of a framer: a whole frame, or a stretch of bytes that was discarded and why. */
export type FramerItem =
  | { readonly frame: Buffer }
  | { readonly error: string; readonly bytes: number };

/**
 * Splits a serial byte stream into frames. Holds at most a bounded number of bytes: a device that
 * never sends a delimiter cannot grow memory.
 */
export interface Framer {
  /** Feeds bytes as they arrive (any split) and returns the frames and errors they completed. */
  push(chunk: Buffer): FramerItem[];
}

export interface SerialLineSettings {
  readonly baudRate: number;
  readonly dataBits: 7 | 8;
  readonly parity: 'none' | 'even' | 'odd';
  readonly stopBits: 1 | 2;
}

export interface SerialProfile extends DeviceProfile {
  readonly transport: 'serial';
  /** The device's factory line settings; a port's config may override them. */
  readonly serial: SerialLineSettings;
  /** A fresh framer for one port. */
  createFramer(): Framer;
  /** What the host must write to the device, for a device that sends nothing unasked. */
  readonly host?: SerialHostRequests;
}

/** Frames the serial source writes to a device (a transfer request, a keep-alive). */
export interface SerialHostRequests {
  /** Frames to write, in order, each time the port opens (again after every unplug). */
  onOpen(): readonly Buffer[];
  /**
   * Writes `onOpen()` again when no frame has arrived for this long, in ms: a keep-alive for a
   * device that was restarted behind an unchanged cable and waits for a new request.
   */
  readonly resendAfterSilenceMs?: number;
}
