/**
 * The alarm manager: the one lifecycle every alarm follows, and the single place alarms go out.
 *
 * Detectors report conditions (`raise` when one starts, `clear` when it ends); people
 * `acknowledge` and `silence`. The manager turns these into `AlarmTransition`s:
 *
 *   raised ─► escalated? ─► acknowledged? ─► resolved
 *      └───────► cleared (latched: condition over, awaiting acknowledgement) ─► acknowledged ─► resolved
 *
 * - `raised`: a new alarm, or a latched alarm whose condition came back.
 * - `escalated`: nobody acknowledged it in time, so it went on to the next tier of its ward's
 *   escalation policy (escalation.ts): once per tier, each tier's delay after the one before.
 * - `acknowledged`: a person took it (`by` says who).
 * - `cleared`: [IEC 60601-1-8] latching — the condition ended but the alarm stays shown until
 *   acknowledged.
 * - `resolved`: the alarm is over and leaves the active list.
 *
 * Duplicates: a condition that is already alarming raises nothing new. Flapping: a condition
 * that returns within `flapHoldSeconds` of ending continues the same alarm.
 *
 * Suppression: a detector whose sensor can no longer confirm a condition (sensor off or poor,
 * the technical alarm shown instead) `suppress`es its alarm. The alarm is held as it is, with no
 * transition, until the sensor tells again: `raise` continues the same alarm silently (the
 * condition outlasted the gap), `clear` ends it the usual way (latched or after the flap hold).
 *
 * Escalation: `raised` reaches tier 1 of the ward's policy (the bed's assigned nurse, by default),
 * and carries that step (`escalation`: tier, recipients, channels); each `escalated` carries the
 * next one. Acknowledging stops it; audio paused (`silence`) holds it until the pause ends.
 * Recipients are resolved from the caregiver assignment when each step is taken.
 *
 * Ids: `<condition>:<n>` (e.g. `P4:limit:spo2:lowHigh:1`), n counting the condition's alarms
 * from 1; the counters are part of the saved state. An id is never given to a second alarm: when
 * the counters are lost with the state, `numberAbove` makes every new number larger than any
 * used before (live.ts passes the spool's last seq).
 *
 * Time is the virtual clock's; the manager never reads a wall clock.
 */
import type { AlarmKind, AlarmPriority, AlarmState, AlarmTransition, EscalationStep, MetricName, Placement } from '../core/types.js';
import type { VirtualClock } from '../detectors/clock.js';
import type { AlarmCondition, ConditionSink } from '../detectors/context.js';
import type { EscalationTier } from '../detectors/config.js';
import { policyFor, resolveRecipients, stepOf, tierDelayMs, type EscalationSettings } from './escalation.js';

export interface AlarmManagerOptions extends EscalationSettings {
  /** Priorities whose alarms latch until acknowledged. */
  readonly latching: readonly AlarmPriority[];
  /** s */
  readonly flapHoldSeconds: number;
}

/** One alarm as the nurse station shows it. */
export interface ActiveAlarm extends Placement {
  readonly id: string;
  readonly kind: AlarmKind;
  readonly priority: AlarmPriority;
  readonly metric?: MetricName;
  readonly deviceId?: string;
  /** The last transition's state. */
  readonly state: AlarmState;
  /** The last transition's reason. */
  readonly reason: string;
  readonly value?: number;
  /** epoch ms */
  readonly raisedAt: number;
  /** epoch ms of the last transition */
  readonly since: number;
  /** The condition is still present (false: latched, or waiting out the flap hold). */
  readonly conditionActive: boolean;
  readonly acknowledged: boolean;
  readonly acknowledgedBy?: string;
  readonly escalated: boolean;
  /** Tier of the escalation policy reached (1 when raised). */
  readonly tier: number;
  /** Tiers in the ward's policy. */
  readonly tiers: number;
  /** Name of the tier reached. */
  readonly tierName: string;
  /** Everyone the alarm has reached so far, tier by tier (empty: nobody assigned, every station). */
  readonly notified: readonly string[];
  /** epoch ms when the next tier is reached unless someone acknowledges first */
  readonly escalatesAt?: number;
  readonly latching: boolean;
  /** epoch ms until which audio is paused, when silenced */
  readonly silencedUntil?: number;
  readonly silencedBy?: string;
  /** Held because its sensor cannot currently confirm the condition (why, e.g. `sensor off on ox1`). */
  readonly suppressed?: string;
}

