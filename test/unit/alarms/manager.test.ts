import { describe, expect, it } from 'vitest';
import { AlarmManager, type AlarmManagerOptions } from '../../../src/alarms/manager.js';
import type { AlarmCondition } from '../../../src/detectors/context.js';
import type { AlarmTransition } from '../../../src/core/types.js';
import { VirtualClock } from '../../../src/detectors/clock.js';

const S = 1000;
const OPTS: AlarmManagerOptions = { escalationSeconds: { high: 60, medium: 180, low: 0 }, latching: ['high'], flapHoldSeconds: 10 };
const desat: AlarmCondition = { name: 'limit:spo2:low', kind: 'limit', priority: 'medium', metric: 'spo2', patientId: 'P1', bed: '3', deviceId: 'ox1' };
const brady: AlarmCondition = { name: 'limit:hr:lowHigh', kind: 'limit', priority: 'high', metric: 'hr', patientId: 'P2', bed: '4' };

function setup(opts: AlarmManagerOptions = OPTS) {
  const log: AlarmTransition[] = [];
  const clock = new VirtualClock((key, at) => m.due(key, at));
  const m = new AlarmManager(clock, opts, (t) => log.push(t));
  const steps = (): [number, string, string, string?][] => log.map((t) => [t.ts / S, t.id, t.state, ...(t.by ? [t.by] : [])] as [number, string, string, string?]);
  return { clock, m, log, steps };
}

describe('AlarmManager.restate', () => {
  it('restates a calling alarm in its state, same id, no step; an acknowledged one takes the reason quietly; a clearing one nothing', () => {
    const { m, clock, log } = setup();
    m.raise(desat, 0, 'SpO2 below 90 %', 87);
    clock.advanceTo(5 * S);
    m.restate(desat, 5 * S, 'SpO2 below 92 % (limit changed from 90; lowest 87)', 86);
    expect(log.slice(1)).toEqual([expect.objectContaining({ ts: 5 * S, id: 'P1:limit:spo2:low:1', state: 'raised', reason: 'SpO2 below 92 % (limit changed from 90; lowest 87)', value: 86 })]);
    expect(log[1]!.escalation).toBeUndefined();
    m.acknowledge('P1:limit:spo2:low:1', 'kim', 6 * S);
    const n = log.length;
    m.restate(desat, 7 * S, 'SpO2 below 93 % (limit changed from 92; lowest 86)');
    expect(log).toHaveLength(n);
    expect(m.activeAlarms().find((a) => a.id === 'P1:limit:spo2:low:1')?.reason).toBe('SpO2 below 93 % (limit changed from 92; lowest 86)');
    m.clear(desat, 8 * S, 'back at or above 93 %'); // in its flap hold: no transition yet
    m.restate(desat, 9 * S, 'anything');
    m.restate(brady, 9 * S, 'no such alarm');
    expect(log).toHaveLength(n);
    expect(m.activeAlarms().find((a) => a.id === 'P1:limit:spo2:low:1')?.reason).toBe('SpO2 below 93 % (limit changed from 92; lowest 86)');
  });
});

