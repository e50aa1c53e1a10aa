/**
 * The detector pipeline running live inside the gateway, and the alarm state that outlives it.
 *
 * Inputs: every record ingest makes durable (device data, technical events, manual observations,
 * and control inputs: acknowledgements, silences, census changes, gateway conditions), in spool
 * order, plus a tick a second placed in that order (`Ingest.mark`). Nurses' actions and census
 * changes are appended to the spool first and reach the detectors from there, so the spool holds
 * every input in the order the detectors took it.
 *
 * Outputs: every alarm transition goes into the spool (so InfluxDB, the webhook and the upstream
 * bridge get it through the same durable path as observations), onto the MQTT alarm topics, and
 * to listeners (the nurse station). An escalation step goes out on the channels of its tier
 * only (`reachesChannel`); `onSent` listeners (delivery confirmation) hear of each transition
 * once, when it is sent, never again on a restart's replay.
 *
 * Restarts: every `checkpointMs`, and at stop, the whole pipeline state and the views built
 * beside it (the station's ward store) are saved with the seq of the last input they include
 * (state-file.ts), and the spool keeps every record after it (reader `state`). At start the
 * state is loaded and the spool after it replayed through the same listeners, with its outputs
 * held back: transitions the spool already holds were delivered before and are not sent again;
 * any the replay derives that the spool lacks (lost in a crash between deriving and storing)
 * are stored and sent now. A transition the spool holds but the replay has not derived yet (an
 * escalation step a tick fired just before the crash, with no data after it) is derived again by
 * the first ticks after the start and is not sent a second time. Ticks change when an output comes, never what it is, so the replay
 * derives exactly what the live pipeline did. Then the census is compared with what the
 * detectors hold, and any difference is sent as a census change.
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from '../core/log.js';
import { reachesChannel, type AlarmTransition, type ControlInput, type Service, type SpoolRecord, type WardAssignment } from '../core/types.js';
import type { Counters } from '../core/counters.js';
import type { Census, Patient } from '../census/census.js';
import type { Ingest } from '../ingest/ingest.js';
import type { DetectorConfig } from '../detectors/config.js';
import { Pipeline, inputsOf, type News2Event, type PipelineInput, type PipelineOutput } from './pipeline.js';
import type { Appended } from '../spool/writer.js';
import type { SpoolBatch, SpoolPosition, SpoolReader } from '../spool/types.js';
import type { ActiveAlarm } from './manager.js';
import { alarmTopic } from '../broker/topics.js';
import { BlobWriter, NO_BLOBS, type BlobReader } from '../core/blobs.js';
import { loadState, STATE_FORMAT, writeStateNow, type StateToWrite } from './state-file.js';
import { removeLeftTempFiles } from '../core/atomic-file.js';

export interface AlarmPublisher {
  publish(topic: string, payload: string, opts: { qos: 1; retain: boolean }): Promise<void>;
}

/** What the detectors need of the spool: alarm transitions go in; a restart reads back. */
export interface AlarmSpool {
  appendRecords(payloads: readonly Buffer[], opts?: { reserve?: boolean }): Promise<Appended>;
  reader(name: string): Promise<SpoolReader>;
  /** The position of the oldest record still on disk. */
  oldest(): SpoolPosition;
  /** A one-off reader from `from` that keeps no cursor (`seek` pages it). */
  scan(name: string, from: SpoolPosition): { read(max: number): Promise<SpoolBatch>; seek(pos: SpoolPosition): void; release(): Promise<void> };
  stats(): { lastSeq: number };
}

/** Something built from the same records and outputs as the detectors, saved and restored with them. */
export interface StateView {
  /**
   * JSON data, whose parts may be deferred (`core/json-stream.ts`); large arrays may go to
   * `blobs`, referred to from the data. It is written in the same synchronous run.
   */
  snapshot(blobs: BlobWriter): unknown;
  /** `undefined`: back to empty. `blobs`: the binary parts saved with the state. */
  restore(state: unknown, blobs: BlobReader): void;
}