/** One alarm as the manager keeps it. */
export interface AlarmRecord {
  id: string;
  scopeKey: string;
  cond: AlarmCondition;
  state: AlarmState;
  reason: string;
  value?: number;
  raisedAt: number;
  since: number;
  conditionActive: boolean;
  acknowledged: boolean;
  acknowledgedBy?: string;
  escalated: boolean;
  /** tier of the escalation policy reached, 1-based */
  tier: number;
  /** recipients of every tier reached so far */
  notified: string[];
  /** epoch ms the next tier is due, while one is */
  nextTierAt?: number;
  latching: boolean;
  /** latched: the condition ended before anyone acknowledged */
  latched: boolean;
  silencedUntil?: number;
  silencedBy?: string;
  /** held by `suppress` (its reason) until the sensor confirms or ends the condition */
  suppressed?: string;
  /** why the condition ended, for the resolution once the flap hold runs out */
  holdReason?: string;
}

type Rec = AlarmRecord;

/** Everything the manager holds, as plain JSON data (see `snapshot`). */
export interface AlarmManagerState {
  readonly alarms: readonly AlarmRecord[];
  readonly counters: ReadonlyArray<readonly [string, number]>;
  /** Every alarm's number is above this (`numberAbove`); absent: 0. */
  readonly floor?: number;
}

/** Deadline keys the manager owns (`VirtualClock` routes them to `due`). */
export const ALARM_DEADLINE_PREFIX = 'alarm-';

export class AlarmManager implements ConditionSink {
  private readonly byKey = new Map<string, Rec>();
  private readonly byId = new Map<string, Rec>();
  private readonly counters = new Map<string, number>();
  /** Every new alarm's number is above this (set after the numbers used before were lost). */
  private floor = 0;

  /**
   * @param recipients whom a tier's `to` list names for an alarm now (the caregiver assignment);
   *   by default only the fixed names
   */
  constructor(
    private readonly clock: VirtualClock,
    private readonly opts: AlarmManagerOptions,
    private readonly emit: (t: AlarmTransition) => void,
    private readonly recipients: (to: readonly string[], where: Placement) => string[] = (to, where) => resolveRecipients(to, where, new Map()),
  ) {}

  /** A condition started (or is still present: duplicates are absorbed). */
  raise(cond: AlarmCondition, ts: number, reason: string, value?: number): void {
    const key = scopeKey(cond);
    const rec = this.byKey.get(key);
    if (rec) {
      if (rec.conditionActive) return; // duplicate
      rec.conditionActive = true;
      delete rec.suppressed; // the sensor confirms it again: the same alarm continues
      delete rec.holdReason;
      this.clock.cancel(`alarm-hold|${rec.id}`);
      if (rec.latched) {
        rec.latched = false;
        if (value !== undefined) rec.value = value;
        this.transition(rec, 'raised', ts, `${reason} (returned before acknowledgement)`);
      }
      return; // within the flap hold: the same alarm simply continues
    }
    const n = Math.max(this.counters.get(key) ?? 0, this.floor) + 1;
    this.counters.set(key, n);
    const created: Rec = {
      id: `${key}:${n}`,
      scopeKey: key,
      cond,
      state: 'raised',
      reason,
      raisedAt: ts,
      since: ts,
      conditionActive: true,
      acknowledged: false,
      escalated: false,
      tier: 1,
      notified: [],
      latching: this.opts.latching.includes(cond.priority),
      latched: false,
    };
    if (value !== undefined) created.value = value;
    this.byKey.set(key, created);
    this.byId.set(created.id, created);
    this.transition(created, 'raised', ts, reason, undefined, this.step(created));
    this.armEscalation(created, ts);
  }

