/**
 * Serial source: reads bedside monitors on serial ports (USB adapters, RS-232) with the real
 * serialport binding, splits each port's bytes into frames with its profile's framer, and passes
 * whole frames up with their origin and receive time. Decoding happens downstream. A profile with
 * `host` requests (the S/5 DRI transfer request) has them written on every open and after a silence.
 *
 * A port that fails to open, errors, closes or disappears (device unplugged) is reported once as
 * `device_offline` and reopened with exponential backoff until it is back (`device_online`).
 * Ports are independent: one failing never affects another.
 */
import { ConfigError } from '../core/errors.js';
import { type Logger, log } from '../core/log.js';
import type { SerialProfile } from '../core/profile.js';
import type { Service } from '../core/types.js';
import { PortRunner, type SerialPortConfig, type SerialPortStats } from './serial-port.js';

export type { SerialPortConfig, SerialPortState, SerialPortStats } from './serial-port.js';
export { reopenDelayMs } from './serial-port.js';

/** Defaults merged under the caller's options. */
export const SERIAL_SOURCE_DEFAULTS = {
  /** Reopen delay, ms: starts at `min`, doubles per failed attempt, capped at `max`. */
  reopenBackoffMs: { min: 500, max: 10_000 },
} as const;

export interface SerialSourceOptions {
  readonly ports: readonly SerialPortConfig[];
  /**
   * A whole frame from a port. `origin` is the port path; `receivedAt` is epoch ms (from
   * `clock`) when the read that completed the frame arrived.
   */
  onFrame(deviceId: string, profile: SerialProfile, frame: Buffer, origin: string, receivedAt: number): void;
  /** `device_offline` once per outage (with the reason), `device_online` on every successful open. */
  onTechnical(deviceId: string, kind: 'device_offline' | 'device_online', detail: string): void;
  /** The framer discarded `bytes` bytes (`error` names why, e.g. `line_too_long`). */
  onFramingError?(deviceId: string, origin: string, error: string, bytes: number): void;
  /** Reopen backoff in ms; defaults to 500 doubling up to 10 000. */
  readonly reopenBackoffMs?: { readonly min: number; readonly max: number };
  /** Epoch ms; defaults to `Date.now`. */
  readonly clock?: () => number;
  readonly logger?: Logger;
}

export class SerialSource implements Service {
  readonly name = 'serial';
  #options: SerialSourceOptions;
  #logger: Logger;
  #runners: PortRunner[];
  #started = false;
  #stopped = false;

  /** @throws ConfigError when two ports share a path or the backoff bounds are wrong. */
  constructor(options: SerialSourceOptions) {
    this.#options = options;
    this.#logger = options.logger ?? log().child({ component: 'serial' });
    const backoffMs = options.reopenBackoffMs ?? SERIAL_SOURCE_DEFAULTS.reopenBackoffMs;
    if (!(backoffMs.min > 0 && backoffMs.max >= backoffMs.min)) {
      throw new ConfigError(`serial.reopenBackoffMs: need 0 < min <= max, got ${backoffMs.min}..${backoffMs.max}`);
    }
    const seen = new Set<string>();
    options.ports.forEach((port, i) => {
      if (seen.has(port.path)) throw new ConfigError(`serial.ports[${i}].path: ${port.path} is already used by another port`);
      seen.add(port.path);
    });
    const clock = options.clock ?? Date.now;
    this.#runners = options.ports.map(
      (config) => new PortRunner(config, this.#eventsFor(config), { backoffMs, clock, logger: this.#logger }),
    );
  }

  /**
   * Makes the first open attempt on every port and resolves when all have succeeded or failed.
   * A port that cannot open yet does not fail the start: it is reported offline and retried.
   */
  async start(): Promise<void> {
    if (this.#started) throw new Error('serial source already started');
    this.#started = true;
    await Promise.all(this.#runners.map((r) => r.open()));
  }

  /** Closes every port and cancels every pending reopen. Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await Promise.all(this.#runners.map((r) => r.stop()));
  }

  /** Per-port counters and state, in configuration order. */
  stats(): SerialPortStats[] {
    return this.#runners.map((r) => r.stats());
  }

  /** Binds the user callbacks to one port, so a throwing callback is logged and never reaches the port. */
  #eventsFor(config: SerialPortConfig) {
    const { deviceId, path, profile } = config;
    const guard = (what: string, fn: () => void) => {
      try {
        fn();
      } catch (err) {
        this.#logger.error({ err, deviceId, path }, `serial ${what} callback threw`);
      }
    };
    return {
      frame: (frame: Buffer, receivedAt: number) =>
        guard('frame', () => this.#options.onFrame(deviceId, profile, frame, path, receivedAt)),
      framingError: (error: string, bytes: number) => {
        this.#logger.debug({ deviceId, path, error, bytes }, 'serial framing error');
        guard('framing error', () => this.#options.onFramingError?.(deviceId, path, error, bytes));
      },
      technical: (kind: 'device_offline' | 'device_online', detail: string) =>
        guard('technical', () => this.#options.onTechnical(deviceId, kind, detail)),
    };
  }
}