export interface LiveDetectorsOptions {
  readonly config: DetectorConfig;
  readonly ingest: Ingest;
  readonly census: Census;
  readonly spool: AlarmSpool;
  readonly counters: Counters;
  readonly logger: Logger;
  /** Where alarm topics go; undefined until the broker runs, and in tests without one. */
  readonly publisher?: () => AlarmPublisher | undefined;
  /** Epoch-ms clock: the gateway's, the one ingest stamps records with. */
  readonly clock: () => number;
  /** Told where the time line had got to once the state is rebuilt, before anything is stamped: the clock goes on from there. */
  readonly resumeTimeLine?: (t: number) => void;
  /** The saved alarm state; without it nothing is saved or rebuilt. */
  readonly stateFile?: string;
  /** ms between saves of the state (default 60 s). */
  readonly checkpointMs?: number;
  /** ms between ticks (default 1000). */
  readonly tickMs?: number;
}

/** How the alarm state came back at start, for health and the log. */
export interface RestoreReport {
  readonly restored: boolean;
  /** epoch ms of the saved state it came from */
  readonly savedAt?: number;
  /** spool records replayed after the saved state */
  readonly replayed: number;
  /** transitions the replay derived that the spool lacked (lost in a crash), now stored and sent */
  readonly recovered: number;
  /** how long coming back took, ms */
  readonly ms: number;
  readonly activeAlarms: number;
  /** why there was nothing to restore from, when there should have been */
  readonly problem?: string;
  /**
   * With a problem: alarms the spool shows open before the start (raised, never resolved) that
   * were ended with a `resolved` transition, since nothing of them is known now.
   */
  readonly endedUnknown?: number;
  /** With a problem: every alarm raised from now on is numbered above this (the spool's last seq at start). */
  readonly numberedAbove?: number;
}

type Listener = (o: PipelineOutput) => void;
/** Told of a transition once it is stored and sent, with where it went on MQTT (none: not published). */
export type SentListener = (a: AlarmTransition, mqtt: { topic: string; payload: string } | undefined) => void;

/** MQTT topic of the transitions of alarms with no bed (the gateway's own). */
export const GATEWAY_ALARM_TOPIC = 'vigil/v1/alarms/gateway';

/** The gateway condition of the notice that alarm state was lost, and its alarms' id prefix. */
const STATE_LOST = 'state_not_restored';
const STATE_LOST_ID = `device:gateway:system:${STATE_LOST}:`;
/** How a stored alarm record's payload starts (`alarm` writes them so). */
const ALARM_RECORD = Buffer.from('{"t":"alarm",');

/** The spool reader whose cursor marks the oldest record a restart needs. */
export const STATE_READER = 'state';
const SCAN_BATCH = 5000;

const transitionKey = (a: AlarmTransition): string => `${a.id}|${a.state}|${a.ts}`;

export class LiveDetectors implements Service {
  readonly name = 'detectors';
  pipeline: Pipeline;
  private readonly listeners: Listener[] = [];
  private readonly sentListeners: SentListener[] = [];
  private readonly controlListeners: Array<(c: ControlInput) => void> = [];
  /**
   * After a restart: transitions the spool holds that the replay did not derive (yet), by key,
   * and the latest one's time; derived by the first ticks, they are not sent again.
   */
  private storedAhead: { keys: Set<string>; until: number } | undefined;
  private readonly views = new Map<string, StateView>();
  private running = false;
  /** Replaying after a restart: alarm transitions are collected, not sent. */
  private replaying: AlarmTransition[] | undefined;
  /** The last input taken: its seq, and the spool position to replay from after it. */
  private last: { seq: number; next: SpoolPosition } | undefined;
  private stateReader: SpoolReader | undefined;
  private readonly pendingWrites = new Set<Promise<unknown>>();
  /** Publications held until the broker runs. */
  private held: Array<[string, string, boolean]> = [];
  private tickTimer: NodeJS.Timeout | undefined;
  private checkpointTimer: NodeJS.Timeout | undefined;
  private saving: Promise<void> | undefined;
  /** Inputs the detectors threw on (each skipped), and the last such error, for health. */
  failures = 0;
  lastFailure: string | undefined;
  restore: RestoreReport | undefined;
  /** The state was lost at start and the notice saying so has not reached the detectors yet. */
  private lostNoticePending = false;

