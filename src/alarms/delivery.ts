/**
 * Delivery confirmation of escalation steps. [IEC 60601-1-8] a distributed alarm system confirms
 * that an alarm reached where it was sent; a delivery that fails is itself a technical alarm,
 * shown where someone will see it.
 *
 * Each step (the `raised` transition for tier 1, each `escalated` for the next) goes out on its
 * tier's channels, and each channel confirms it its own way:
 *
 * - `station`: a recipient (anyone, when the step names nobody) has the nurse station open
 *   (a live stream of their session) when the step is sent or within `confirmMs`; only people
 *   who may acknowledge alarms count (`StationPresence`): an admin's open station confirms
 *   nothing, since the admin cannot acknowledge or silence the alarm;
 * - `mqtt`: a subscriber with a persistent session (the nurse-call system: QoS 1, clean session
 *   off) acknowledges (PUBACK) the message within `confirmMs`;
 * - `webhook`: the endpoint answers 2xx (the webhook sink reports each request's outcome).
 *
 * Every step and every result goes to the audit log and to /metrics. A failed delivery raises the
 * technical alarm `delivery:{channel}:{priority}` (the priority of the undelivered alarm) through
 * the detectors, so it is stored, replayed and escalated like any other; it clears once every
 * failed delivery on that channel has gone through late or its alarm was acknowledged or ended.
 * High priority alarms latch, so a cleared delivery failure stays until someone acknowledges it.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '../core/log.js';
import type { AlarmPriority, AlarmTransition, EscalationStep, NotifyChannel } from '../core/types.js';
import type { ActiveAlarm } from './manager.js';

/** What delivery confirmation needs of the rest of the gateway. */
export interface DeliveryDeps {
  /** Appends one audit entry (durably). */
  readonly audit: (entry: { who: string; role: string; action: string; patientId?: string; detail: Record<string, unknown> }) => Promise<void>;
  /** Raises or clears a technical alarm about the gateway itself (`LiveDetectors.system`). */
  readonly system: (condition: string, active: boolean, priority: AlarmPriority, reason: string) => void;
  /** Who has the station open and may acknowledge alarms (`StationPresence`). */
  readonly stations: { connected(usernames?: readonly string[]): string[]; onAttach(listener: (username: string) => void): void };
  /** The alarms shown now: delivery failures a restart brought back are cleared by the next success. */
  readonly activeAlarms: () => readonly ActiveAlarm[];
  readonly registry: Registry;
  readonly logger: Logger;
  /** ms a step may take to reach a station or an MQTT subscriber before it counts as undelivered. */
  readonly confirmMs: number;
}

/** A step on one channel, awaiting confirmation or failed. */
interface Delivery {
  readonly a: AlarmTransition;
  readonly step: EscalationStep;
  readonly channel: NotifyChannel;
  /** MQTT `topic \0 payload`, to match the subscriber's acknowledgement. */
  readonly mqtt?: string;
  timer?: NodeJS.Timeout;
  failed: boolean;
}

const CHANNEL_WORDS: Record<NotifyChannel, string> = { station: 'at the nurse station', mqtt: 'on MQTT', webhook: 'through the paging webhook' };
const CONDITION = /^device:gateway:system:(delivery:(?:station|mqtt|webhook):(?:high|medium|low)):\d+$/;
/** Steps delivered through the webhook remembered, so a batch posted again is not audited twice. */
const REMEMBERED = 2000;

export class DeliveryTracker {
  /** `alarm|tier|channel` → the delivery awaiting confirmation, or failed. */
  private readonly open = new Map<string, Delivery>();
  private readonly byMqtt = new Map<string, string>();
  /** Technical alarm condition → active as last raised. */
  private readonly reported = new Map<string, boolean>();
  private readonly delivered = new Set<string>();
  private resumed = false;
  private readonly results: Counter<'channel' | 'result'>;
  private readonly steps: Counter<'tier'>;

