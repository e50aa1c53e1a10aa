/**
 * The detectors' time model, in virtual time: deadlines run on the gateway's receive time
 * (`rt`), never on a device's own clock. A device whose clock is ahead, behind, or jumping moves
 * no other patient's deadlines and none of its own; readings sent late from a device's buffer are
 * history and raise nothing.
 */
import { describe, expect, it } from 'vitest';
import { metricInfo, type MetricName } from '../../../src/core/metrics.js';
import type { PipelineInput } from '../../../src/alarms/pipeline.js';
import { at, run, tick, transitions } from './helpers.js';

/** A reading received at `s` (gateway seconds) that its device stamped `skewS` seconds off. */
function stamped(s: number, skewS: number, metric: MetricName, value: number, patient: string, device: string): PipelineInput {
  const rt = at(s);
  const ts = rt + skewS * 1000;
  return { type: 'obs', obs: { ts, ...(ts !== rt && { rt }), deviceId: device, metric, value, unit: metricInfo(metric).unit, quality: 'good', patientId: patient } };
}

/** One reading a second from each of `patients` for `seconds`, on time (no `rt`). */
function steady(seconds: number, patients: string[]): PipelineInput[] {
  return patients.flatMap((p) => Array.from({ length: seconds }, (_, s) => stamped(s, 0, 'spo2', 97, p, `ox-${p}`)));
}

describe('time model', () => {
  it('a reading stamped 55 s ahead moves no one’s deadlines: no signal loss for the others', () => {
    const others = ['P2', 'P3', 'P4'];
    const inputs = [...steady(20, [...others, 'P1']), stamped(10, 55, 'spo2', 97, 'P1', 'ox-P1')];
    const out = run(inputs, { technical: { signalLossSeconds: 5 } });
    expect(transitions(out)).toEqual([]);
    // …where the same reading handled on its own stamp would have fired every other patient's
    const onDeviceTime = inputs.map((i) => (i.type === 'obs' && i.obs.rt !== undefined ? { ...i, obs: { ...i.obs, rt: undefined } } : i));
    const skewed = transitions(run(onDeviceTime, { technical: { signalLossSeconds: 5 } }), (a) => a.id.includes('signal_loss'));
    expect(skewed.filter(([, id]) => others.some((p) => id.startsWith(`${p}:`))).length).toBe(others.length);
  });

  it('a device whose clock jumps back and forth still alarms its own patient after the delay, counted on receive time', () => {
    const skews = [0, 55, -3600, 20, -5, 3600 * 24, 0, -59, 30, 7, -3600, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19];
    const inputs = skews.map((skew, s) => stamped(s, skew, 'spo2', 84, 'P1', 'ox-P1'));
    const t = transitions(run(inputs, {}), (a) => a.kind === 'limit');
    // [limits] SpO2 below its low limits for 15 s (the default delay): raised at receive second 15
    expect(t).toEqual([[15, 'P1:limit:spo2:lowHigh:1', 'raised']]);
  });

  it('readings sent late from a device buffer are history: no alarm, no NEWS2, but the device is alive', () => {
    // an hour of buffered desaturation arrives within one second, 10 min after it happened
    const late = Array.from({ length: 60 }, (_, k) => stamped(600, -600 - 60 + k, 'spo2', 80, 'P1', 'ox-P1'));
    const out = run([...steady(5, ['P1']), ...late, stamped(605, 0, 'spo2', 97, 'P1', 'ox-P1'), tick(620)], { technical: { signalLossSeconds: 30 }, alarms: { escalationSeconds: { medium: 0 } } });
    // the gap 5 s → 600 s is signal loss; the late readings end it (the device is alive: resolved
    // after the 10 s flap hold) and raise nothing else
    expect(transitions(out)).toEqual([
      [34, 'P1:technical:ox-P1:signal_loss:1', 'raised'],
      [610, 'P1:technical:ox-P1:signal_loss:1', 'resolved'],
    ]);
    const scored = out.flatMap((o) => (o.type === 'news2' && o.parts.spo2 ? [o.parts.spo2.value] : []));
    expect(scored.length).toBeGreaterThan(0);
    expect(scored).not.toContain(80);
  });
});