  /** The detectors' section of /healthz: inputs they threw on, and the last such error. */
  health(): { failures: number; lastFailure?: string } {
    return { failures: this.failures, ...(this.lastFailure ? { lastFailure: this.lastFailure } : {}) };
  }

  constructor(private readonly opts: LiveDetectorsOptions) {
    this.pipeline = new Pipeline(opts.config);
  }

  /**
   * True while alarms from before the start may be missing from what is shown: the alarm state
   * could not be restored, and nobody has acknowledged the notice that says so yet.
   */
  stateIncomplete(): boolean {
    return this.lostNoticePending || this.activeAlarms().some((a) => a.id.startsWith(STATE_LOST_ID));
  }

  /** Saves and restores `view` with the detectors' state (register before `start`). */
  keep(name: string, view: StateView): void {
    this.views.set(name, view);
  }

  async start(): Promise<void> {
    const { ingest, census, clock } = this.opts;
    this.running = true;
    ingest.onRecords((records, firstSeq, next) => this.take(records, firstSeq, next));
    if (this.opts.stateFile !== undefined) await this.rebuild(this.opts.stateFile);
    this.opts.resumeTimeLine?.(this.pipeline.now);
    census.onPatient((id, p) => this.censusChanged(id, p));
    await this.reconcile();
    // Saved at once, so that even a crash in the first minute comes back from here.
    await this.checkpoint();
    this.tickTimer = setInterval(() => ingest.mark(clock(), (ts) => this.push({ type: 'tick', ts })), this.opts.tickMs ?? 1000);
    this.tickTimer.unref();
    if (this.opts.stateFile !== undefined) {
      this.checkpointTimer = setInterval(() => void this.checkpoint(), this.opts.checkpointMs ?? 60_000);
      this.checkpointTimer.unref();
    }
  }

  /** Saves the state one last time (all inputs have been taken by now) and stops. */
  async stop(): Promise<void> {
    clearInterval(this.tickTimer);
    clearInterval(this.checkpointTimer);
    if (this.running) await this.checkpoint();
    this.running = false;
    await Promise.allSettled([...this.pendingWrites]);
  }

  /**
   * Publishes every bed's active alarms (retained), and what was held back until the broker ran:
   * a broker keeps retained messages in memory, so after a restart they are sent again.
   */
  publishActive(): void {
    const held = this.held;
    this.held = [];
    for (const [topic, payload, retain] of held) this.publish(topic, payload, retain);
    for (const w of this.opts.census.snapshot().wards) for (const bed of w.beds) this.publishBed(w.id, bed);
  }

  /**
   * Raises (or clears) a technical alarm about the gateway itself, e.g. its spool nearing the
   * size bound. It has no patient; the nurse station shows it across the ward.
   */
  system(condition: string, active: boolean, priority: 'high' | 'medium' | 'low', reason: string): void {
    this.opts.ingest
      .control({ type: 'system', ts: this.opts.clock(), condition, active, priority, reason })
      .catch((err: Error) => this.opts.logger.error({ condition, active, err: err.message }, 'gateway condition could not be stored'));
  }

  /** Subscribes to NEWS2 changes and alarm transitions as they happen (and as a restart replays them). */
  onOutput(listener: Listener): void {
    this.listeners.push(listener);
  }

  /**
   * Subscribes to the control inputs the detectors took (audio paused, assignments, …), which
   * change what the station shows without an alarm transition.
   */
  onControl(listener: (c: ControlInput) => void): void {
    this.controlListeners.push(listener);
  }

  /** Subscribes to transitions as they are stored and sent: once each, never on a replay. */
  onSent(listener: SentListener): void {
    this.sentListeners.push(listener);
  }

