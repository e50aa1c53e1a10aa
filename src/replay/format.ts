/** Pipeline outputs as the JSON lines `vigil replay` prints. Times are ISO 8601 (UTC). */
import { ACVPU_CODES } from '../core/metrics.js';
import type { PipelineOutput } from '../alarms/pipeline.js';

/** One output as a plain object with a fixed key order. */
export function outputRecord(o: PipelineOutput): Record<string, unknown> {
  if (o.type === 'news2') {
    const parts: Record<string, { value: number | string; points: number }> = {};
    for (const [k, p] of Object.entries(o.parts)) {
      parts[k] = k === 'acvpu' ? { value: ACVPU_CODES[p.value] ?? p.value, points: p.points } : { value: p.value, points: p.points };
    }
    return {
      ts: iso(o.ts),
      patient: o.patientId,
      type: 'news2',
      score: o.score,
      band: o.band,
      complete: o.complete,
      missing: o.missing,
      spo2Scale: o.spo2Scale,
      parts,
    };
  }
  const a = o.alarm;
  const r: Record<string, unknown> = {
    ts: iso(a.ts),
    patient: a.patientId ?? null,
    type: 'alarm',
    id: a.id,
    kind: a.kind,
    metric: a.metric ?? null,
    priority: a.priority,
    state: a.state,
    reason: a.reason,
  };
  if (a.deviceId !== undefined) r.device = a.deviceId;
  if (a.value !== undefined) r.value = a.value;
  if (a.by !== undefined) r.by = a.by;
  return r;
}

/** One output as a JSON line (without the newline). */
export function formatOutput(o: PipelineOutput): string {
  return JSON.stringify(outputRecord(o));
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
