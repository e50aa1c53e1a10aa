/**
 * Ingest: frame → decode → canonical records → durable spool → live listeners (detectors).
 * Shared by every source. A frame that does not decode is counted, logged with its origin, kept
 * in the rejected log for inspection, and dropped; it never stops the stream.
 *
 * Every record the detectors read goes through here: device data, technical events from
 * sources, manual observations, and control inputs (acknowledgements, silences, census and
 * settings changes, gateway conditions). Two rules make the live detectors see exactly what a
 * replay of the spool after a restart sees:
 *
 * - **One time line.** Each record is stamped with the gateway's clock when it is appended,
 *   never going back (`Observation.rt` carries it where the device's own time is kept as `ts`),
 *   so records are in time order in the spool.
 * - **Spool order.** Listeners get records in the order they were appended, once durable,
 *   whatever order the appends complete in; `mark` runs a callback at its place in that order
 *   (the detectors' clock ticks), so a tick never passes a record still on its way to disk.
 */
import { DecodeError } from '../core/errors.js';
import { checkValue, metricInfo } from '../core/metrics.js';
import type { Logger } from '../core/log.js';
import type { Decoded, DeviceProfile, Reading } from '../core/profile.js';
import { controlTs, type ControlInput, type DeviceMessage, type Frame, type MetricName, type Observation, type Placement, type SpoolRecord, type TechnicalEvent, type TechnicalKind } from '../core/types.js';
import type { Counters } from '../core/counters.js';
import type { RejectedLog } from './rejected-log.js';
import type { AppendDone, Appended } from '../spool/writer.js';
import type { SpoolPosition } from '../spool/types.js';

/** What the spool must offer ingest. */
export interface Appender {
  /**
   * Calls `done` once the records are durable, with where they are, or with why they were
   * refused (SpoolFullError); never before it returns. `reserve`: may use the room the spool
   * keeps past its bound.
   */
  appendThen(payloads: readonly Buffer[], opts: { readonly reserve?: boolean } | undefined, done: AppendDone): void;
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
  /**
   * Device time further behind receive time than this makes a reading history (the detectors'
   * `lateReadingSeconds`), ms: steadily so, it is a device clock running behind (see `timestamp`).
   */
  readonly lateReadingMs?: number;
  /**
   * How far the gateway's time line is off the wall clock, ms (ahead positive): while it runs
   * toward a wall clock that stepped, a trusted device time is moved onto the time line by it.
   */
  readonly timeLineOffset?: () => number;
}

/**
 * How long a device's readings must come steadily late (their lag not falling as a backlog's
 * does) before its clock is taken to be behind, ms of receive time; and the fewest readings.
 */
export const STEADY_LAG_MS = 15_000;
export const STEADY_LAG_READINGS = 2;
/** A lag that falls by less than this (the jitter of a device's sending) is not catching up. */
const CATCH_UP_SLACK_MS = 1000;

export type IngestResult = { readonly accepted: true; readonly records: number } | { readonly accepted: false; readonly reason: string };

/** Called once a frame is stored (or refused before storing, with the reason), or with why it could not be made durable. */
export type AcceptDone = (err: Error | null, result?: IngestResult) => void;

/**
 * When a store's caller hears it went well. `delivered`: once the listeners (detectors, station,
 * writer) have its records. `durable`: as soon as the records are on disk; the listeners get them
 * just after, in the same turn of the event loop, once what the caller wrote meanwhile (a PUBACK)
 * has gone out.
 */
export type Notify = 'durable' | 'delivered';

const RESERVE = { reserve: true } as const;

/** Durable records in spool order, with where they are: the first one's seq, and the position after the last. */
type Listener = (records: readonly SpoolRecord[], firstSeq: number, next: SpoolPosition) => void;

/** A place in the delivery order: an append (records once durable; none if it failed), or a mark. */
interface Slot {
  done: boolean;
  records?: readonly SpoolRecord[];
  appended?: Appended;
  mark?: () => void;
  /** Called once the slot's records have been handed to the listeners. */
  delivered?: (err: null) => void;
}