  /**
   * Sets a ward's caregiver assignment for the shift (replacing the previous one). Stored in the
   * spool first, like an acknowledgement: in force for the next escalation step when this resolves.
   */
  async assign(ward: string, assignment: WardAssignment, by: string): Promise<void> {
    await this.opts.ingest.control({ type: 'assign', ts: this.opts.clock(), ward, by, assignment });
  }

  /** Each ward's caregiver assignment now. */
  assignments(): Map<string, WardAssignment> {
    return this.pipeline.assignmentsNow();
  }

  activeAlarms(filter?: { patientId?: string; bed?: string }): ActiveAlarm[] {
    return this.pipeline.activeAlarms(filter);
  }

  /** The patient's NEWS2 now: score, band, parts and the parameters missing. */
  latestNews2(patientId: string): News2Event | undefined {
    return this.pipeline.news2Of(patientId);
  }

  /**
   * Acknowledges an alarm for a nurse. Stored in the spool first, so it is ordered with the data
   * and survives a restart; in force when this resolves.
   * @returns false when there is no such alarm or it is already acknowledged.
   * @throws when it cannot be stored
   */
  async acknowledge(alarmId: string, by: string): Promise<boolean> {
    if (!this.pipeline.isAcknowledgeable(alarmId)) return false;
    await this.opts.ingest.control({ type: 'ack', alarmId, by, ts: this.opts.clock() });
    return true;
  }

  /** Pauses an alarm's audio and escalation for `seconds` (stored like an acknowledgement). */
  async silence(alarmId: string, by: string, seconds: number): Promise<boolean> {
    if (!this.activeAlarms().some((a) => a.id === alarmId)) return false;
    await this.opts.ingest.control({ type: 'silence', alarmId, by, ts: this.opts.clock(), seconds });
    return true;
  }

  /** Saves the state now (also on a timer and at stop). */
  checkpoint(): Promise<void> {
    this.saving ??= this.save().finally(() => (this.saving = undefined));
    return this.saving;
  }

  private async save(): Promise<void> {
    const file = this.opts.stateFile;
    const at = this.last;
    if (file === undefined || at === undefined || this.stateReader === undefined || this.replaying) return;
    const started = performance.now();
    try {
      // Taken and written in one synchronous run: the file is the state of this moment.
      const blobs = new BlobWriter();
      const views: Record<string, unknown> = {};
      for (const [name, v] of this.views) views[name] = v.snapshot(blobs);
      const state: StateToWrite = { format: STATE_FORMAT, savedAt: this.opts.clock(), seq: at.seq, pipeline: this.pipeline.deferredSnapshot(), views };
      const written = writeStateNow(file, state, blobs);
      const writtenMs = performance.now() - started;
      // What the state says was sent must be in the spool before the state is.
      await Promise.allSettled([...this.pendingWrites]);
      await written.commit();
      await this.stateReader.commit(at.next);
      this.opts.logger.debug({ seq: at.seq, bytes: written.bytes, writtenMs: Math.round(writtenMs), ms: Math.round(performance.now() - started) }, 'alarm state saved');
    } catch (err) {
      this.opts.counters.reject('alarm_state_not_saved');
      this.opts.logger.error({ file, err: (err as Error).message }, 'alarm state could not be saved: a restart would replay from the previous save');
    }
  }

