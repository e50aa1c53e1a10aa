/**
 * One configured serial port of the serial source: opens it with the real serialport binding,
 * writes the profile's requests to a device that waits to be asked, feeds its bytes through the
 * profile's framer, and reopens it with exponential backoff when it goes away (a failed write
 * counts as going away, and so does its device path vanishing). Each port has its own state, so
 * one port's failure never touches another.
 */
import { existsSync } from 'node:fs';
import { SerialPort } from 'serialport';
import type { Logger } from '../core/log.js';
import type { Framer, SerialLineSettings, SerialProfile } from '../core/profile.js';

/**
 * How often an open port's device path is checked, ms. On Linux the binding can miss an unplug:
 * its read waits on, told nothing, until something is written (about half the time when a
 * virtual cable's ends go). The device node or its link goes with the device, so a path that is
 * gone is a lost port.
 */
const PRESENCE_CHECK_MS = 1000;

/** Life of one port. `offline`: not open, a reopen is scheduled. */
export type SerialPortState = 'idle' | 'opening' | 'open' | 'offline' | 'stopped';

/** One port as configured: the device on it, its profile and optional line-setting overrides. */
export interface SerialPortConfig extends Partial<SerialLineSettings> {
  /** Device path, e.g. `/dev/ttyUSB0` or a stable `/dev/serial/by-id/…` link. */
  readonly path: string;
  readonly deviceId: string;
  readonly profile: SerialProfile;
}

/** Counters for one port, since the source started. */
export interface SerialPortStats {
  readonly path: string;
  readonly deviceId: string;
  readonly profile: string;
  readonly state: SerialPortState;
  /** Bytes read from the port. */
  readonly bytesIn: number;
  /** Bytes written to the port (the profile's requests to the device). */
  readonly bytesOut: number;
  /** Times the profile's requests were written: on each open, and again after a silence. */
  readonly requestsSent: number;
  /** Whole frames passed up. */
  readonly frames: number;
  /** Framer error items (stretches of discarded bytes). */
  readonly framingErrors: number;
  /** Successful reopens after the port had been lost. */
  readonly reconnects: number;
  /** Open attempts, successful or not. */
  readonly openAttempts: number;
  /** Why the port was last lost or failed to open. */
  readonly lastError?: string;
}

/** What a port runner calls out to; the source wraps the user callbacks so they cannot throw here. */
export interface PortEvents {
  frame(frame: Buffer, receivedAt: number): void;
  framingError(error: string, bytes: number): void;
  technical(kind: 'device_offline' | 'device_online', detail: string): void;
}

export interface PortRunnerOptions {
  /** Reopen delay, ms: starts at `min`, doubles per failed attempt, capped at `max`. */
  readonly backoffMs: { readonly min: number; readonly max: number };
  /** Epoch ms. */
  readonly clock: () => number;
  readonly logger: Logger;
}

/**
 * Runs one port: open, read, frame, and on loss report once and reopen with backoff. Used by
 * `SerialSource`; not a public seam of its own.
 */
export class PortRunner {
  readonly config: SerialPortConfig;
  readonly settings: SerialLineSettings;
  #events: PortEvents;
  #options: PortRunnerOptions;
  #state: SerialPortState = 'idle';
  #port: SerialPort | undefined;
  #framer: Framer | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** The open attempt in progress, so `stop()` can wait for it. */
  #opening: Promise<void> | undefined;
  /** Failed attempts since the port was last open; sets the next delay. */
  #attempt = 0;
  /** `device_offline` was sent for the current outage (so it is sent once per outage). */
  #offlineSent = false;
  #wasOpen = false;
  #stopRequested = false;
  #bytesIn = 0;
  #bytesOut = 0;
  #requestsSent = 0;
  /** Checks for a silent device that must be asked again (profiles with `host.resendAfterSilenceMs`). */
  #keepAlive: NodeJS.Timeout | undefined;
  /** Checks that the open port's device path is still there (`PRESENCE_CHECK_MS`). */
  #presence: NodeJS.Timeout | undefined;
  /** Epoch ms of the last frame or request on the open port. */
  #lastActivity = 0;
  #frames = 0;
  #framingErrors = 0;
  #reconnects = 0;
  #openAttempts = 0;
  #lastError: string | undefined;