export class Ingest {
  private readonly listeners: Listener[] = [];
  /** The sensor and battery states last stored per device. */
  private readonly states = new DeviceStates();
  /** Devices whose readings come late now: since when (receive time), their first lag, how many, and whether taken as a clock behind. */
  private readonly late = new Map<string, { since: number; lag0: number; n: number; behind: boolean }>();
  /** Devices already reported as unassigned (one notice per device until it is assigned). */
  private readonly noticedUnassigned = new Set<string>();
  /** Log lines per device and reason are rate-limited: the counter keeps the true count. */
  private readonly lastLogged = new Map<string, number>();
  private inFlight = 0;
  /** Durable records wait for a delivery already asked for (see `deliverSoon`). */
  private deliveryScheduled = false;
  private idleWaiters: Array<() => void> = [];
  /** Appends and marks not yet delivered, in append order. */
  private readonly queue: Slot[] = [];
  /** The latest time stamped, epoch ms (the stamps never go back). */
  private lastStamp = Number.NEGATIVE_INFINITY;

  constructor(private readonly opts: IngestOptions) {}

  /** Subscribes to records once they are durable, in spool order. Listeners must not throw. */
  onRecords(listener: Listener): void {
    this.listeners.push(listener);
  }

  /**
   * Stamps `now` (epoch ms) on the gateway's time line and calls `fn` with the stamp once every
   * record appended before it has been delivered to the listeners.
   */
  mark(now: number, fn: (ts: number) => void): void {
    const ts = this.stamp(now);
    this.queue.push({ done: true, mark: () => fn(ts) });
    this.deliver();
  }

  /**
   * Hands records read back from the spool (a restart's replay) to the listeners, as if they had
   * just been appended: the same path, so what the live listeners build is what they rebuild.
   */
  redeliver(records: readonly SpoolRecord[], firstSeq: number, next: SpoolPosition): void {
    for (const l of this.listeners) {
      try {
        l(records, firstSeq, next);
      } catch (err) {
        // A listener's bug must not hold back the others, nor the records after these.
        this.opts.logger.error({ err: (err as Error).message, firstSeq }, 'a record listener failed');
      }
    }
  }

  /**
   * Stores an input to the detectors that is not device data, on the same time line and in the
   * same order as the data. Resolves once it is durable (and delivered to the listeners).
   * @throws when the spool refuses it (e.g. SpoolFullError)
   */
  async control(input: ControlInput): Promise<ControlInput> {
    const stamped = restamp(input, this.stamp(controlTs(input)));
    // A nurse's acknowledgement must be kept even while device data is refused.
    await this.store([{ t: 'ctl', c: stamped }], true);
    return stamped;
  }

  /**
   * Decodes and stores one frame.
   * @returns accepted with the record count, or not accepted with the reason (already counted and logged).
   * @throws when the records cannot be made durable (e.g. SpoolFullError): the caller must not acknowledge.
   */
  accept(frame: Frame, profile: DeviceProfile, trustDeviceTime: boolean): Promise<IngestResult> {
    return new Promise((resolve, reject) => this.acceptThen(frame, profile, trustDeviceTime, (err, r) => (err ? reject(err) : resolve(r!))));
  }

  /**
   * `accept` with a callback, for the message path: no promise or suspended function is held
   * per message while it waits for its fsync. `done` may be called before this returns (a frame
   * refused by its decoder). `notify: 'durable'` lets the broker acknowledge a message before
   * the detectors run on it, so a device can send its next while they do.
   */
  acceptThen(frame: Frame, profile: DeviceProfile, trustDeviceTime: boolean, done: AcceptDone, notify: Notify = 'delivered'): void {
    this.opts.counters.message(frame.transport);
    let records: SpoolRecord[];
    try {
      records = this.toRecords(frame, profile, trustDeviceTime);
    } catch (err) {
      if (!(err instanceof DecodeError)) return done(err as Error);
      this.reportRejected(frame, err.reason, err.message);
      return done(null, { accepted: false, reason: err.reason });
    }
    if (records.length === 0) return done(null, { accepted: true, records: 0 });
    this.storeThen(records, false, (err) => {
      if (err) return done(err);
      let obs = 0;
      for (const r of records) {
        if (r.t === 'msg') for (const _ in r.m.v) obs++;
        else if (r.t === 'obs') obs++;
        else if (r.t === 'tech') {
          this.opts.counters.technicalEvent(r.e.kind);
          this.states.stored(r.e.deviceId, r.e.kind);
        }
      }
      this.opts.counters.observation(frame.transport, obs, this.opts.placementOf(frame.deviceId) === undefined);
      done(null, { accepted: true, records: records.length });
    }, notify);
  }