  /** Loads the saved state and replays the spool after it (see the file comment). */
  private async rebuild(file: string): Promise<void> {
    const log = this.opts.logger;
    const started = performance.now();
    // the spool's lock makes this process the only one that writes the data directory
    await removeLeftTempFiles(file).then(
      (left) => left.length > 0 && log.warn({ files: left }, 'removed alarm-state files an earlier process left half-written (it stopped while saving); the last whole state is loaded'),
      (err: Error) => log.warn({ err: err.message, file }, 'could not look for alarm-state files left half-written; going on'),
    );
    const loaded = await loadState(file);
    this.stateReader = await this.opts.spool.reader(STATE_READER);
    const lastSeq = this.opts.spool.stats().lastSeq;
    let problem: string | undefined;
    let replayed = 0;
    let recovered = 0;
    if (loaded.kind === 'loaded') {
      try {
        this.pipeline = Pipeline.restore(this.opts.config, loaded.state.pipeline);
        for (const [name, v] of this.views) v.restore(loaded.state.views[name], loaded.blobs);
      } catch (err) {
        problem = `saved alarm state could not be loaded: ${(err as Error).message}`;
        this.pipeline = new Pipeline(this.opts.config);
        for (const v of this.views.values()) v.restore(undefined, NO_BLOBS);
      }
      if (problem === undefined) {
        const seq = Math.min(loaded.state.seq, lastSeq);
        if (loaded.state.seq > lastSeq) log.warn({ file, seq: loaded.state.seq, lastSeq }, 'saved alarm state is ahead of the spool (was the spool replaced?): nothing to replay');
        this.last = { seq, next: this.stateReader.position() };
        ({ replayed, recovered } = await this.replayAfter(seq));
      }
    } else if (loaded.kind === 'unusable') problem = loaded.problem;
    else if (lastSeq > 0) problem = `no saved alarm state in ${file}, though the spool holds data from before`;
    this.last ??= { seq: lastSeq, next: this.stateReader.position() };
    let lost: { endedUnknown: number; numberedAbove: number } | undefined;
    if (problem !== undefined) {
      // The alarm counters went with the state. Every alarm raised is a record in the spool,
      // and so is the input that raised it, so none can have had a number above the spool's last
      // seq: numbering above it never gives an id that went downstream before.
      this.pipeline.numberAlarmsAbove(lastSeq);
      lost = { endedUnknown: await this.endUnknownAlarms(problem), numberedAbove: lastSeq };
    }
    const activeAlarms = this.pipeline.activeAlarms().length;
    const ms = Math.round(performance.now() - started);
    this.restore = { restored: loaded.kind === 'loaded' && problem === undefined, ...(loaded.kind === 'loaded' && { savedAt: loaded.state.savedAt }), replayed, recovered, ms, activeAlarms, ...(problem !== undefined && { problem }), ...lost };
    if (problem !== undefined) {
      log.error({ file, problem, ...lost }, 'alarm state not restored: alarms raised before this start are not shown');
      // Said where nurses look: a high-priority (latching) notice that stays until acknowledged.
      this.lostNoticePending = true;
      this.system(STATE_LOST, true, 'high', `Alarms from before the gateway restarted could not be restored (${problem}): check the patients' monitors`);
      this.system(STATE_LOST, false, 'high', 'Alarm state not restored at start');
    } else if (this.restore.restored) log.info(this.restore, 'alarm state restored');
  }

  /**
   * The alarm state was lost: ends, with a `resolved` transition, every alarm the spool still
   * holds as open (its last transition stored is not `resolved`), so that the webhook, the bridge,
   * InfluxDB and MQTT consumers do not keep it open forever. Nothing else of it is known now; if
   * its condition is still present the detectors raise it again, under a new id. Alarms whose
   * records retention has already deleted cannot be found.
   * @returns how many were ended
   */
  private async endUnknownAlarms(problem: string): Promise<number> {
    const open = new Map<string, AlarmTransition>();
    const scan = this.opts.spool.scan('state-lost', this.opts.spool.oldest());
    try {
      for (;;) {
        const batch = await scan.read(SCAN_BATCH);
        if (batch.entries.length === 0) break;
        for (const e of batch.entries) {
          if (!e.payload.subarray(0, ALARM_RECORD.length).equals(ALARM_RECORD)) continue;
          let r: SpoolRecord;
          try {
            r = JSON.parse(e.payload.toString('utf8')) as SpoolRecord;
          } catch {
            continue;
          }
          if (r.t !== 'alarm' || typeof r.a?.id !== 'string') continue;
          if (r.a.state === 'resolved') open.delete(r.a.id);
          else open.set(r.a.id, r.a);
        }
        scan.seek(batch.next);
      }
    } finally {
      await scan.release();
    }
    const now = this.opts.clock();
    for (const last of open.values()) {
      const { escalation: _step, by: _by, ...alarm } = last;
      this.alarm({ ...alarm, ts: Math.max(now, last.ts), state: 'resolved', reason: `ended by the gateway: its alarm state was lost at restart (${problem}); raised again under a new id if the condition is still present` });
    }
    return open.size;
  }

