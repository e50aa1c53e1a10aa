/**
 * Picks the alarm transitions out of a batch of spool records for the webhook. Other record
 * kinds are not the webhook's business and are passed over, and so are escalation steps whose
 * tier does not page through the webhook; an alarm record that cannot be read is returned as
 * rejected so that it is dead-lettered rather than lost without a trace.
 */
import { reachesChannel, type AlarmTransition } from '../core/types.js';
import type { SpoolEntry } from '../spool/types.js';

/** One alarm transition found in the spool. */
export interface SpooledAlarm {
  /** Spool sequence number of the record. */
  readonly seq: number;
  readonly transition: AlarmTransition;
}

/** A record that may have been an alarm but could not be read. */
export interface RejectedRecord {
  readonly seq: number;
  /** The record as stored (copied out of the spool's read buffer). */
  readonly raw: string;
  readonly reason: string;
}

export interface AlarmScan {
  /** Alarm transitions in spool order. */
  readonly alarms: SpooledAlarm[];
  readonly rejected: RejectedRecord[];
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

/** Splits spool entries into alarm transitions, rejected alarm-like records, and the rest (dropped). */
export function scanForAlarms(entries: readonly SpoolEntry[]): AlarmScan {
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
  return { alarms, rejected };
}