  /** Records a technical event from a source (e.g. a serial port went away). */
  async technical(deviceId: string, kind: TechnicalKind, detail: string, ts: number): Promise<void> {
    const e: TechnicalEvent = { ts: this.stamp(ts), deviceId, kind, detail, ...this.opts.placementOf(deviceId) };
    this.opts.counters.technicalEvent(kind);
    await this.store([{ t: 'tech', e }]);
  }

  /**
   * Stores observations entered by a person (manual observations at the nurse station), whose
   * placement the caller gives instead of a device assignment. Same spool, same listeners.
   * Observations taken together (one device, one time, one patient: a set entered at once) are
   * stored as one reading, as a device message is, so NEWS2 scores them together.
   * @throws DecodeError for an implausible value (nothing is stored), or when the spool refuses.
   */
  async manual(observations: readonly Observation[]): Promise<void> {
    for (const o of observations) {
      const problem = checkValue(o.metric, o.value);
      if (problem !== null) throw new DecodeError(problem, 'implausible_value');
    }
    const stamped = observations.map((o) => onTimeLine(o, this.stamp(o.rt ?? o.ts)));
    const first = stamped[0];
    const records: SpoolRecord[] = [];
    if (first !== undefined && takenTogether(stamped)) {
      // built as a device frame's message is (its metrics all differ: none goes to `records`)
      records.push({ t: 'msg', m: this.message(first.deviceId, first.ts, first.rt ?? first.ts, first, stamped, records)! });
    } else for (const o of stamped) records.push({ t: 'obs', o });
    await this.store(records);
    this.opts.counters.observation('manual', observations.length, false);
  }

  /** Counts and logs a frame refused before decoding (framing errors on a serial line). */
  reportRejected(frame: Pick<Frame, 'deviceId' | 'origin' | 'transport' | 'receivedAt'> & { payload?: Buffer }, reason: string, message: string): void {
    this.opts.counters.reject(reason);
    this.report(frame, reason, message, 'frame');
  }

  /** Logs (at most once in 10 s a device, reason and kind) and keeps in the rejected log what was dropped from a frame. */
  private report(frame: Pick<Frame, 'deviceId' | 'origin' | 'transport' | 'receivedAt'> & { payload?: Buffer }, reason: string, message: string, dropped: 'frame' | 'value'): void {
    const key = `${frame.deviceId}\0${reason}\0${dropped}`;
    const last = this.lastLogged.get(key) ?? -Infinity;
    if (frame.receivedAt - last >= 10_000) {
      this.lastLogged.set(key, frame.receivedAt);
      this.opts.logger.warn({ device: frame.deviceId, origin: frame.origin, transport: frame.transport, reason }, dropped === 'frame' ? `frame dropped: ${message}` : message);
    }
    this.opts.rejected?.write({ ts: frame.receivedAt, device: frame.deviceId, origin: frame.origin, reason, message, payload: frame.payload });
  }

  /**
   * Appends records durably, in order: the listeners get them once they are durable and every
   * append before them has been delivered. Tracked so `drain()` can wait for it.
   */
  private store(records: readonly SpoolRecord[], reserve = false): Promise<void> {
    return new Promise((resolve, reject) => this.storeThen(records, reserve, (err) => (err ? reject(err) : resolve())));
  }