  /** Replays the inputs after `seq` with their outputs held back; stores and sends what the spool lacks. */
  private async replayAfter(seq: number): Promise<{ replayed: number; recovered: number }> {
    const scan = this.opts.spool.scan('state-replay', this.stateReader!.position());
    const recorded = new Set<string>();
    const derived: AlarmTransition[] = [];
    this.replaying = derived;
    let replayed = 0;
    try {
      for (;;) {
        const batch = await scan.read(SCAN_BATCH);
        if (batch.entries.length === 0) break;
        for (const e of batch.entries) {
          if (e.seq <= seq) continue;
          let r: SpoolRecord;
          try {
            r = JSON.parse(e.payload.toString('utf8')) as SpoolRecord;
          } catch {
            continue; // counted and dead-lettered by the time-series writer
          }
          if (r.t === 'alarm') recorded.add(transitionKey(r.a));
          else {
            this.opts.ingest.redeliver([r], e.seq, batch.next);
            replayed++;
          }
        }
        this.last = { seq: this.last?.seq ?? seq, next: batch.next };
        scan.seek(batch.next);
      }
    } finally {
      this.replaying = undefined;
      await scan.release();
    }
    const missing = derived.filter((a) => !recorded.has(transitionKey(a)));
    for (const a of missing) this.alarm(a, 'recovered');
    for (const a of derived) recorded.delete(transitionKey(a));
    if (recorded.size > 0) this.storedAhead = { keys: recorded, until: Math.max(...[...recorded].map((k) => Number(k.slice(k.lastIndexOf('|') + 1)))) };
    return { replayed, recovered: missing.length };
  }

  /** Brings the detectors in line with the census where they differ (a change lost in a crash, or made offline). */
  private async reconcile(): Promise<void> {
    const census = this.opts.census.snapshot().patients;
    const admitted = new Set(census.map((p) => p.id));
    for (const p of census) {
      const held = this.pipeline.patientEntry(p.id);
      if (held?.ward === p.ward && held.bed === p.bed && stable(held.settings) === stable(p.settings)) continue;
      await this.censusChanged(p.id, p);
    }
    for (const id of this.pipeline.knownPatients()) if (!admitted.has(id)) await this.censusChanged(id, undefined);
  }

  private async censusChanged(patientId: string, p: Patient | undefined): Promise<void> {
    const beds = new Set(this.activeAlarms({ patientId }).map((a) => `${a.ward}\u0000${a.bed}`));
    await this.opts.ingest.control({ type: 'census', ts: this.opts.clock(), patientId, ...(p && { patient: { ward: p.ward, bed: p.bed, settings: p.settings } }) });
    // the alarms went with the patient (or ended): both beds' active sets changed
    if (p) beds.add(`${p.ward}\u0000${p.bed}`);
    for (const b of beds) {
      const [ward, bed] = b.split('\u0000') as [string, string];
      if (ward !== 'undefined' && bed !== 'undefined') this.publishBed(ward, bed);
    }
  }

  /** Records from ingest (live, or replayed at start), in spool order. */
  private take(records: readonly SpoolRecord[], firstSeq: number, next: SpoolPosition): void {
    if (!this.running) return;
    for (const r of records) {
      for (const input of inputsOf(r)) this.push(input);
      if (r.t === 'ctl') for (const l of this.controlListeners) l(r.c);
    }
    this.last = { seq: firstSeq + records.length - 1, next };
  }

