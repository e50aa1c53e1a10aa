/**
 * Escalation policies, pure: which tiers a ward's alarms go through, when each is reached, and
 * whom a tier names for a bed given the shift's caregiver assignment.
 *
 * [IEC 60601-1-8] an alarm nobody acknowledges escalates; a distributed alarm system passes it
 * on to the next person. A tier's `to` list names roles that the assignment resolves
 * (`assigned`, `buddy`, `charge`) and fixed recipients passed on as written (a pager group).
 */
import type { AlarmPriority, EscalationStep, Placement, WardAssignment } from '../core/types.js';
import { DEFAULT_ESCALATION_TIERS, type EscalationTier } from '../detectors/config.js';

/** The escalation settings the alarm manager needs (`detectors.alarms`). */
export interface EscalationSettings {
  /** s from one tier to the next, per priority; 0 switches escalation off for that priority. */
  readonly escalationSeconds: Readonly<Record<AlarmPriority, number>>;
  /** Tiers of the default policy, and per-ward policies by ward id. */
  readonly escalation?: { readonly tiers: readonly EscalationTier[]; readonly wards: Readonly<Record<string, { readonly tiers: readonly EscalationTier[] }>> };
}

/** Recipient names that the caregiver assignment resolves. */
export const ASSIGNED = 'assigned';
export const BUDDY = 'buddy';
export const CHARGE = 'charge';

/** The tiers alarms of `ward` go through: the ward's own policy, or the default one. */
export function policyFor(s: EscalationSettings, ward: string | undefined): readonly EscalationTier[] {
  const e = s.escalation;
  if (!e) return DEFAULT_ESCALATION_TIERS;
  return (ward !== undefined ? e.wards[ward]?.tiers : undefined) ?? e.tiers;
}

/**
 * ms from the tier before to `tier` for an alarm of `priority`, or undefined when alarms of that
 * priority do not reach it (a delay of 0).
 */
export function tierDelayMs(s: EscalationSettings, tier: EscalationTier, priority: AlarmPriority): number | undefined {
  const own = tier.afterSeconds;
  const sec = (typeof own === 'number' ? own : own?.[priority]) ?? s.escalationSeconds[priority];
  return sec > 0 ? sec * 1000 : undefined;
}

/**
 * Who a tier's `to` list names for an alarm at `place`: the bed's assigned and buddy nurses and
 * the ward's charge nurse from the assignment (nobody where nobody is assigned), fixed names as
 * written. An alarm with no ward (the gateway's own) reaches the charge nurse of every ward.
 * Each name once, in the order given.
 */
export function resolveRecipients(to: readonly string[], place: Placement, assignments: ReadonlyMap<string, WardAssignment>): string[] {
  const out = new Set<string>();
  const ward = place.ward !== undefined ? assignments.get(place.ward) : undefined;
  const bed = ward && place.bed !== undefined ? ward.beds[place.bed] : undefined;
  for (const r of to) {
    if (r === ASSIGNED) add(out, bed?.nurse);
    else if (r === BUDDY) add(out, bed?.buddy);
    else if (r === CHARGE) {
      if (place.ward !== undefined) add(out, ward?.charge);
      else for (const w of assignments.values()) add(out, w.charge);
    } else out.add(r);
  }
  return [...out];
}

/** The step that reaching `tier` (1-based) of `policy` takes. */
export function stepOf(policy: readonly EscalationTier[], tier: number, recipients: readonly string[]): EscalationStep {
  const t = policy[tier - 1]!;
  return { tier, of: policy.length, name: t.name, recipients: [...recipients], channels: [...t.channels] };
}

function add(set: Set<string>, name: string | undefined): void {
  if (name !== undefined && name !== '') set.add(name);
}