  constructor(private readonly deps: DeliveryDeps) {
    this.results = new Counter({ name: 'vigil_alarm_notifications_total', help: 'Escalation steps per channel and delivery result (delivered, failed, delivered_late)', labelNames: ['channel', 'result'], registers: [deps.registry] });
    this.steps = new Counter({ name: 'vigil_alarm_escalation_steps_total', help: 'Escalation steps taken, by tier (1: the alarm raised)', labelNames: ['tier'], registers: [deps.registry] });
    const failing = (channel: NotifyChannel): number => [...this.open.values()].filter((d) => d.failed && d.channel === channel).length;
    new Gauge({
      name: 'vigil_alarm_notifications_undelivered',
      help: 'Escalation steps whose delivery failed and is still outstanding, by channel',
      labelNames: ['channel'],
      registers: [deps.registry],
      collect() {
        for (const c of ['station', 'mqtt', 'webhook'] as const) this.set({ channel: c }, failing(c));
      },
    });
    deps.stations.onAttach((u) => this.stationOpened(u));
  }


  /** A transition was stored and sent (`LiveDetectors.onSent`), with its MQTT message if it had one. */
  sent(a: AlarmTransition, mqtt: { topic: string; payload: string } | undefined): void {
    if (a.state === 'acknowledged' || a.state === 'resolved') return this.settle(a.id);
    const step = a.escalation;
    if (!step) return;
    this.steps.inc({ tier: String(step.tier) });
    this.audit(a, 'alarm.step', { tier: step.tier, tierName: step.name, recipients: step.recipients, channels: step.channels, state: a.state });
    for (const channel of step.channels) {
      if (channel === 'webhook') continue; // the sink reports its outcome
      const d: Delivery = { a, step, channel, failed: false, ...(channel === 'mqtt' && mqtt && { mqtt: `${mqtt.topic}\u0000${mqtt.payload}` }) };
      if (channel === 'station') {
        const to = this.deps.stations.connected(step.recipients.length > 0 ? step.recipients : undefined);
        if (to.length > 0) {
          this.result(d, 'delivered', { to });
          continue;
        }
      }
      this.open.set(keyOf(a, channel), d);
      if (d.mqtt !== undefined) this.byMqtt.set(d.mqtt, keyOf(a, channel));
      d.timer = setTimeout(() => this.fail(d, channel === 'station' ? noStation(step) : 'no MQTT subscriber acknowledged it'), this.deps.confirmMs);
      d.timer.unref();
    }
  }

  /** A subscriber acknowledged a message the gateway published (`MqttBroker.onDelivered`). */
  mqttAcknowledged(topic: string, payload: Buffer, account: string): void {
    const key = this.byMqtt.get(`${topic}\u0000${payload.toString('utf8')}`);
    const d = key !== undefined ? this.open.get(key) : undefined;
    if (d) this.confirm(key!, d, { to: [account] });
  }

  /** The webhook sink's outcome for one request (`WebhookSinkOptions.onResult`). */
  webhookResult(alarms: readonly AlarmTransition[], outcome: { ok: true } | { ok: false; reason: string }): void {
    for (const a of alarms) {
      const step = a.escalation;
      if (!step?.channels.includes('webhook')) continue;
      const key = keyOf(a, 'webhook');
      const open = this.open.get(key);
      if (outcome.ok) {
        if (open) this.confirm(key, open, {});
        else if (!this.delivered.has(key)) this.result({ a, step, channel: 'webhook', failed: false }, 'delivered', {});
        this.remember(key);
      } else if (!open) {
        const d: Delivery = { a, step, channel: 'webhook', failed: false };
        this.open.set(key, d);
        this.fail(d, outcome.reason);
      }
    }
  }

  /** Stops the confirmation timers (the gateway is stopping). */
  stop(): void {
    for (const d of this.open.values()) clearTimeout(d.timer);
  }

  private stationOpened(username: string): void {
    for (const [key, d] of this.open) {
      if (d.channel === 'station' && (d.step.recipients.length === 0 || d.step.recipients.includes(username))) this.confirm(key, d, { to: [username] });
    }
  }