  /**
   * `store` with a callback: `done` is called as `notify` says, or with why the records are not
   * durable (then at once: nobody sees them). Never before this returns.
   */
  private storeThen(records: readonly SpoolRecord[], reserve: boolean, done: (err: Error | null) => void, notify: Notify = 'delivered'): void {
    this.inFlight++;
    const slot: Slot = { done: false, records, delivered: notify === 'delivered' ? done : undefined };
    this.queue.push(slot);
    const payloads: Buffer[] = [];
    for (const r of records) payloads.push(Buffer.from(JSON.stringify(r)));
    this.opts.spool.appendThen(payloads, reserve ? RESERVE : undefined, (err, appended) => {
      if (err) {
        // not durable: nobody sees it, and its caller hears now, not in its turn
        slot.records = undefined;
        slot.delivered = undefined;
      } else slot.appended = appended;
      slot.done = true;
      this.inFlight--;
      if (!err && notify === 'durable') {
        done(null);
        return this.deliverSoon();
      }
      this.deliver();
      this.wakeIdle();
      if (err) done(err);
    });
  }

  /**
   * Delivers what is durable once the current callbacks are over and what they wrote has gone
   * out (a check-phase callback): the PUBACKs of a flushed group leave before the detectors
   * start on its records, not after.
   */
  private deliverSoon(): void {
    if (this.deliveryScheduled) return;
    this.deliveryScheduled = true;
    setImmediate(() => {
      this.deliveryScheduled = false;
      this.deliver();
      this.wakeIdle();
    });
  }

  /**
   * Hands the listeners now what is durable and waiting for its turn (see `deliverSoon`): what
   * is read from them next includes every message already acknowledged.
   */
  settle(): void {
    if (this.deliveryScheduled) this.deliver();
  }

  private wakeIdle(): void {
    if (this.inFlight === 0 && !this.deliveryScheduled) for (const w of this.idleWaiters.splice(0)) w();
  }

  /** Hands the completed head of the queue to the listeners, in append order. */
  private deliver(): void {
    while (this.queue[0]?.done) {
      const slot = this.queue.shift()!;
      if (slot.mark) slot.mark();
      else if (slot.records && slot.appended) {
        const { lastSeq, next } = slot.appended;
        this.redeliver(slot.records, lastSeq - slot.records.length + 1, next);
      }
      slot.delivered?.(null);
    }
  }

  /** `t` on the gateway's time line: never before the last stamp. */
  private stamp(t: number): number {
    if (t > this.lastStamp) this.lastStamp = t;
    return this.lastStamp;
  }

