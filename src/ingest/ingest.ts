/**
 * Ingest: frame → decode → canonical records → durable spool → live listeners (detectors).
 * Shared by every source. A frame that does not decode is counted, logged with its origin, kept
 * in the rejected log for inspection, and dropped; it never stops the stream.
 */
import { DecodeError } from '../core/errors.js';
import { checkValue, metricInfo } from '../core/metrics.js';
import type { Logger } from '../core/log.js';
import type { DeviceProfile } from '../core/profile.js';
import type { Frame, Observation, Placement, SpoolRecord, TechnicalEvent, TechnicalKind } from '../core/types.js';
import type { Counters } from '../core/counters.js';
import type { RejectedLog } from './rejected-log.js';

/** What the spool must offer ingest. */
export interface Appender {
  /** Resolves once the records are durable; rejects (SpoolFullError) when they are refused. */
  append(payloads: readonly Buffer[]): Promise<number>;
}

export interface IngestOptions {
  readonly spool: Appender;
  /** Where a device's data belongs; undefined for an unassigned device. */
  readonly placementOf: (deviceId: string) => Placement | undefined;
  readonly counters: Counters;
  readonly logger: Logger;
  readonly rejected?: RejectedLog;
  /** Device time further ahead of receive time than this is not trusted, ms. */
  readonly maxClockSkewMs?: number;
}

export type IngestResult = { readonly accepted: true; readonly records: number } | { readonly accepted: false; readonly reason: string };

type Listener = (records: readonly SpoolRecord[]) => void;