describe('AlarmManager lifecycle', () => {
  it('raises once for a condition reported many times (duplicates suppressed)', () => {
    const { m, clock, steps } = setup();
    for (let s = 0; s < 5; s++) {
      clock.advanceTo(s * S);
      m.raise(desat, s * S, 'SpO2 low', 87);
    }
    expect(steps()).toEqual([[0, 'P1:limit:spo2:low:1', 'raised']]);
  });

  it('every transition carries a reason and the alarm details', () => {
    const { m, log } = setup();
    m.raise(desat, 0, 'SpO2 below 90 % for 15 s', 87);
    expect(log[0]).toEqual({
      ts: 0,
      id: 'P1:limit:spo2:low:1',
      kind: 'limit',
      priority: 'medium',
      state: 'raised',
      reason: 'SpO2 below 90 % for 15 s',
      patientId: 'P1',
      bed: '3',
      metric: 'spo2',
      deviceId: 'ox1',
      value: 87,
      escalation: { tier: 1, of: 2, name: 'Assigned nurse', recipients: [], channels: ['station'] },
    });
  });

  it('resolves a non-latching alarm after the flap hold; a return within the hold continues it', () => {
    const { m, clock, steps } = setup();
    m.raise(desat, 0, 'low', 87);
    clock.advanceTo(20 * S);
    m.clear(desat, 20 * S, 'recovered');
    clock.advanceTo(25 * S);
    m.raise(desat, 25 * S, 'low again', 88); // within 10 s: same alarm, nothing new
    clock.advanceTo(40 * S);
    m.clear(desat, 40 * S, 'recovered');
    clock.advanceTo(49 * S);
    expect(steps()).toEqual([[0, 'P1:limit:spo2:low:1', 'raised']]);
    clock.advanceTo(50 * S);
    expect(steps()).toEqual([
      [0, 'P1:limit:spo2:low:1', 'raised'],
      [50, 'P1:limit:spo2:low:1', 'resolved'],
    ]);
    clock.advanceTo(100 * S);
    m.raise(desat, 100 * S, 'low', 86); // after the hold: a new alarm
    expect(steps().at(-1)).toEqual([100, 'P1:limit:spo2:low:2', 'raised']);
  });

  it('with no flap hold, resolves as soon as the condition ends', () => {
    const { m, steps } = setup({ ...OPTS, flapHoldSeconds: 0 });
    m.raise(desat, 0, 'low');
    m.clear(desat, 5 * S, 'ok');
    expect(steps()).toEqual([
      [0, 'P1:limit:spo2:low:1', 'raised'],
      [5, 'P1:limit:spo2:low:1', 'resolved'],
    ]);
  });

  it('a high-priority alarm latches: cleared, shown until acknowledged, then resolved', () => {
    const { m, clock, steps } = setup();
    m.raise(brady, 0, 'HR below 40');
    clock.advanceTo(30 * S);
    m.clear(brady, 30 * S, 'HR back above 45');
    clock.advanceTo(45 * S);
    expect(m.activeAlarms().map((a) => [a.id, a.state, a.conditionActive, a.latching])).toEqual([['P2:limit:hr:lowHigh:1', 'cleared', false, true]]);
    expect(m.acknowledge('P2:limit:hr:lowHigh:1', 'nurse.ali', 45 * S)).toBe(true);
    expect(steps()).toEqual([
      [0, 'P2:limit:hr:lowHigh:1', 'raised'],
      [30, 'P2:limit:hr:lowHigh:1', 'cleared'],
      [45, 'P2:limit:hr:lowHigh:1', 'acknowledged', 'nurse.ali'],
      [45, 'P2:limit:hr:lowHigh:1', 'resolved', 'nurse.ali'],
    ]);
    expect(m.activeAlarms()).toEqual([]);
  });

  it('a latched alarm whose condition returns before acknowledgement is raised again, same id', () => {
    const { m, clock, steps } = setup();
    m.raise(brady, 0, 'HR below 40');
    m.clear(brady, 10 * S, 'ok');
    clock.advanceTo(20 * S);
    m.raise(brady, 20 * S, 'HR below 40');
    expect(steps().map((s) => s[2])).toEqual(['raised', 'cleared', 'raised']);
    expect(new Set(steps().map((s) => s[1])).size).toBe(1);
  });

  it('an unacknowledged alarm escalates once, after its priority\'s time', () => {
    const { m, clock, steps, log } = setup();
    m.raise(brady, 0, 'HR below 40');
    clock.advanceTo(59 * S);
    expect(steps()).toHaveLength(1);
    clock.advanceTo(600 * S);
    expect(steps()).toEqual([
      [0, 'P2:limit:hr:lowHigh:1', 'raised'],
      [60, 'P2:limit:hr:lowHigh:1', 'escalated'],
    ]);
    expect(log[1]!.reason).toBe('not acknowledged within 60 s: Buddy and charge nurse');
    expect(log[1]!.escalation).toEqual({ tier: 2, of: 2, name: 'Buddy and charge nurse', recipients: [], channels: ['station', 'mqtt', 'webhook'] });
  });

  it('acknowledging stops escalation; the alarm resolves when its condition ends', () => {
    const { m, clock, steps } = setup();
    m.raise(desat, 0, 'low');
    clock.advanceTo(30 * S);
    m.acknowledge('P1:limit:spo2:low:1', 'nurse.kim', 30 * S);
    clock.advanceTo(400 * S);
    m.clear(desat, 400 * S, 'ok');
    clock.advanceTo(500 * S);
    expect(steps()).toEqual([
      [0, 'P1:limit:spo2:low:1', 'raised'],
      [30, 'P1:limit:spo2:low:1', 'acknowledged', 'nurse.kim'],
      [410, 'P1:limit:spo2:low:1', 'resolved'],
    ]);
  });

  it('silence holds escalation back until the silence ends', () => {
    const { m, clock, steps, log } = setup();
    m.raise(brady, 0, 'HR below 40');
    clock.advanceTo(10 * S);
    expect(m.silence('P2:limit:hr:lowHigh:1', 'nurse.ali', 10 * S, 120)).toBe(true);
    expect(m.activeAlarms()[0]).toMatchObject({ silencedUntil: 130 * S, silencedBy: 'nurse.ali' });
    clock.advanceTo(129 * S);
    expect(steps()).toHaveLength(1);
    clock.advanceTo(200 * S);
    expect(steps().at(-1)).toEqual([130, 'P2:limit:hr:lowHigh:1', 'escalated']);
    expect(log).toHaveLength(2);
  });

  it('refuses unknown and repeated acknowledgements', () => {
    const { m } = setup();
    m.raise(desat, 0, 'low');
    expect(m.acknowledge('nope', 'x', 1)).toBe(false);
    expect(m.acknowledge('P1:limit:spo2:low:1', 'x', 1)).toBe(true);
    expect(m.acknowledge('P1:limit:spo2:low:1', 'y', 2)).toBe(false);
    expect(m.silence('nope', 'x', 1, 60)).toBe(false);
  });

  it('lists active alarms per patient and per bed', () => {
    const { m } = setup();
    m.raise(desat, 0, 'low');
    m.raise(brady, 1, 'brady');
    expect(m.activeAlarms().map((a) => a.id)).toEqual(['P1:limit:spo2:low:1', 'P2:limit:hr:lowHigh:1']);
    expect(m.activeAlarms({ patientId: 'P2' }).map((a) => a.id)).toEqual(['P2:limit:hr:lowHigh:1']);
    expect(m.activeAlarms({ bed: '3' }).map((a) => a.id)).toEqual(['P1:limit:spo2:low:1']);
  });

  it('a clear for a condition that is not alarming does nothing', () => {
    const { m, log } = setup();
    m.clear(desat, 0, 'ok');
    expect(log).toEqual([]);
  });

  it('a latched alarm that escalated and whose condition returns is raised again', () => {
    const { m, clock, steps } = setup();
    m.raise(brady, 0, 'HR below 40');
    clock.advanceTo(10 * S);
    m.clear(brady, 10 * S, 'ok');
    clock.advanceTo(90 * S); // escalates at 60 while latched
    m.raise(brady, 90 * S, 'HR below 40');
    expect(steps().map((x) => [x[0], x[2]])).toEqual([
      [0, 'raised'],
      [10, 'cleared'],
      [60, 'escalated'],
      [90, 'raised'],
    ]);
  });

  it('a suppressed alarm is held with no transition, however long, and continues silently', () => {
    const { m, clock, steps } = setup();
    m.raise(desat, 0, 'low', 87);
    m.suppress(desat, 5 * S, 'suppressed: sensor off on ox1');
    clock.advanceTo(120 * S); // far past the flap hold
    expect(m.activeAlarms()).toEqual([expect.objectContaining({ id: 'P1:limit:spo2:low:1', conditionActive: false, suppressed: 'suppressed: sensor off on ox1' })]);
    m.raise(desat, 120 * S, 'still low after the sensor recovered', 87);
    expect(m.activeAlarms()[0]).toMatchObject({ conditionActive: true });
    expect(m.activeAlarms()[0]?.suppressed).toBeUndefined();
    expect(steps().filter((x) => x[2] !== 'escalated')).toEqual([[0, 'P1:limit:spo2:low:1', 'raised']]);
  });

  it('a suppressed latching alarm neither latches nor sounds again; a clear then ends it the usual way', () => {
    const { m, clock, steps } = setup();
    m.raise(brady, 0, 'HR below 40');
    m.suppress(brady, 5 * S, 'suppressed: poor signal on ecg1');
    clock.advanceTo(30 * S);
    m.raise(brady, 30 * S, 'HR below 40');
    m.suppress(brady, 40 * S, 'suppressed: poor signal on ecg1');
    m.clear(brady, 50 * S, 'HR back at or above 45');
    expect(steps().filter((x) => x[2] !== 'escalated').map((x) => [x[0], x[2]])).toEqual([
      [0, 'raised'],
      [50, 'cleared'], // [IEC 60601-1-8] latched until acknowledged
    ]);
  });

  it('acknowledging a suppressed alarm keeps it (its condition is unknown, not over) until the sensor says more', () => {
    const { m, clock, steps } = setup();
    m.raise(desat, 0, 'low', 87);
    m.suppress(desat, 5 * S, 'suppressed: sensor off on ox1');
    clock.advanceTo(20 * S);
    m.acknowledge('P1:limit:spo2:low:1', 'nurse.kim', 20 * S);
    m.raise(desat, 60 * S, 'still low', 87); // the sensor is back and the breach persists
    expect(m.activeAlarms()[0]).toMatchObject({ acknowledged: true, conditionActive: true });
    m.clear(desat, 80 * S, 'recovered');
    clock.advanceTo(90 * S);
    expect(steps()).toEqual([
      [0, 'P1:limit:spo2:low:1', 'raised'],
      [20, 'P1:limit:spo2:low:1', 'acknowledged', 'nurse.kim'],
      [90, 'P1:limit:spo2:low:1', 'resolved'],
    ]);
  });

  it('isShown: true while an alarm is up, latched or in its flap hold', () => {
    const { m, clock } = setup();
    expect(m.isShown(desat)).toBe(false);
    m.raise(desat, 0, 'low');
    m.clear(desat, 5 * S, 'ok');
    expect(m.isShown(desat)).toBe(true); // flap hold
    clock.advanceTo(15 * S);
    expect(m.isShown(desat)).toBe(false);
  });

  it('numberAbove: every new alarm is numbered above it, for conditions it has counted and not; kept in its snapshot', () => {
    const { m, steps } = setup({ ...OPTS, flapHoldSeconds: 0 });
    m.raise(desat, 0, 'low');
    m.clear(desat, 1 * S, 'ok');
    m.numberAbove(40);
    m.numberAbove(7); // never lowered
    m.raise(desat, 2 * S, 'low again');
    m.raise(brady, 2 * S, 'slow');
    expect(steps().map(([, id, state]) => `${id} ${state}`)).toEqual(['P1:limit:spo2:low:1 raised', 'P1:limit:spo2:low:1 resolved', 'P1:limit:spo2:low:41 raised', 'P2:limit:hr:lowHigh:41 raised']);

    const again = setup();
    again.m.restore(JSON.parse(JSON.stringify(m.snapshot())));
    again.m.clear(desat, 3 * S, 'ok');
    again.clock.advanceTo(20 * S);
    again.m.raise(desat, 20 * S, 'low a third time');
    again.m.raise({ ...desat, patientId: 'P9' }, 20 * S, 'another patient');
    expect(again.steps().filter((x) => x[2] === 'raised').map((x) => x[1])).toEqual(['P1:limit:spo2:low:42', 'P9:limit:spo2:low:41']);
  });
});