  constructor(config: SerialPortConfig, events: PortEvents, options: PortRunnerOptions) {
    this.config = config;
    const factory = config.profile.serial;
    this.settings = {
      baudRate: config.baudRate ?? factory.baudRate,
      dataBits: config.dataBits ?? factory.dataBits,
      parity: config.parity ?? factory.parity,
      stopBits: config.stopBits ?? factory.stopBits,
    };
    this.#events = events;
    this.#options = options;
  }

  /** Where the port is in its life. */
  get state(): SerialPortState {
    return this.#state;
  }

  /** A snapshot of the port's counters. */
  stats(): SerialPortStats {
    return {
      path: this.config.path,
      deviceId: this.config.deviceId,
      profile: this.config.profile.name,
      state: this.#state,
      bytesIn: this.#bytesIn,
      bytesOut: this.#bytesOut,
      requestsSent: this.#requestsSent,
      frames: this.#frames,
      framingErrors: this.#framingErrors,
      reconnects: this.#reconnects,
      openAttempts: this.#openAttempts,
      ...(this.#lastError === undefined ? {} : { lastError: this.#lastError }),
    };
  }

  /** One open attempt. Resolves once it has succeeded or failed (a failure schedules a retry). */
  open(): Promise<void> {
    if (this.#stopRequested) return Promise.resolve();
    this.#opening = this.#openOnce().finally(() => {
      this.#opening = undefined;
    });
    return this.#opening;
  }