  /** A delivery went through: on time, or late after it had failed. */
  private confirm(key: string, d: Delivery, detail: Record<string, unknown>): void {
    clearTimeout(d.timer);
    this.open.delete(key);
    if (d.mqtt !== undefined) this.byMqtt.delete(d.mqtt);
    this.result(d, d.failed ? 'delivered_late' : 'delivered', detail);
  }

  private fail(d: Delivery, reason: string): void {
    if (d.failed) return;
    d.failed = true;
    this.result(d, 'failed', { reason });
    this.deps.logger.warn({ alarm: d.a.id, tier: d.step.tier, channel: d.channel, reason }, `escalation step not delivered ${CHANNEL_WORDS[d.channel]}`);
    this.update(d.channel, d.a.priority, `${d.step.name} for ${where(d.a)} not delivered ${CHANNEL_WORDS[d.channel]}: ${reason}`);
  }

  /** Someone took the alarm (acknowledged) or it ended: its deliveries no longer matter. */
  private settle(alarmId: string): void {
    for (const [key, d] of this.open) {
      if (d.a.id !== alarmId) continue;
      clearTimeout(d.timer);
      this.open.delete(key);
      if (d.mqtt !== undefined) this.byMqtt.delete(d.mqtt);
      if (d.failed) this.update(d.channel, d.a.priority);
    }
  }

  /** Raises or clears the channel's delivery alarm for a priority to match what is failing now. */
  private update(channel: NotifyChannel, priority: AlarmPriority, reason?: string): void {
    if (!this.resumed) {
      // the delivery failures the restored alarm state still shows (from before a restart)
      this.resumed = true;
      for (const a of this.deps.activeAlarms()) {
        const m = CONDITION.exec(a.id);
        if (m && a.conditionActive) this.reported.set(m[1]!, true);
      }
    }
    const condition = `delivery:${channel}:${priority}`;
    const failing = [...this.open.values()].some((d) => d.failed && d.channel === channel && d.a.priority === priority);
    if (failing === (this.reported.get(condition) ?? false)) return;
    this.reported.set(condition, failing);
    this.deps.system(condition, failing, priority, failing ? `Alarm not delivered: ${reason ?? CHANNEL_WORDS[channel]}` : `Escalation steps delivered ${CHANNEL_WORDS[channel]} again`);
  }

  private result(d: Delivery, result: 'delivered' | 'failed' | 'delivered_late', detail: Record<string, unknown>): void {
    this.results.inc({ channel: d.channel, result });
    this.audit(d.a, 'alarm.notify', { tier: d.step.tier, tierName: d.step.name, recipients: d.step.recipients, channel: d.channel, result, ...detail });
    // a success on the channel may end a delivery failure of any priority (one from before a restart)
    if (result !== 'failed') for (const p of ['high', 'medium', 'low'] as const) this.update(d.channel, p);
  }

  private audit(a: AlarmTransition, action: string, detail: Record<string, unknown>): void {
    const entry = { who: 'gateway', role: 'system', action, ...(a.patientId !== undefined && { patientId: a.patientId }), detail: { id: a.id, priority: a.priority, ward: a.ward, bed: a.bed, alarmReason: a.reason, ...detail } };
    this.deps.audit(entry).catch((err: Error) => this.deps.logger.error({ alarm: a.id, action, err: err.message }, 'escalation step could not be written to the audit log'));
  }

  private remember(key: string): void {
    this.delivered.add(key);
    if (this.delivered.size > REMEMBERED) this.delivered.delete(this.delivered.values().next().value!);
  }
}

function keyOf(a: AlarmTransition, channel: NotifyChannel): string {
  return `${a.id}|${a.escalation?.tier ?? 0}|${channel}`;
}

function noStation(step: EscalationStep): string {
  return step.recipients.length > 0 ? `no station of ${step.name} (${step.recipients.join(', ')}) open` : `no station open by anyone who may acknowledge alarms (${step.name} names nobody)`;
}

function where(a: AlarmTransition): string {
  return a.bed !== undefined ? `bed ${a.bed}` : 'the gateway';
}
