/**
 * Generic JSON profile for MQTT wearables and cuffs.
 *
 * Topic `vigil/v1/dev/{deviceId}/obs`, payload:
 * `{"ts": <epoch ms or ISO 8601, optional>, "obs": {"hr": 72, "spo2": 97, ...}, "battery": 88, "sensor": "ok"}`
 *
 * A metric given as `null` has no value now: no reading, and the frame's other values stand.
 */
import { DecodeError } from '../../src/core/errors.js';
import { isMetricName, ACVPU_CODES } from '../../src/core/metrics.js';
import type { Decoded, DeviceProfile, Reading } from '../../src/core/profile.js';
import type { Quality, TechnicalKind } from '../../src/core/types.js';
import { parseDeviceTime } from '../../src/core/time.js';

const SENSOR_EVENTS: Record<string, TechnicalKind> = { ok: 'sensor_ok', off: 'sensor_off', poor: 'sensor_poor' };
const KNOWN_KEYS = new Set(['ts', 'obs', 'battery', 'sensor']);

/** Parses `ts` as epoch ms (number) or ISO 8601 (string with a zone), both between 2000 and 2100. */
export function parseTimestamp(ts: unknown): number {
  const ms = parseDeviceTime(ts);
  if (typeof ms === 'number') return ms;
  throw new DecodeError(`ts: ${ms.problem}`, 'bad_timestamp');
}

function readingFor(key: string, value: unknown): Reading {
  if (!isMetricName(key)) throw new DecodeError(`obs.${key}: unknown metric`, 'unknown_metric');
  if (key === 'acvpu' && typeof value === 'string') {
    const code = ACVPU_CODES.indexOf(value as (typeof ACVPU_CODES)[number]);
    if (code < 0) throw new DecodeError(`obs.acvpu: "${value}" is not one of A, C, V, P, U`, 'bad_value');
    return { metric: 'acvpu', value: code };
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new DecodeError(`obs.${key}: value must be a number, got ${JSON.stringify(value)?.slice(0, 40)}`, 'bad_value');
  }
  return { metric: key, value };
}

export const jsonV1Profile: DeviceProfile = {
  name: 'json-v1',
  transport: 'mqtt',
  description: 'Generic JSON over MQTT: {"ts", "obs": {metric: value}, "battery", "sensor"}',
  decode(payload: Buffer): Decoded {
    let doc: unknown;
    try {
      doc = JSON.parse(payload.toString('utf8'));
    } catch (err) {
      throw new DecodeError(`payload is not JSON: ${(err as Error).message}`, 'malformed_json');
    }
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
      throw new DecodeError('payload must be a JSON object', 'malformed_json');
    }
    const o = doc as Record<string, unknown>;
    // for…in, not Object.keys/entries: a parsed document has only its own keys, and this runs for
    // every message
    for (const key in o) {
      if (!KNOWN_KEYS.has(key)) throw new DecodeError(`${key}: unknown key (expected ts, obs, battery, sensor)`, 'unknown_key');
    }
    const readings: Reading[] = [];
    const events: { kind: TechnicalKind; detail?: string }[] = [];
    if (o.obs !== undefined) {
      if (o.obs === null || typeof o.obs !== 'object' || Array.isArray(o.obs)) {
        throw new DecodeError('obs: must be an object of metric: value', 'malformed_json');
      }
      const obs = o.obs as Record<string, unknown>;
      for (const key in obs) {
        const value = obs[key];
        // null: the device has no value for it now (no reading, never zero); the frame's other values stand
        if (value === null) {
          if (!isMetricName(key)) throw new DecodeError(`obs.${key}: unknown metric`, 'unknown_metric');
          continue;
        }
        readings.push(readingFor(key, value));
      }
    }
    if (o.battery !== undefined) readings.push(readingFor('battery', o.battery));
    if (o.sensor !== undefined) {
      const kind = typeof o.sensor === 'string' ? SENSOR_EVENTS[o.sensor] : undefined;
      if (kind === undefined) throw new DecodeError(`sensor: must be "ok", "off" or "poor", got ${JSON.stringify(o.sensor)}`, 'bad_value');
      events.push({ kind });
    }
    if (readings.length === 0 && events.length === 0) {
      throw new DecodeError('payload carries no observations, battery or sensor state', 'empty');
    }
    // While the sensor is off or poor, values are still stored but marked so detectors ignore them.
    const quality: Quality | undefined = o.sensor === 'off' ? 'invalid' : o.sensor === 'poor' ? 'poor' : undefined;
    const out: Reading[] = quality ? readings.map((r) => (r.metric === 'battery' ? r : { ...r, quality })) : readings;
    return o.ts === undefined ? { readings: out, events } : { deviceTs: parseTimestamp(o.ts), readings: out, events };
  },
};
