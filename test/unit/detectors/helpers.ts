/** Builders for pipeline inputs in virtual time: `s` is seconds after T0. */
import { metricInfo, type MetricName } from '../../../src/core/metrics.js';
import type { AlarmTransition, PatientSettings, Quality, TechnicalKind } from '../../../src/core/types.js';
import { defaultDetectorConfig, parseDetectorConfig, type DetectorConfig } from '../../../src/detectors/config.js';
import { Pipeline, inputTs, type PipelineInput, type PipelineOutput } from '../../../src/alarms/pipeline.js';

export const T0 = Date.parse('2026-03-02T08:00:00Z');
export const at = (s: number): number => T0 + s * 1000;

export function obs(
  s: number,
  metric: MetricName,
  value: number,
  o: { patient?: string | null; device?: string; quality?: Quality } = {},
): PipelineInput {
  const patientId = o.patient === undefined ? 'P1' : o.patient;
  return {
    type: 'obs',
    obs: {
      ts: at(s),
      deviceId: o.device ?? 'ox1',
      metric,
      value,
      unit: metricInfo(metric).unit,
      quality: o.quality ?? 'good',
      ...(patientId !== null && { patientId }),
    },
  };
}

export function tech(s: number, kind: TechnicalKind, o: { patient?: string; device?: string } = {}): PipelineInput {
  return { type: 'tech', event: { ts: at(s), deviceId: o.device ?? 'ox1', kind, patientId: o.patient ?? 'P1' } };
}

export function settings(s: number, st: PatientSettings, patient = 'P1'): PipelineInput {
  return { type: 'settings', event: { ts: at(s), patientId: patient, settings: st } };
}

export const tick = (s: number): PipelineInput => ({ type: 'tick', ts: at(s) });
export const ack = (s: number, alarmId: string, by = 'nurse.kim'): PipelineInput => ({ type: 'ack', alarmId, by, ts: at(s) });

/** A series of one metric, one value a second from `from` for `count` seconds. */
export function series(from: number, metric: MetricName, values: number | readonly number[], count?: number, o: Parameters<typeof obs>[3] = {}): PipelineInput[] {
  const n = typeof values === 'number' ? (count ?? 1) : values.length;
  return Array.from({ length: n }, (_, i) => obs(from + i, metric, typeof values === 'number' ? values : values[i]!, o));
}

/** Inputs in time order (stable), the way a recording or a live feed delivers them. */
export function byTime(inputs: readonly PipelineInput[]): PipelineInput[] {
  return inputs.map((i, n) => [i, n] as const).sort(([a, x], [b, y]) => inputTs(a) - inputTs(b) || x - y).map(([i]) => i);
}

/** Runs inputs, in time order, through a fresh pipeline; returns every output. */
export function run(inputs: readonly PipelineInput[], config: DetectorConfig | object = {}, pipeline?: Pipeline): PipelineOutput[] {
  const cfg = 'limits' in config && 'alarms' in config ? (config as DetectorConfig) : parseDetectorConfig(config);
  const p = pipeline ?? new Pipeline(cfg);
  return byTime(inputs).flatMap((i) => p.push(i));
}

/** Alarm transitions only, as `[seconds after T0, id, state]` for compact assertions. */
export function transitions(out: readonly PipelineOutput[], filter: (a: AlarmTransition) => boolean = () => true): [number, string, string][] {
  return out
    .filter((o): o is { type: 'alarm'; alarm: AlarmTransition } => o.type === 'alarm')
    .map((o) => o.alarm)
    .filter(filter)
    .map((a) => [(a.ts - T0) / 1000, a.id, a.state]);
}

export const alarmsOf = (out: readonly PipelineOutput[]): AlarmTransition[] =>
  out.filter((o): o is { type: 'alarm'; alarm: AlarmTransition } => o.type === 'alarm').map((o) => o.alarm);

export { defaultDetectorConfig };