  /**
   * The alarm shown for `cond` goes on for a new reason (its limit was changed). An alarm still
   * calling for someone (raised or escalated) restates its reason and value as a transition in
   * that state, with no escalation step and no new annunciation; an acknowledged one takes the
   * new reason where it is read (the alarm list) without a transition, which would read as a
   * second acknowledgement. Nothing when no alarm is shown, or it is clearing.
   */
  restate(cond: AlarmCondition, ts: number, reason: string, value?: number): void {
    const rec = this.byKey.get(scopeKey(cond));
    if (!rec || !rec.conditionActive) return;
    if (value !== undefined) rec.value = value;
    if (rec.state === 'raised' || rec.state === 'escalated') this.transition(rec, rec.state, ts, reason);
    else rec.reason = reason;
  }

  /** The condition ended. */
  clear(cond: AlarmCondition, ts: number, reason: string): void {
    const rec = this.byKey.get(scopeKey(cond));
    if (!rec || (!rec.conditionActive && rec.suppressed === undefined)) return;
    rec.conditionActive = false;
    delete rec.suppressed;
    if (rec.latching && !rec.acknowledged) {
      // [IEC 60601-1-8] latching: stays until acknowledged
      rec.latched = true;
      this.transition(rec, 'cleared', ts, `${reason}; latched until acknowledged`);
      return;
    }
    const hold = this.opts.flapHoldSeconds * 1000;
    if (hold <= 0) {
      this.finish(rec, ts, reason);
      return;
    }
    rec.holdReason = reason;
    this.clock.set(`alarm-hold|${rec.id}`, ts + hold);
  }

  /**
   * The condition's sensor went off or poor: the alarm is held as it is (no transition, no flap
   * hold running) until `raise` (continues it) or `clear` (ends it). [IEC 60601-1-8] the technical
   * alarm is what is annunciated meanwhile.
   */
  suppress(cond: AlarmCondition, ts: number, reason: string): void {
    const rec = this.byKey.get(scopeKey(cond));
    if (!rec || !rec.conditionActive) return;
    rec.conditionActive = false;
    rec.suppressed = reason;
  }

  /** True while the condition has an alarm shown (active, latched, held or in its flap hold). */
  isShown(cond: AlarmCondition): boolean {
    return this.byKey.has(scopeKey(cond));
  }

  /**
   * A person acknowledged an alarm. An alarm whose condition has already ended is then resolved.
   * @returns false when the id is unknown or already acknowledged
   */
  acknowledge(alarmId: string, by: string, ts: number): boolean {
    const rec = this.byId.get(alarmId);
    if (!rec || rec.acknowledged) return false;
    rec.acknowledged = true;
    rec.acknowledgedBy = by;
    this.clock.cancel(`alarm-esc|${rec.id}`);
    delete rec.nextTierAt;
    this.transition(rec, 'acknowledged', ts, `acknowledged by ${by}`, by);
    // a held (suppressed) alarm's condition is unknown, not over: it stays, acknowledged
    if (!rec.conditionActive && rec.suppressed === undefined) {
      this.clock.cancel(`alarm-hold|${rec.id}`);
      this.finish(rec, ts, 'acknowledged after the condition ended', by);
    }
    return true;
  }

  /**
   * Pauses an alarm's audio for `seconds` and holds back its escalation until then. Not a state
   * change: the alarm stays shown, and the snapshot says who silenced it and until when.
   * @returns false when the id is unknown
   */
  silence(alarmId: string, by: string, ts: number, seconds: number): boolean {
    const rec = this.byId.get(alarmId);
    if (!rec) return false;
    rec.silencedUntil = ts + seconds * 1000;
    rec.silencedBy = by;
    return true;
  }

