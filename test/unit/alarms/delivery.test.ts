/**
 * Delivery confirmation of escalation steps, with fake timers: a station of the recipients open
 * (at once or within the confirmation time), an MQTT subscriber's acknowledgement, the webhook's
 * outcome; a failure raising the technical alarm of the undelivered alarm's priority, a late
 * delivery or an acknowledgement clearing it; every step and result audited and counted.
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { DeliveryTracker } from '../../../src/alarms/delivery.js';
import type { ActiveAlarm } from '../../../src/alarms/manager.js';
import type { AlarmTransition, EscalationStep } from '../../../src/core/types.js';
import { StationPresence } from '../../../src/web/presence.js';
import type { Principal } from '../../../src/web/access.js';

const step = (tier: number, recipients: string[], channels: EscalationStep['channels']): EscalationStep => ({ tier, of: 3, name: ['Assigned nurse', 'Buddy nurse', 'Charge nurse'][tier - 1]!, recipients, channels });
const t = (state: AlarmTransition['state'], escalation?: EscalationStep, priority: AlarmTransition['priority'] = 'high'): AlarmTransition => ({
  ts: 0, id: 'P1:limit:spo2:lowHigh:1', kind: 'limit', priority, state, reason: 'SpO2 below 85 %', patientId: 'P1', ward: 'w1', bed: '1', ...(escalation && { escalation }),
});

function harness(active: ActiveAlarm[] = []) {
  const presence = new StationPresence();
  const audit: Array<{ action: string; detail: Record<string, unknown> }> = [];
  const system: Array<[string, boolean, string]> = [];
  const registry = new Registry();
  const tracker = new DeliveryTracker({
    audit: async (e) => void audit.push(e),
    system: (condition, on, priority) => system.push([condition, on, priority]),
    stations: presence,
    activeAlarms: () => active,
    registry,
    logger: pino({ level: 'silent' }),
    confirmMs: 10_000,
  });
  /** `u` opens the station (a live stream of a session of that role). */
  const signIn = (u: string, role: Principal['role'] = 'nurse') => void presence.attach({ username: u, name: u, role, via: 'session' }, new EventEmitter() as unknown as IncomingMessage);
  const results = () => audit.filter((e) => e.action === 'alarm.notify').map((e) => [e.detail.tier, e.detail.channel, e.detail.result, e.detail.to ?? e.detail.reason]);
  const metric = async (channel: string, result: string) => (await registry.getSingleMetric('vigil_alarm_notifications_total')!.get()).values.find((v) => v.labels.channel === channel && v.labels.result === result)?.value ?? 0;
  return { tracker, audit, system, signIn, results, metric };
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('delivery confirmation', () => {
  it('station: delivered at once to a recipient who has it open; audited with the step', async () => {
    const h = harness();
    h.signIn('nurse.jones');
    h.tracker.sent(t('raised', step(1, ['nurse.jones'], ['station'])), undefined);
    expect(h.audit[0]).toMatchObject({ action: 'alarm.step', detail: { id: 'P1:limit:spo2:lowHigh:1', tier: 1, tierName: 'Assigned nurse', recipients: ['nurse.jones'], channels: ['station'] } });
    expect(h.results()).toEqual([[1, 'station', 'delivered', ['nurse.jones']]]);
    expect(await h.metric('station', 'delivered')).toBe(1);
    expect(h.system).toEqual([]);
  });

  it('station: nobody of the tier opens it in time → a technical alarm of the alarm\'s priority; a recipient opening it late clears it', async () => {
    const h = harness();
    h.signIn('nurse.kim'); // not a recipient
    h.tracker.sent(t('escalated', step(2, ['nurse.patel'], ['station'])), undefined);
    vi.advanceTimersByTime(9_999);
    expect(h.results()).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(h.results()).toEqual([[2, 'station', 'failed', 'no station of Buddy nurse (nurse.patel) open']]);
    expect(h.system).toEqual([['delivery:station:high', true, 'high']]);
    h.signIn('nurse.patel');
    expect(h.results().at(-1)).toEqual([2, 'station', 'delivered_late', ['nurse.patel']]);
    expect(h.system.at(-1)).toEqual(['delivery:station:high', false, 'high']);
    expect(await h.metric('station', 'failed')).toBe(1);
  });

  it('station: a step that names nobody reaches anyone with the station open; opened within the time, it is delivered', () => {
    const h = harness();
    h.tracker.sent(t('raised', step(1, [], ['station']), 'medium'), undefined);
    vi.advanceTimersByTime(3000);
    h.signIn('nurse.kim');
    expect(h.results()).toEqual([[1, 'station', 'delivered', ['nurse.kim']]]);
    vi.advanceTimersByTime(60_000);
    expect(h.system).toEqual([]);
  });

  it('station: an admin\'s open station confirms no step, named or not (admins cannot acknowledge); nobody else opening it, it fails', async () => {
    const h = harness();
    h.signIn('admin1', 'admin');
    h.tracker.sent(t('raised', step(1, [], ['station'])), undefined);
    expect(h.results()).toEqual([]);
    h.tracker.sent({ ...t('escalated', step(2, ['admin1'], ['station'])), id: 'P1:limit:hr:high:1' }, undefined);
    h.signIn('admin1', 'admin'); // a second stream of the admin
    expect(h.results()).toEqual([]);
    vi.advanceTimersByTime(10_000);
    expect(h.results()).toEqual([
      [1, 'station', 'failed', 'no station open by anyone who may acknowledge alarms (Assigned nurse names nobody)'],
      [2, 'station', 'failed', 'no station of Buddy nurse (admin1) open'],
    ]);
    expect(h.system).toEqual([['delivery:station:high', true, 'high']]);
    expect(await h.metric('station', 'delivered')).toBe(0);
    // a charge nurse opening it gets the step that names nobody late
    h.signIn('charge.smith', 'charge');
    expect(h.results().at(-1)).toEqual([1, 'station', 'delivered_late', ['charge.smith']]);
  });

  it('mqtt: a subscriber\'s acknowledgement of that very message confirms it; none in time fails it', () => {
    const h = harness();
    const a = t('escalated', step(2, ['nurse.kim'], ['mqtt']));
    const msg = { topic: 'vigil/v1/alarms/w1/1', payload: JSON.stringify(a) };
    h.tracker.sent(a, msg);
    h.tracker.mqttAcknowledged(msg.topic, Buffer.from('{"other":1}'), 'nurse-call');
    expect(h.results()).toEqual([]);
    h.tracker.mqttAcknowledged(msg.topic, Buffer.from(msg.payload), 'nurse-call');
    expect(h.results()).toEqual([[2, 'mqtt', 'delivered', ['nurse-call']]]);

    const b = { ...t('escalated', step(3, ['charge.smith'], ['mqtt'])), ts: 5 };
    const msgB = { topic: 'vigil/v1/alarms/w1/1', payload: JSON.stringify(b) };
    h.tracker.sent(b, msgB);
    vi.advanceTimersByTime(10_000);
    expect(h.results().at(-1)).toEqual([3, 'mqtt', 'failed', 'no MQTT subscriber acknowledged it']);
    expect(h.system).toEqual([['delivery:mqtt:high', true, 'high']]);
    // a persistent session reconnecting gets it late
    h.tracker.mqttAcknowledged(msgB.topic, Buffer.from(msgB.payload), 'nurse-call');
    expect(h.results().at(-1)).toEqual([3, 'mqtt', 'delivered_late', ['nurse-call']]);
    expect(h.system.at(-1)).toEqual(['delivery:mqtt:high', false, 'high']);
  });

  it('webhook: a failure is reported once however often it is retried; the success after it clears it; a repost is not audited twice', () => {
    const h = harness();
    const a = t('escalated', step(3, ['charge.smith'], ['webhook', 'mqtt']));
    h.tracker.webhookResult([a, t('raised', step(1, [], ['station']))], { ok: false, reason: 'ECONNREFUSED' });
    h.tracker.webhookResult([a], { ok: false, reason: 'ECONNREFUSED' });
    expect(h.results()).toEqual([[3, 'webhook', 'failed', 'ECONNREFUSED']]); // tier 1 does not page through the webhook
    expect(h.system).toEqual([['delivery:webhook:high', true, 'high']]);
    h.tracker.webhookResult([a], { ok: true });
    h.tracker.webhookResult([a], { ok: true });
    expect(h.results()).toEqual([[3, 'webhook', 'failed', 'ECONNREFUSED'], [3, 'webhook', 'delivered_late', undefined]]);
    expect(h.system.at(-1)).toEqual(['delivery:webhook:high', false, 'high']);
  });

  it('acknowledging the alarm settles its failed deliveries and clears the technical alarm', () => {
    const h = harness();
    h.tracker.sent(t('escalated', step(2, ['nurse.patel'], ['station']), 'medium'), undefined);
    vi.advanceTimersByTime(10_000);
    expect(h.system).toEqual([['delivery:station:medium', true, 'medium']]);
    h.tracker.sent(t('acknowledged', undefined, 'medium'), undefined);
    expect(h.system.at(-1)).toEqual(['delivery:station:medium', false, 'medium']);
  });

  it('a delivery failure the restored state still shows is cleared by the next success on that channel', () => {
    const restored = { id: 'device:gateway:system:delivery:webhook:high:1', conditionActive: true } as ActiveAlarm;
    const h = harness([restored]);
    h.tracker.webhookResult([t('escalated', step(2, ['nurse.kim'], ['webhook']))], { ok: true });
    expect(h.system).toEqual([['delivery:webhook:high', false, 'high']]);
  });
});
