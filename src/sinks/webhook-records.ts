/**
 * Picks the alarm transitions out of a batch of spool records for the webhook. Other record
 * kinds are not the webhook's business and are passed over, and so are escalation steps whose
 * tier does not page through the webhook; an alarm record that cannot be read is returned as
 * rejected so that it is dead-lettered rather than lost without a trace.
 */
import { reachesChannel, type AlarmTransition } from '../core/types.js';
import type { SpoolEntry } from '../spool/types.js';
import type { Encoded, RejectedRecord } from './destination.js';

/** One alarm transition found in the spool. */
export interface SpooledAlarm {
  /** Spool sequence number of the record. */
  readonly seq: number;
  readonly transition: AlarmTransition;
}

// Every alarm record carries the tag value `"alarm"`; a byte search lets the many observation
// records skip JSON parsing. A record that merely mentions the word is parsed and passed over.
const ALARM_TAG = Buffer.from('"alarm"');

const isTransition = (a: unknown): a is AlarmTransition => {
  const o = a as Partial<Record<keyof AlarmTransition, unknown>> | null;
  return (
    typeof o === 'object' &&
    o !== null &&
    typeof o.id === 'string' &&
    typeof o.state === 'string' &&
    typeof o.ts === 'number' &&
    Number.isFinite(o.ts)
  );
};

/**
 * Splits spool entries into alarm transitions (in spool order), alarm-like records that cannot
 * be read (rejected), and the rest (passed over).
 */
export function scanForAlarms(entries: readonly SpoolEntry[]): Encoded<SpooledAlarm> {
  const alarms: SpooledAlarm[] = [];
  const rejected: RejectedRecord[] = [];
  for (const { seq, payload } of entries) {
    if (!payload.includes(ALARM_TAG)) continue;
    const raw = payload.toString('utf8');
    let record: unknown;
    try {
      record = JSON.parse(raw);
    } catch {
      rejected.push({ seq, raw, reason: 'malformed JSON' });
      continue;
    }
    const r = record as { t?: unknown; a?: unknown } | null;
    if (typeof r !== 'object' || r === null || r.t !== 'alarm') continue;
    if (isTransition(r.a)) {
      if (reachesChannel(r.a, 'webhook')) alarms.push({ seq, transition: r.a });
    }
    else rejected.push({ seq, raw, reason: 'malformed alarm record: needs id, state and ts' });
  }
  return { items: alarms, rejected };
}