  /** A patient moved: their alarms now say where they are (the next transition carries it). */
  relocate(patientId: string, placement: { ward: string; bed: string }): void {
    for (const r of this.byId.values()) if (r.cond.patientId === patientId) r.cond = { ...r.cond, ward: placement.ward, bed: placement.bed };
  }

  /** Ends every alarm of a patient at once (discharged), whatever its state. */
  endPatient(patientId: string, ts: number, reason: string): void {
    for (const r of [...this.byId.values()]) {
      if (r.cond.patientId !== patientId) continue;
      this.clock.cancel(`alarm-hold|${r.id}`);
      this.finish(r, ts, reason);
    }
  }

  /** Snapshot of the alarms currently shown, oldest first; optionally for one patient or bed. */
  activeAlarms(filter: { patientId?: string; bed?: string } = {}): ActiveAlarm[] {
    const out: ActiveAlarm[] = [];
    for (const r of this.byId.values()) {
      if (filter.patientId !== undefined && r.cond.patientId !== filter.patientId) continue;
      if (filter.bed !== undefined && r.cond.bed !== filter.bed) continue;
      out.push(snapshot(r, policyFor(this.opts, r.cond.ward)));
    }
    return out;
  }

  /** A deadline of the manager's fell due (`alarm-esc|ID`, `alarm-hold|ID`). */
  due(key: string, at: number): void {
    const bar = key.indexOf('|');
    const rec = this.byId.get(key.slice(bar + 1));
    if (!rec) return;
    if (key.startsWith('alarm-hold|')) this.finish(rec, at, rec.holdReason ?? 'condition ended');
    else if (key.startsWith('alarm-esc|')) this.escalate(rec, at);
  }

  /**
   * From now on every new alarm's number is above `n`, for every condition. Ids are
   * `<condition>:<number>`, numbered from 1 per condition by counters kept in the saved state;
   * when that state is lost, the caller passes a number no alarm can have had before, so no id
   * already sent downstream is given again.
   */
  numberAbove(n: number): void {
    this.floor = Math.max(this.floor, n);
  }

  /** The manager's whole state as JSON data; `restore` on a fresh manager brings it back. */
  snapshot(): AlarmManagerState {
    return { alarms: [...this.byId.values()].map((r) => structuredClone(r)), counters: [...this.counters], ...(this.floor > 0 && { floor: this.floor }) };
  }

  restore(s: AlarmManagerState): void {
    this.byKey.clear();
    this.byId.clear();
    this.counters.clear();
    for (const r of s.alarms) {
      const rec = structuredClone(r);
      // a state saved before escalation tiers: every alarm was at its first
      const old = rec as Partial<Rec>;
      old.tier ??= 1;
      old.notified ??= [];
      this.byKey.set(rec.scopeKey, rec);
      this.byId.set(rec.id, rec);
    }
    for (const [k, n] of s.counters) this.counters.set(k, n);
    this.floor = s.floor ?? 0;
  }

  /** Arms the next tier, if the ward's policy has one this alarm's priority reaches. */
  private armEscalation(rec: Rec, ts: number): void {
    delete rec.nextTierAt;
    const next = policyFor(this.opts, rec.cond.ward)[rec.tier];
    const ms = next && tierDelayMs(this.opts, next, rec.cond.priority);
    if (ms === undefined) return;
    this.setEscalation(rec, ts + ms);
  }

  private setEscalation(rec: Rec, at: number): void {
    rec.nextTierAt = at;
    this.clock.set(`alarm-esc|${rec.id}`, at);
  }

  /** The step reaching the alarm's current tier: whom it names now, added to those told before. */
  private step(rec: Rec): EscalationStep {
    const policy = policyFor(this.opts, rec.cond.ward);
    const tier = Math.min(rec.tier, policy.length);
    const recipients = this.recipients(policy[tier - 1]!.to, rec.cond);
    for (const r of recipients) if (!rec.notified.includes(r)) rec.notified.push(r);
    return stepOf(policy, tier, recipients);
  }