  /** Resolves when no append is in flight and every durable record is delivered (used on shutdown). */
  drain(): Promise<void> {
    if (this.inFlight === 0 && !this.deliveryScheduled) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private toRecords(frame: Frame, profile: DeviceProfile, trustDeviceTime: boolean): SpoolRecord[] {
    const decoded = profile.decode(frame.payload, { deviceId: frame.deviceId, receivedAt: frame.receivedAt });
    if (decoded.notes?.length) this.opts.logger.debug({ device: frame.deviceId, origin: frame.origin, notes: decoded.notes }, 'decoder notes');
    const placement = this.opts.placementOf(frame.deviceId);
    const records: SpoolRecord[] = [];
    const readings = this.plausible(frame, decoded);
    // Stamped only once the frame is known to be good: a rejected frame leaves no mark on the time line.
    const rt = this.stamp(frame.receivedAt);
    const ts = this.timestamp(frame, rt, decoded.deviceTs, trustDeviceTime);
    const time = ts === rt ? { ts } : { ts, rt };
    const message = this.message(frame.deviceId, ts, rt, placement, readings, records);
    if (message) records.unshift({ t: 'msg', m: message });
    for (const e of decoded.events) {
      // a state the device repeats with every message is stored when it changes, not each time
      if (this.states.unchanged(frame.deviceId, e.kind)) continue;
      const event: TechnicalEvent = { ...time, deviceId: frame.deviceId, kind: e.kind, ...(e.detail !== undefined ? { detail: e.detail } : {}), ...placement };
      records.push({ t: 'tech', e: event });
    }
    if (placement === undefined && !this.noticedUnassigned.has(frame.deviceId)) {
      this.noticedUnassigned.add(frame.deviceId);
      this.opts.logger.info({ device: frame.deviceId, origin: frame.origin }, 'data from a device not assigned to any patient: stored, tagged by device, no physiological alarms');
      records.push({ t: 'tech', e: { ...time, deviceId: frame.deviceId, kind: 'unassigned_device', detail: 'device is not assigned to a patient' } });
    } else if (placement !== undefined) {
      this.noticedUnassigned.delete(frame.deviceId);
    }
    return records;
  }

  /**
   * The frame's readings less those outside their metric's plausible range. Such a value is
   * dropped alone, counted (`vigil_values_dropped_total`), logged with its origin and kept in the
   * rejected log: a temperature probe lying in room air says nothing about the SpO2 and pressures
   * the same monitor sends beside it, and refusing the frame would lose them, and their alarms.
   * A frame left with nothing (every reading dropped, no event) is refused whole, as before.
   * @throws DecodeError `implausible_value` for such a frame
   */
  private plausible(frame: Frame, decoded: Decoded): readonly Reading[] {
    const all = decoded.readings;
    let kept: Reading[] | undefined;
    let problems: string[] | undefined;
    for (let i = 0; i < all.length; i++) {
      const r = all[i]!;
      const problem = checkValue(r.metric, r.value);
      if (problem === null) {
        kept?.push(r);
        continue;
      }
      kept ??= all.slice(0, i);
      (problems ??= []).push(problem);
    }
    if (kept === undefined || problems === undefined) return all;
    const message = problems.join('; ');
    if (kept.length === 0 && decoded.events.length === 0) throw new DecodeError(message, 'implausible_value');
    this.opts.counters.valueDropped('implausible_value', problems.length);
    this.report(frame, 'implausible_value', `value dropped, the frame's other values kept: ${message}`, 'value');
    return kept;
  }

  /**
   * The frame's readings as one device message; a metric the frame repeats goes into `extra` as
   * an observation of its own (a message holds one value a metric).
   */
  private message(deviceId: string, ts: number, rt: number, placement: Placement | undefined, readings: readonly Reading[], extra: SpoolRecord[]): DeviceMessage | undefined {
    if (readings.length === 0) return undefined;
    const v: Partial<Record<MetricName, number>> = {};
    let q: Partial<Record<MetricName, 'poor' | 'invalid'>> | undefined;
    for (const r of readings) {
      const quality = r.quality ?? 'good';
      if (v[r.metric] !== undefined) {
        extra.push({ t: 'obs', o: { ts, ...(ts !== rt && { rt }), deviceId, metric: r.metric, value: r.value, unit: metricInfo(r.metric).unit, quality, ...placement } });
        continue;
      }
      v[r.metric] = r.value;
      if (quality !== 'good') (q ??= {})[r.metric] = quality;
    }
    const m: { -readonly [K in keyof DeviceMessage]: DeviceMessage[K] } = { ts, deviceId, v };
    if (ts !== rt) m.rt = rt;
    if (q) m.q = q;
    if (placement?.patientId !== undefined) m.patientId = placement.patientId;
    if (placement?.ward !== undefined) m.ward = placement.ward;
    if (placement?.bed !== undefined) m.bed = placement.bed;
    return m;
  }

  /**
   * The record's `ts`: the device's time when trusted and not too far ahead, else receive time `rt`.
   *
   * Too far behind is either of two things. A device that sends its buffer after a gap sends
   * history: its readings are late, and the later ones less so as it catches up. A device whose
   * clock runs behind sends every reading late by about the same time, and they are what it
   * measures now: kept at its time, they would all be history, and its patient would have no
   * alarm and no NEWS2. So readings that stay late for {@link STEADY_LAG_MS} of receive time
   * (and at least {@link STEADY_LAG_READINGS} of them) with a lag that does not fall by half that
   * time, are taken as a clock behind: from then on, until a reading is on time again, they get
   * the receive time (counted as `clock_skew_corrected`, logged once an episode). A lag that
   * falls faster (a buffer catching up) starts the count again from there, so a buffer sent
   * after a gap does not hide the slow clock of the readings after it. The readings before are
   * stored as they came, as history.
   */
  private timestamp(frame: Frame, rt: number, deviceTs: number | undefined, trusted: boolean): number {
    if (!trusted || deviceTs === undefined) return rt;
    // A device clock agrees with the wall clock, not with a time line still running toward it.
    const offset = this.opts.timeLineOffset?.() ?? 0;
    if (offset !== 0) deviceTs += offset;
    const maxSkew = this.opts.maxClockSkewMs ?? 60_000;
    if (deviceTs - frame.receivedAt > maxSkew) {
      this.opts.counters.reject('clock_skew_corrected');
      return rt;
    }
    const lag = rt - deviceTs;
    const lateMs = this.opts.lateReadingMs ?? 60_000;
    if (lag <= lateMs) {
      this.late.delete(frame.deviceId);
      return deviceTs;
    }
    const run = this.late.get(frame.deviceId);
    if (run === undefined) {
      this.late.set(frame.deviceId, { since: rt, lag0: lag, n: 1, behind: false });
      return deviceTs;
    }
    if (!run.behind) {
      const elapsed = rt - run.since;
      if (lag < run.lag0 - elapsed / 2 - CATCH_UP_SLACK_MS) {
        // catching up, as a buffer does: what counts is how steady the lag is from here on
        run.since = rt;
        run.lag0 = lag;
        run.n = 1;
        return deviceTs;
      }
      run.n++;
      if (elapsed < STEADY_LAG_MS || run.n < STEADY_LAG_READINGS) return deviceTs;
      run.behind = true;
      this.opts.logger.warn(
        { device: frame.deviceId, origin: frame.origin, behindSeconds: Math.round(lag / 1000), forSeconds: Math.round(elapsed / 1000) },
        "device clock behind: its readings have come steadily late, not as a buffer catching up; they are stamped with their receive time until one is on time again (check the device's clock)",
      );
    }
    this.opts.counters.reject('clock_skew_corrected');
    return rt;
  }
}

/** `o` with receive time `rt` on the gateway's time line (kept as `rt` only where it differs from `ts`). */
function onTimeLine(o: Observation, rt: number): Observation {
  if (rt === o.ts) {
    if (o.rt === undefined) return o;
    const { rt: _, ...rest } = o;
    return rest;
  }
  return { ...o, rt };
}

/**
 * Whether observations are one reading: more than one, all of one device, time and placement,
 * each of another metric (so one device message holds them all).
 */
function takenTogether(obs: readonly Observation[]): boolean {
  const first = obs[0];
  if (first === undefined || obs.length < 2) return false;
  const metrics = new Set<MetricName>();
  for (const o of obs) {
    if (o.deviceId !== first.deviceId || o.ts !== first.ts || o.rt !== first.rt || o.patientId !== first.patientId || o.ward !== first.ward || o.bed !== first.bed || metrics.has(o.metric)) return false;
    metrics.add(o.metric);
  }
  return true;
}

/** A control input at time `ts`. */
function restamp(c: ControlInput, ts: number): ControlInput {
  return c.type === 'settings' ? { ...c, event: { ...c.event, ts } } : { ...c, ts };
}

/**
 * Technical events that state a condition the device repeats with every message (its sensor is
 * ok, its battery is ok…). Each is stored when the state changes: a stored event stays true
 * until the next one of its group, so repeating it adds nothing but volume (a wearable would
 * otherwise write a `sensor_ok` a second). Remembered only once stored, so a transition the spool
 * refused is tried again with the next message; a restart stores each state once more.
 */
const STATE_GROUP: Partial<Record<TechnicalKind, 'sensor' | 'battery'>> = {
  sensor_ok: 'sensor',
  sensor_off: 'sensor',
  sensor_poor: 'sensor',
  pulse_lost: 'sensor',
  battery_ok: 'battery',
  battery_low: 'battery',
};

class DeviceStates {
  private readonly last = new Map<string, { sensor?: TechnicalKind; battery?: TechnicalKind }>();

  /** True when `kind` is a state the device already has stored. */
  unchanged(deviceId: string, kind: TechnicalKind): boolean {
    const group = STATE_GROUP[kind];
    return group !== undefined && this.last.get(deviceId)?.[group] === kind;
  }

  stored(deviceId: string, kind: TechnicalKind): void {
    const group = STATE_GROUP[kind];
    if (group === undefined) return;
    const s = this.last.get(deviceId) ?? {};
    s[group] = kind;
    this.last.set(deviceId, s);
  }
}
