/**
 * Generic JSON wearable over MQTT (profile `json-v1`), and an NIBP cuff speaking the same profile.
 * Wearable: `{"ts":…,"obs":{"hr":72,"spo2":97,"rr":14,"temp":36.7},"battery":88,"sensor":"ok"}`.
 * Cuff: `{"ts":…,"obs":{"sbp":128,"dbp":82,"map":97}}`.
 */
import type { VitalSample } from '../physiology.js';
import { corruptJson } from './garbage.js';
import type { EncodeContext, Encoder } from './types.js';

/** MQTT topic a device publishes its observations on. */
export function obsTopic(deviceId: string): string {
  return `vigil/v1/dev/${deviceId}/obs`;
}

/** The wearable payload object for a sample. */
export function wearablePayload(s: VitalSample, epochMs: number): Record<string, unknown> {
  // With the sensor off nothing it measures is valid, so nothing is sent as a reading. The rate
  // comes from the optical sensor (a pulse rate), so motion disturbs it as it does SpO2.
  const obs =
    s.sensor === 'off'
      ? {}
      : { hr: Math.round(s.pr), spo2: Math.round(s.spo2), rr: Math.round(s.rr), temp: Math.round(s.temp * 10) / 10 };
  return { ts: epochMs, obs, battery: Math.round(s.battery), sensor: s.sensor };
}

/** The cuff payload object for a measurement. */
export function cuffPayload(s: VitalSample, epochMs: number): Record<string, unknown> {
  return { ts: epochMs, obs: { sbp: Math.round(s.sbp), dbp: Math.round(s.dbp), map: Math.round(s.map) } };
}

export interface JsonWearableOptions {
  /** Seconds between publishes (device time). Default 5. */
  readonly intervalS?: number;
}

export function createJsonWearableEncoder(options: JsonWearableOptions = {}): Encoder {
  return {
    profile: 'json-v1',
    transport: 'mqtt',
    periodS: options.intervalS ?? 5,
    offsetS: 0,
    encode: (s: VitalSample, ctx: EncodeContext) => [Buffer.from(JSON.stringify(wearablePayload(s, ctx.epochMs)))],
    corrupt: corruptJson,
  };
}

export interface JsonCuffOptions {
  /** Seconds between cuff measurements. Default 300 (ward NIBP cycles are 5–60 min). */
  readonly intervalS?: number;
  /** Device seconds of the first measurement. Default 30. */
  readonly firstS?: number;
}

export function createJsonCuffEncoder(options: JsonCuffOptions = {}): Encoder {
  return {
    profile: 'json-v1',
    transport: 'mqtt',
    periodS: options.intervalS ?? 300,
    offsetS: options.firstS ?? 30,
    encode: (s: VitalSample, ctx: EncodeContext) => [Buffer.from(JSON.stringify(cuffPayload(s, ctx.epochMs)))],
    corrupt: corruptJson,
  };
}