  async #openOnce(): Promise<void> {
    this.#timer = undefined;
    this.#state = 'opening';
    this.#openAttempts += 1;
    let port: SerialPort;
    try {
      port = new SerialPort({ path: this.config.path, ...this.settings, autoOpen: false });
    } catch (err) {
      // Settings the binding refuses: report and retry like any other failure, so it shows.
      this.#failed(`cannot open: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    // An 'error' without a listener would throw; every error is handled through the callbacks below.
    port.on('error', (err: Error) => this.#lost(port, err.message));
    const error = await new Promise<Error | null>((resolve) => port.open((err) => resolve(err ?? null)));
    if (this.#stopRequested) {
      if (!error) await closeQuietly(port);
      return;
    }
    if (error) {
      this.#failed(`cannot open: ${error.message}`);
      return;
    }
    this.#port = port;
    // A fresh framer per open: bytes held from before an outage belong to no whole frame.
    this.#framer = this.config.profile.createFramer();
    this.#state = 'open';
    this.#attempt = 0;
    this.#offlineSent = false;
    if (this.#wasOpen) this.#reconnects += 1;
    this.#wasOpen = true;
    port.on('data', (chunk: Buffer) => this.#data(port, chunk));
    port.on('close', (err: Error | null) => this.#lost(port, err?.message ?? 'port closed'));
    port.on('end', () => this.#lost(port, 'end of stream'));
    this.#options.logger.info({ path: this.config.path, deviceId: this.config.deviceId, ...this.settings }, 'serial port open');
    this.#events.technical('device_online', `${this.config.path} open`);
    this.#presence = setInterval(() => {
      if (port === this.#port && !existsSync(this.config.path)) this.#lost(port, 'device path gone (unplugged)');
    }, PRESENCE_CHECK_MS);
    this.#presence.unref();
    this.#startHost(port);
  }

  /** Writes the profile's requests now (a device that sends nothing unasked) and keeps them alive. */
  #startHost(port: SerialPort): void {
    const host = this.config.profile.host;
    if (!host) return;
    this.#lastActivity = this.#options.clock();
    this.#request(port, 'open');
    const silenceMs = host.resendAfterSilenceMs;
    if (silenceMs === undefined) return;
    this.#keepAlive = setInterval(() => {
      if (port !== this.#port) return;
      if (this.#options.clock() - this.#lastActivity >= silenceMs) this.#request(port, 'silence');
    }, Math.max(50, Math.floor(silenceMs / 4)));
    this.#keepAlive.unref();
  }

  /** One write of the profile's request frames. A failed write is a lost port, like a read error. */
  #request(port: SerialPort, why: 'open' | 'silence'): void {
    const frames = this.config.profile.host?.onOpen() ?? [];
    if (frames.length === 0) return;
    const bytes = Buffer.concat(frames);
    this.#lastActivity = this.#options.clock();
    port.write(bytes, (err) => {
      if (err) {
        this.#lost(port, `write failed: ${err.message}`);
        return;
      }
      if (port !== this.#port) return;
      this.#bytesOut += bytes.length;
      this.#requestsSent += 1;
      this.#options.logger.info({ path: this.config.path, deviceId: this.config.deviceId, frames: frames.length, bytes: bytes.length, why }, 'serial request sent');
    });
  }

  /** Stops the open port's timers: the host's keep-alive and the presence check. */
  #stopTimers(): void {
    if (this.#keepAlive) clearInterval(this.#keepAlive);
    this.#keepAlive = undefined;
    if (this.#presence) clearInterval(this.#presence);
    this.#presence = undefined;
  }

  /** Closes the port and cancels any reopen. Idempotent. */
  async stop(): Promise<void> {
    this.#stopRequested = true;
    this.#state = 'stopped';
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#stopTimers();
    // An attempt in progress sees the stopped state and closes what it opened.
    if (this.#opening) await this.#opening;
    const port = this.#port;
    this.#port = undefined;
    this.#framer = undefined;
    if (port) await closeQuietly(port);
  }

  #data(port: SerialPort, chunk: Buffer): void {
    if (port !== this.#port || !this.#framer) return;
    this.#bytesIn += chunk.length;
    const receivedAt = this.#options.clock();
    for (const item of this.#framer.push(chunk)) {
      if ('frame' in item) {
        this.#frames += 1;
        this.#lastActivity = receivedAt;
        this.#events.frame(item.frame, receivedAt);
      } else {
        this.#framingErrors += 1;
        this.#events.framingError(item.error, item.bytes);
      }
    }
  }

  /** The open port errored, closed or ended: drop it, report once, and reopen later. */
  #lost(port: SerialPort, reason: string): void {
    if (port !== this.#port || this.#state !== 'open') return;
    this.#port = undefined;
    this.#framer = undefined;
    this.#stopTimers();
    void closeQuietly(port);
    this.#failed(reason);
  }

  #failed(reason: string): void {
    this.#lastError = reason;
    this.#state = 'offline';
    if (!this.#offlineSent) {
      this.#offlineSent = true;
      this.#options.logger.warn({ path: this.config.path, deviceId: this.config.deviceId, reason }, 'serial port offline');
      this.#events.technical('device_offline', `${this.config.path}: ${reason}`);
    }
    const delay = reopenDelayMs(this.#attempt, this.#options.backoffMs);
    this.#attempt += 1;
    this.#timer = setTimeout(() => void this.open(), delay);
  }
}

/**
 * Delay before reopen attempt number `attempt + 1`, in ms: `min` after the first failure,
 * doubling each time, never more than `max`. No jitter: a ward has tens of ports, not thousands.
 */
export function reopenDelayMs(attempt: number, backoff: { readonly min: number; readonly max: number }): number {
  return Math.min(backoff.max, backoff.min * 2 ** Math.min(attempt, 30));
}

/** What `closeQuietly` needs of a port. */
export type ClosablePort = Pick<SerialPort, 'isOpen' | 'closing' | 'close' | 'on' | 'once' | 'removeAllListeners'>;

/**
 * Closes a port if it is open, ignoring errors (it may already be gone). Resolves once the
 * binding has let go of it, so its lock is free: when the stream is already closing it (it
 * does so itself when the device goes away), once that close has finished.
 */
export function closeQuietly(port: ClosablePort): Promise<void> {
  port.removeAllListeners('data');
  port.removeAllListeners('close');
  port.removeAllListeners('end');
  port.removeAllListeners('error');
  port.on('error', () => undefined);
  if (port.closing) {
    // the stream emits 'close' when the binding has closed it, 'error' when that failed
    return new Promise((resolve) => {
      port.once('close', () => resolve());
      port.once('error', () => resolve());
    });
  }
  if (!port.isOpen) return Promise.resolve();
  return new Promise((resolve) => port.close(() => resolve()));
}
