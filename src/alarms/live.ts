/**
 * The detector pipeline running live inside the gateway. It feeds durable records from ingest
 * and settings from the census into one `Pipeline`, ticks it once a second, and sends every
 * alarm transition out: into the spool (so InfluxDB, the webhook and the upstream bridge get it
 * through the same durable path as observations), onto the MQTT alarm topics, and to listeners
 * (the nurse station).
 */
import { merge, Subject, type Subscription } from 'rxjs';
import type { Logger } from '../core/log.js';
import type { AlarmTransition, Service, SpoolRecord } from '../core/types.js';
import type { Counters } from '../core/counters.js';
import type { Census } from '../census/census.js';
import type { Ingest, Appender } from '../ingest/ingest.js';
import type { DetectorConfig } from '../detectors/config.js';
import { Pipeline, type News2Event, type PipelineInput, type PipelineOutput } from '../detectors/pipeline.js';
import type { ActiveAlarm } from './manager.js';
import { alarmTopic } from '../broker/topics.js';

export interface AlarmPublisher {
  publish(topic: string, payload: string, opts: { qos: 1; retain: boolean }): Promise<void>;
}

export interface LiveDetectorsOptions {
  readonly config: DetectorConfig;
  readonly ingest: Ingest;
  readonly census: Census;
  readonly spool: Appender;
  readonly counters: Counters;
  readonly logger: Logger;
  /** Where alarm topics go; undefined in tests without a broker. */
  readonly publisher?: () => AlarmPublisher | undefined;
  /** Epoch-ms clock; must be the clock that stamps observations. */
  readonly clock: () => number;
  /**
   * Ticks run this far behind the clock, ms, so a tick never overtakes an observation that was
   * stamped earlier but is still on its way through the spool's fsync.
   */
  readonly tickLagMs?: number;
}

type Listener = (o: PipelineOutput) => void;

export class LiveDetectors implements Service {
  readonly name = 'detectors';
  readonly pipeline: Pipeline;
  private readonly inputs = new Subject<PipelineInput>();
  private readonly actions = new Subject<PipelineInput>();
  private readonly listeners: Listener[] = [];
  private subscription: Subscription | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly news2 = new Map<string, News2Event>();
  /** Inputs the detectors threw on (each skipped), and the last such error, for health. */
  failures = 0;
  lastFailure: string | undefined;

  constructor(private readonly opts: LiveDetectorsOptions) {
    this.pipeline = new Pipeline(opts.config);
  }

