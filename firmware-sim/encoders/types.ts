/** The seam between the patient model and a device's bytes. */
import type { VitalSample } from '../physiology.js';

/** What an encoder knows besides the sample. */
export interface EncodeContext {
  /** The device clock at this emission, epoch milliseconds (UTC). */
  readonly epochMs: number;
  /** Emissions since the run started, from 0 (drives periodic headers). */
  readonly index: number;
  /** The last cuff measurement the device shows (S/5), if any: the sample at that moment. */
  readonly nibp?: VitalSample;
}

/** Turns samples into one device's wire format, as the matching decoder in devices/ reads it. */
export interface Encoder {
  /** Profile name, as the gateway's config names the decoder. */
  readonly profile: string;
  readonly transport: 'mqtt' | 'serial';
  /** Device seconds between emissions. */
  readonly periodS: number;
  /** Device seconds of the first emission. */
  readonly offsetS: number;
  /**
   * Encodes one emission.
   * @returns the units it sends, in order: lines or frames for serial (concatenate to write),
   * one payload per MQTT publish.
   */
  encode(sample: VitalSample, ctx: EncodeContext): Buffer[];
  /**
   * Damages one emission the way a bad cable or firmware would, for the `garbage` scenario.
   * `rand(k)` gives the k-th uniform number in [0, 1) for this emission (deterministic).
   */
  corrupt(units: Buffer[], rand: (k: number) => number): Buffer[];
  /**
   * For a device that sends nothing unasked (the S/5 DRI): a fresh link to what the host writes.
   * The live runner feeds it the bytes it reads and sends an emission only when it allows.
   */
  createHostLink?(): HostLink;
}

/** A device's view of its host's requests. */
export interface HostLink {
  /** Bytes the host wrote to the device, as they arrive. */
  receive(bytes: Buffer): void;
  /** Whether the emission due at device second `t` is sent (asked for, and its interval come). */
  sends(t: number): boolean;
  /** Requests of this device's kind understood so far. */
  readonly requests: number;
}

/** Zero-padded integer, e.g. pad(72, 3) → "072". */
export function pad(v: number, width: number): string {
  return String(Math.round(v)).padStart(width, '0');
}

/** Battery level below which devices report low battery, %. */
export const BATTERY_LOW_PERCENT = 15;