  private escalate(rec: Rec, at: number): void {
    if (rec.acknowledged) return;
    if (rec.silencedUntil !== undefined && rec.silencedUntil > at) {
      // [IEC 60601-1-8] audio paused: the escalation waits for the pause to end
      this.setEscalation(rec, rec.silencedUntil);
      return;
    }
    if (policyFor(this.opts, rec.cond.ward).length <= rec.tier) {
      delete rec.nextTierAt; // moved to a ward whose policy has fewer tiers
      return;
    }
    rec.escalated = true;
    rec.tier++;
    // [IEC 60601-1-8] an alarm nobody acknowledges escalates
    const step = this.step(rec);
    this.transition(rec, 'escalated', at, `not acknowledged within ${Math.round((at - rec.raisedAt) / 1000)} s: ${step.name}`, undefined, step);
    this.armEscalation(rec, at);
  }

  private finish(rec: Rec, ts: number, reason: string, by?: string): void {
    this.clock.cancel(`alarm-esc|${rec.id}`);
    this.byKey.delete(rec.scopeKey);
    this.byId.delete(rec.id);
    this.transition(rec, 'resolved', ts, reason, by);
  }

  private transition(rec: Rec, state: AlarmState, ts: number, reason: string, by?: string, escalation?: EscalationStep): void {
    rec.state = state;
    rec.reason = reason;
    rec.since = ts;
    const c = rec.cond;
    const t: { -readonly [K in keyof AlarmTransition]: AlarmTransition[K] } = {
      ts,
      id: rec.id,
      kind: c.kind,
      priority: c.priority,
      state,
      reason,
    };
    if (c.patientId !== undefined) t.patientId = c.patientId;
    if (c.ward !== undefined) t.ward = c.ward;
    if (c.bed !== undefined) t.bed = c.bed;
    if (c.metric !== undefined) t.metric = c.metric;
    if (c.deviceId !== undefined) t.deviceId = c.deviceId;
    if (by !== undefined) t.by = by;
    if (rec.value !== undefined) t.value = rec.value;
    if (escalation !== undefined) t.escalation = escalation;
    this.emit(t);
  }
}

function scopeKey(c: AlarmCondition): string {
  return `${c.patientId ?? `device:${c.deviceId ?? '?'}`}:${c.name}`;
}

function snapshot(r: Rec, policy: readonly EscalationTier[]): ActiveAlarm {
  const c = r.cond;
  return {
    id: r.id,
    kind: c.kind,
    priority: c.priority,
    ...(c.metric !== undefined && { metric: c.metric }),
    ...(c.deviceId !== undefined && { deviceId: c.deviceId }),
    ...(c.patientId !== undefined && { patientId: c.patientId }),
    ...(c.ward !== undefined && { ward: c.ward }),
    ...(c.bed !== undefined && { bed: c.bed }),
    state: r.state,
    reason: r.reason,
    ...(r.value !== undefined && { value: r.value }),
    raisedAt: r.raisedAt,
    since: r.since,
    conditionActive: r.conditionActive,
    acknowledged: r.acknowledged,
    ...(r.acknowledgedBy !== undefined && { acknowledgedBy: r.acknowledgedBy }),
    escalated: r.escalated,
    tier: r.tier,
    tiers: policy.length,
    tierName: policy[Math.min(r.tier, policy.length) - 1]?.name ?? '',
    notified: [...r.notified],
    ...(r.nextTierAt !== undefined && !r.acknowledged && { escalatesAt: r.nextTierAt }),
    latching: r.latching,
    ...(r.silencedUntil !== undefined && { silencedUntil: r.silencedUntil }),
    ...(r.silencedBy !== undefined && { silencedBy: r.silencedBy }),
    ...(r.suppressed !== undefined && { suppressed: r.suppressed }),
  };
}
