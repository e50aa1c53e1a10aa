/**
 * The inverse of reader.ts: pipeline inputs as recording lines, so a live feed (or the spool) can
 * be saved and replayed with `vigil replay`. Ticks are not recorded: replay needs none.
 */
import { ACVPU_CODES } from '../core/metrics.js';
import type { Observation, SpoolRecord } from '../core/types.js';
import { inputsOf, type PipelineInput } from '../alarms/pipeline.js';

/**
 * One input as a recording line (no newline), `ts` in ISO 8601.
 * @returns null for inputs a recording does not hold (ticks, gateway conditions)
 */
export function formatInput(i: PipelineInput): string | null {
  switch (i.type) {
    case 'obs':
      return observationLine(i.obs);
    case 'reading':
      return readingLine(i.obs);
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

function observationLine(o: Observation): string {
  return JSON.stringify({
    ts: iso(o.ts),
    ...placementOf(o),
    metric: o.metric,
    value: recorded(o),
    device: o.deviceId,
    ...(o.quality !== 'good' && { quality: o.quality }),
    ...(o.rt !== undefined && { rt: iso(o.rt) }),
  });
}

/** A reading's values on one line (one value: an observation line); its time, place and device are its first value's. */
function readingLine(obs: readonly Observation[]): string | null {
  const o = obs[0];
  if (o === undefined) return null;
  if (obs.length === 1) return observationLine(o);
  const values: Record<string, number | string> = {};
  let quality: Record<string, string> | undefined;
  for (const x of obs) {
    values[x.metric] = recorded(x);
    if (x.quality !== 'good') (quality ??= {})[x.metric] = x.quality;
  }
  return JSON.stringify({
    ts: iso(o.ts),
    ...placementOf(o),
    values,
    device: o.deviceId,
    ...(quality && { quality }),
    ...(o.rt !== undefined && { rt: iso(o.rt) }),
  });
}

function placementOf(o: Observation): { patient?: string; ward?: string; bed?: string } {
  return {
    ...(o.patientId !== undefined && { patient: o.patientId }),
    ...(o.ward !== undefined && { ward: o.ward }),
    ...(o.bed !== undefined && { bed: o.bed }),
  };
}

/** A value as a recording holds it: ACVPU as its letter. */
const recorded = (o: Observation): number | string => (o.metric === 'acvpu' ? (ACVPU_CODES[o.value] ?? o.value) : o.value);

/** The pipeline inputs a spool record feeds (none for an alarm record: an output, not an input). */
export const inputsFromSpool: (r: SpoolRecord) => PipelineInput[] = inputsOf;

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
