/**
 * The inverse of reader.ts: pipeline inputs as recording lines, so a live feed (or the spool) can
 * be saved and replayed with `vigil replay`. Ticks are not recorded: replay needs none.
 */
import { ACVPU_CODES } from '../core/metrics.js';
import type { SpoolRecord } from '../core/types.js';
import { inputsOf, type PipelineInput } from '../alarms/pipeline.js';

/**
 * One input as a recording line (no newline), `ts` in ISO 8601.
 * @returns null for inputs a recording does not hold (ticks, gateway conditions)
 */
export function formatInput(i: PipelineInput): string | null {
  switch (i.type) {
    case 'obs': {
      const o = i.obs;
      return JSON.stringify({
        ts: iso(o.ts),
        ...(o.patientId !== undefined && { patient: o.patientId }),
        ...(o.ward !== undefined && { ward: o.ward }),
        ...(o.bed !== undefined && { bed: o.bed }),
        metric: o.metric,
        value: o.metric === 'acvpu' ? (ACVPU_CODES[o.value] ?? o.value) : o.value,
        device: o.deviceId,
        ...(o.quality !== 'good' && { quality: o.quality }),
        ...(o.rt !== undefined && { rt: iso(o.rt) }),
      });
    }
    case 'tech': {
      const e = i.event;
      return JSON.stringify({
        ts: iso(e.ts),
        ...(e.patientId !== undefined && { patient: e.patientId }),
        ...(e.ward !== undefined && { ward: e.ward }),
        ...(e.bed !== undefined && { bed: e.bed }),
        device: e.deviceId,
        event: e.kind,
        ...(e.detail !== undefined && { detail: e.detail }),
        ...(e.rt !== undefined && { rt: iso(e.rt) }),
      });
    }
    case 'settings':
      return JSON.stringify({ ts: iso(i.event.ts), patient: i.event.patientId, settings: i.event.settings });
    case 'census':
      return JSON.stringify({ ts: iso(i.ts), patient: i.patientId, census: i.patient ?? null });
    case 'ack':
      return JSON.stringify({ ts: iso(i.ts), ack: i.alarmId, by: i.by });
    case 'silence':
      return JSON.stringify({ ts: iso(i.ts), silence: i.alarmId, by: i.by, seconds: i.seconds });
    case 'assign':
      return JSON.stringify({ ts: iso(i.ts), assign: i.ward, by: i.by, assignment: i.assignment });
    case 'tick':
    case 'system':
      // Conditions of the gateway itself are not patient data: a recording does not hold them.
      return null;
  }
}

/** The pipeline inputs a spool record feeds (none for an alarm record: an output, not an input). */
export const inputsFromSpool: (r: SpoolRecord) => PipelineInput[] = inputsOf;

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