  /**
   * One input through the pipeline. An input the detectors fail on is counted, logged and
   * skipped instead of ending alarm evaluation for the whole ward.
   */
  private push(input: PipelineInput): void {
    let outputs: readonly PipelineOutput[];
    try {
      outputs = this.pipeline.push(input);
    } catch (err) {
      this.failures++;
      this.lastFailure = `${(err as Error).message} (input ${input.type})`;
      this.opts.counters.reject('detector_error');
      this.opts.logger.error({ err: (err as Error).message, stack: (err as Error).stack, input }, 'detectors failed on an input: it was skipped');
      return;
    }
    const ahead = this.storedAhead;
    if (ahead && this.pipeline.now > ahead.until) this.storedAhead = undefined;
    for (const o of outputs) {
      if (o.type === 'alarm') {
        if (this.lostNoticePending && o.alarm.id.startsWith(STATE_LOST_ID)) this.lostNoticePending = false;
        if (this.replaying) this.replaying.push(o.alarm);
        else if (!ahead?.keys.delete(transitionKey(o.alarm))) this.alarm(o.alarm);
      }
      for (const l of this.listeners) {
        try {
          l(o);
        } catch (err) {
          this.opts.logger.error({ err: (err as Error).message }, 'alarm listener failed');
        }
      }
    }
  }

  /** Stores, logs and publishes a transition (`recovered`: derived again after a crash lost it). */
  private alarm(a: AlarmTransition, recovered?: 'recovered'): void {
    const log = this.opts.logger;
    this.opts.counters.alarmTransition(a.kind, a.priority, a.state);
    const level = a.state === 'raised' || a.state === 'escalated' ? (a.priority === 'low' ? 'info' : 'warn') : 'info';
    const msg = recovered ? `alarm ${a.state} (recovered after restart): ${a.reason}` : `alarm ${a.state}: ${a.reason}`;
    log[level]({ alarm: a.id, patient: a.patientId, ward: a.ward, bed: a.bed, kind: a.kind, priority: a.priority, state: a.state, metric: a.metric, value: a.value, by: a.by }, msg);
    const record: SpoolRecord = { t: 'alarm', a };
    // Alarms are kept even while device data is refused (the spool's reserve).
    const write = this.opts.spool.appendRecords([Buffer.from(JSON.stringify(record))], { reserve: true }).catch((err: Error) => {
      this.opts.counters.reject('alarm_not_stored');
      log.error({ alarm: a.id, err: err.message }, 'alarm transition could not be stored in the spool');
    });
    this.pendingWrites.add(write);
    void write.finally(() => this.pendingWrites.delete(write));
    let mqtt: { topic: string; payload: string } | undefined;
    if (reachesChannel(a, 'mqtt')) {
      mqtt = { topic: a.ward !== undefined && a.bed !== undefined ? alarmTopic(a.ward, a.bed) : GATEWAY_ALARM_TOPIC, payload: JSON.stringify(a) };
      this.publish(mqtt.topic, mqtt.payload, false);
    }
    if (a.ward !== undefined && a.bed !== undefined) this.publishBed(a.ward, a.bed);
    for (const l of this.sentListeners) {
      try {
        l(a, mqtt);
      } catch (err) {
        log.error({ alarm: a.id, err: (err as Error).message }, 'alarm delivery listener failed');
      }
    }
  }

  /** The bed's active alarms, retained, on `vigil/v1/alarms/{ward}/{bed}/active`. */
  private publishBed(ward: string, bed: string): void {
    const alarms = this.activeAlarms({ bed }).filter((x) => x.ward === ward);
    this.publish(`${alarmTopic(ward, bed)}/active`, JSON.stringify({ ts: this.pipeline.now, ward, bed, alarms }), true);
  }

  private publish(topic: string, payload: string, retain: boolean): void {
    const publisher = this.opts.publisher?.();
    if (!publisher) {
      // before the broker runs (a restart's replay): sent once it does
      if (!retain) this.held.push([topic, payload, retain]);
      return;
    }
    publisher.publish(topic, payload, { qos: 1, retain }).catch((err: Error) => this.opts.logger.error({ topic, err: err.message }, 'alarm could not be published on MQTT'));
  }
}

/** JSON with sorted keys, to compare settings whatever order their keys came in. */
function stable(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b))) : x));
}
