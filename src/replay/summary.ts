/**
 * The `vigil replay --summary` table: alarms per patient-day by kind and priority, and time in
 * alarm (any alarm shown, from `raised` to `resolved`) per patient.
 */
import type { AlarmKind, AlarmPriority } from '../core/types.js';
import type { PipelineInput, PipelineOutput } from '../alarms/pipeline.js';
import { inputTs } from '../alarms/pipeline.js';

const DAY_MS = 86_400_000;

interface PatientStats {
  first: number;
  last: number;
  /** `${kind}\t${priority}` → alarms raised */
  counts: Map<string, number>;
  active: Set<string>;
  alarmSince: number;
  alarmMs: number;
}

/** Row of the per-kind table. */
export interface SummaryRow {
  readonly patient: string;
  readonly kind: AlarmKind;
  readonly priority: AlarmPriority;
  readonly alarms: number;
  /** alarms per patient-day; null when the recording spans no time for the patient */
  readonly perPatientDay: number | null;
}

/** Row of the time-in-alarm table. */
export interface TimeRow {
  readonly patient: string;
  /** ms the patient was observed, first to last line */
  readonly observedMs: number;
  /** ms with at least one alarm shown */
  readonly inAlarmMs: number;
}

export class ReplaySummary {
  private readonly patients = new Map<string, PatientStats>();
  private end = Number.NEGATIVE_INFINITY;

  /** Every input, for the span each patient was observed. */
  addInput(i: PipelineInput): void {
    const ts = inputTs(i);
    if (ts > this.end) this.end = ts;
    const pid = i.type === 'obs' ? i.obs.patientId : i.type === 'reading' ? i.obs[0]?.patientId : i.type === 'tech' ? i.event.patientId : i.type === 'settings' ? i.event.patientId : i.type === 'census' ? i.patientId : undefined;
    if (pid !== undefined) {
      const p = this.patient(pid, ts);
      if (ts > p.last) p.last = ts;
    }
  }

  /** Every output. */
  addOutput(o: PipelineOutput): void {
    if (o.type !== 'alarm') return;
    const a = o.alarm;
    const p = this.patient(a.patientId ?? `device:${a.deviceId ?? '?'}`, a.ts);
    if (a.ts > p.last) p.last = a.ts;
    if (a.state === 'raised' && !p.active.has(a.id)) {
      const k = `${a.kind}\t${a.priority}`;
      p.counts.set(k, (p.counts.get(k) ?? 0) + 1);
      if (p.active.size === 0) p.alarmSince = a.ts;
      p.active.add(a.id);
    } else if (a.state === 'resolved' && p.active.delete(a.id) && p.active.size === 0) {
      p.alarmMs += a.ts - p.alarmSince;
    }
  }

  rows(): { kinds: SummaryRow[]; time: TimeRow[] } {
    const kinds: SummaryRow[] = [];
    const time: TimeRow[] = [];
    for (const [patient, p] of [...this.patients].sort(([a], [b]) => a.localeCompare(b))) {
      const span = p.last - p.first;
      for (const [k, n] of [...p.counts].sort(([a], [b]) => a.localeCompare(b))) {
        const [kind, priority] = k.split('\t') as [AlarmKind, AlarmPriority];
        kinds.push({ patient, kind, priority, alarms: n, perPatientDay: span > 0 ? (n * DAY_MS) / span : null });
      }
      const open = p.active.size > 0 ? Math.max(this.end, p.last) - p.alarmSince : 0;
      time.push({ patient, observedMs: span, inAlarmMs: p.alarmMs + open });
    }
    return { kinds, time };
  }

  /** The two tables as aligned text. */
  render(): string {
    const { kinds, time } = this.rows();
    const t1 = table(
      ['patient', 'kind', 'priority', 'alarms', 'per_patient_day'],
      kinds.map((r) => [r.patient, r.kind, r.priority, String(r.alarms), r.perPatientDay === null ? '-' : r.perPatientDay.toFixed(1)]),
    );
    const t2 = table(
      ['patient', 'observed', 'time_in_alarm', 'pct'],
      time.map((r) => [r.patient, hms(r.observedMs), hms(r.inAlarmMs), r.observedMs > 0 ? `${((100 * r.inAlarmMs) / r.observedMs).toFixed(1)}%` : '-']),
    );
    return `${t1}\n${t2}`;
  }

  private patient(id: string, ts: number): PatientStats {
    let p = this.patients.get(id);
    if (!p) {
      p = { first: ts, last: ts, counts: new Map(), active: new Set(), alarmSince: 0, alarmMs: 0 };
      this.patients.set(id, p);
    }
    return p;
  }
}

function table(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(w[i] ?? 0)).join('  ').trimEnd();
  return [line(head), ...rows.map(line)].join('\n') + '\n';
}

function hms(ms: number): string {
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${h}:${String(m).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}