export class Ingest {
  private readonly listeners: Listener[] = [];
  /** Devices already reported as unassigned (one notice per device until it is assigned). */
  private readonly noticedUnassigned = new Set<string>();
  /** Log lines per device and reason are rate-limited: the counter keeps the true count. */
  private readonly lastLogged = new Map<string, number>();
  private inFlight = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly opts: IngestOptions) {}

  /** Subscribes to records once they are durable. Listeners must not throw. */
  onRecords(listener: Listener): void {
    this.listeners.push(listener);
  }

  /**
   * Decodes and stores one frame.
   * @returns accepted with the record count, or not accepted with the reason (already counted and logged).
   * @throws when the records cannot be made durable (e.g. SpoolFullError): the caller must not acknowledge.
   */
  async accept(frame: Frame, profile: DeviceProfile, trustDeviceTime: boolean): Promise<IngestResult> {
    this.opts.counters.message(frame.transport);
    let records: SpoolRecord[];
    try {
      records = this.toRecords(frame, profile, trustDeviceTime);
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      this.reportRejected(frame, err.reason, err.message);
      return { accepted: false, reason: err.reason };
    }
    if (records.length === 0) return { accepted: true, records: 0 };
    await this.store(records);
    let obs = 0;
    for (const r of records) {
      if (r.t === 'obs') obs++;
      else if (r.t === 'tech') this.opts.counters.technicalEvent(r.e.kind);
    }
    this.opts.counters.observation(frame.transport, obs, this.opts.placementOf(frame.deviceId) === undefined);
    for (const l of this.listeners) l(records);
    return { accepted: true, records: records.length };
  }

  /** Records a technical event from a source (e.g. a serial port went away). */
  async technical(deviceId: string, kind: TechnicalKind, detail: string, ts: number): Promise<void> {
    const e: TechnicalEvent = { ts, deviceId, kind, detail, ...this.opts.placementOf(deviceId) };
    this.opts.counters.technicalEvent(kind);
    await this.store([{ t: 'tech', e }]);
    for (const l of this.listeners) l([{ t: 'tech', e }]);
  }

  /**
   * Stores observations entered by a person (manual observations at the nurse station), whose
   * placement the caller gives instead of a device assignment. Same spool, same listeners.
   * @throws DecodeError for an implausible value (nothing is stored), or when the spool refuses.
   */
  async manual(observations: readonly Observation[]): Promise<void> {
    for (const o of observations) {
      const problem = checkValue(o.metric, o.value);
      if (problem !== null) throw new DecodeError(problem, 'implausible_value');
    }
    const records: SpoolRecord[] = observations.map((o) => ({ t: 'obs', o }));
    await this.store(records);
    this.opts.counters.observation('manual', records.length, false);
    for (const l of this.listeners) l(records);
  }

  /** Counts and logs a frame refused before decoding (framing errors on a serial line). */
  reportRejected(frame: Pick<Frame, 'deviceId' | 'origin' | 'transport' | 'receivedAt'> & { payload?: Buffer }, reason: string, message: string): void {
    this.opts.counters.reject(reason);
    const key = `${frame.deviceId}\0${reason}`;
    const last = this.lastLogged.get(key) ?? -Infinity;
    if (frame.receivedAt - last >= 10_000) {
      this.lastLogged.set(key, frame.receivedAt);
      this.opts.logger.warn({ device: frame.deviceId, origin: frame.origin, transport: frame.transport, reason }, `frame dropped: ${message}`);
    }
    this.opts.rejected?.write({ ts: frame.receivedAt, device: frame.deviceId, origin: frame.origin, reason, message, payload: frame.payload });
  }

  /** Appends records durably, tracking the append so `drain()` can wait for it. */
  private async store(records: readonly SpoolRecord[]): Promise<void> {
    this.inFlight++;
    try {
      await this.opts.spool.append(records.map((r) => Buffer.from(JSON.stringify(r))));
    } finally {
      if (--this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  /** Resolves when no append is in flight (used on shutdown). */
  drain(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private toRecords(frame: Frame, profile: DeviceProfile, trustDeviceTime: boolean): SpoolRecord[] {
    const decoded = profile.decode(frame.payload, { deviceId: frame.deviceId, receivedAt: frame.receivedAt });
    if (decoded.notes?.length) this.opts.logger.debug({ device: frame.deviceId, origin: frame.origin, notes: decoded.notes }, 'decoder notes');
    const ts = this.timestamp(frame, decoded.deviceTs, trustDeviceTime);
    const placement = this.opts.placementOf(frame.deviceId);
    const records: SpoolRecord[] = [];
    for (const r of decoded.readings) {
      const problem = checkValue(r.metric, r.value);
      if (problem !== null) throw new DecodeError(problem, 'implausible_value');
      const o: Observation = { ts, deviceId: frame.deviceId, metric: r.metric, value: r.value, unit: metricInfo(r.metric).unit, quality: r.quality ?? 'good', ...placement };
      records.push({ t: 'obs', o });
    }
    for (const e of decoded.events) {
      const event: TechnicalEvent = { ts, deviceId: frame.deviceId, kind: e.kind, ...(e.detail !== undefined ? { detail: e.detail } : {}), ...placement };
      records.push({ t: 'tech', e: event });
    }
    if (placement === undefined && !this.noticedUnassigned.has(frame.deviceId)) {
      this.noticedUnassigned.add(frame.deviceId);
      this.opts.logger.info({ device: frame.deviceId, origin: frame.origin }, 'data from a device not assigned to any patient: stored, tagged by device, no physiological alarms');
      records.push({ t: 'tech', e: { ts, deviceId: frame.deviceId, kind: 'unassigned_device', detail: 'device is not assigned to a patient' } });
    } else if (placement !== undefined) {
      this.noticedUnassigned.delete(frame.deviceId);
    }
    return records;
  }

  private timestamp(frame: Frame, deviceTs: number | undefined, trusted: boolean): number {
    if (!trusted || deviceTs === undefined) return frame.receivedAt;
    const maxSkew = this.opts.maxClockSkewMs ?? 60_000;
    if (deviceTs - frame.receivedAt > maxSkew) {
      this.opts.counters.reject('clock_skew_corrected');
      return frame.receivedAt;
    }
    return deviceTs;
  }
}