  async start(): Promise<void> {
    const { ingest, census, clock } = this.opts;
    // Inputs are pushed one by one rather than through `detectWith`, so that an input the
    // detectors fail on is counted, logged and skipped instead of ending alarm evaluation for
    // the whole ward. Order and time handling are the pipeline's own, as in replay.
    this.subscription = merge(this.inputs, this.actions).subscribe((input) => {
      let outputs: PipelineOutput[];
      try {
        outputs = this.pipeline.push(input);
      } catch (err) {
        this.failures++;
        this.lastFailure = `${(err as Error).message} (input ${input.type})`;
        this.opts.counters.reject('detector_error');
        this.opts.logger.error({ err: (err as Error).message, stack: (err as Error).stack, input }, 'detectors failed on an input: it was skipped');
        return;
      }
      for (const o of outputs) this.output(o);
    });
    for (const p of census.snapshot().patients) {
      if (Object.keys(p.settings).length > 0) this.inputs.next({ type: 'settings', event: { ts: clock(), patientId: p.id, settings: p.settings } });
    }
    census.on('settings', (patientId, settings) => this.inputs.next({ type: 'settings', event: { ts: clock(), patientId, settings } }));
    ingest.onRecords((records) => {
      for (const r of records) {
        if (r.t === 'obs') this.inputs.next({ type: 'obs', obs: r.o });
        else if (r.t === 'tech') this.inputs.next({ type: 'tech', event: r.e });
      }
    });
    const lag = this.opts.tickLagMs ?? 500;
    this.timer = setInterval(() => this.inputs.next({ type: 'tick', ts: clock() - lag }), 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.subscription?.unsubscribe();
    this.subscription = undefined;
  }

  /**
   * Raises (or clears) a technical alarm about the gateway itself, e.g. its spool nearing the
   * size bound. It has no patient; the nurse station shows it across the ward.
   */
  system(condition: string, active: boolean, priority: 'high' | 'medium' | 'low', reason: string): void {
    this.actions.next({ type: 'system', ts: Math.max(this.opts.clock(), this.pipeline.now), condition, active, priority, reason });
  }

  /** Subscribes to NEWS2 changes and alarm transitions as they happen. */
  onOutput(listener: Listener): void {
    this.listeners.push(listener);
  }

  activeAlarms(filter?: { patientId?: string; bed?: string }): ActiveAlarm[] {
    return this.pipeline.activeAlarms(filter);
  }

  latestNews2(patientId: string): News2Event | undefined {
    return this.news2.get(patientId);
  }

  /**
   * Acknowledges an alarm for a nurse. Goes through the pipeline's input stream, so it is
   * ordered with the data and a recording replays it.
   * @returns false when there is no such alarm or it is already acknowledged.
   */
  acknowledge(alarmId: string, by: string): boolean {
    if (!this.pipeline.isAcknowledgeable(alarmId)) return false;
    this.actions.next({ type: 'ack', alarmId, by, ts: Math.max(this.opts.clock(), this.pipeline.now) });
    return true;
  }

  /** Pauses an alarm's audio and escalation for `seconds`. */
  silence(alarmId: string, by: string, seconds: number): boolean {
    if (!this.activeAlarms().some((a) => a.id === alarmId)) return false;
    this.actions.next({ type: 'silence', alarmId, by, ts: Math.max(this.opts.clock(), this.pipeline.now), seconds });
    return true;
  }

  private output(o: PipelineOutput): void {
    if (o.type === 'alarm') this.alarm(o.alarm);
    else this.news2.set(o.patientId, o);
    for (const l of this.listeners) {
      try {
        l(o);
      } catch (err) {
        this.opts.logger.error({ err: (err as Error).message }, 'alarm listener failed');
      }
    }
  }

  private alarm(a: AlarmTransition): void {
    const log = this.opts.logger;
    this.opts.counters.alarmTransition(a.kind, a.priority, a.state);
    const level = a.state === 'raised' || a.state === 'escalated' ? (a.priority === 'low' ? 'info' : 'warn') : 'info';
    log[level]({ alarm: a.id, patient: a.patientId, ward: a.ward, bed: a.bed, kind: a.kind, priority: a.priority, state: a.state, metric: a.metric, value: a.value, by: a.by }, `alarm ${a.state}: ${a.reason}`);
    const record: SpoolRecord = { t: 'alarm', a };
    this.opts.spool.append([Buffer.from(JSON.stringify(record))]).catch((err: Error) => {
      this.opts.counters.reject('alarm_not_stored');
      log.error({ alarm: a.id, err: err.message }, 'alarm transition could not be stored in the spool');
    });
    const publisher = this.opts.publisher?.();
    if (publisher && a.ward !== undefined && a.bed !== undefined) {
      const topic = alarmTopic(a.ward, a.bed);
      const active = this.activeAlarms({ bed: a.bed }).filter((x) => x.ward === a.ward);
      Promise.all([
        publisher.publish(topic, JSON.stringify(a), { qos: 1, retain: false }),
        publisher.publish(`${topic}/active`, JSON.stringify({ ts: a.ts, ward: a.ward, bed: a.bed, alarms: active }), { qos: 1, retain: true }),
      ]).catch((err: Error) => log.error({ alarm: a.id, topic, err: err.message }, 'alarm could not be published on MQTT'));
    }
  }
}
