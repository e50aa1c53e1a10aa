/**
 * The pipeline's state survives being saved and loaded: a pipeline restored from a JSON snapshot
 * taken at any point between inputs continues exactly as the one it was taken of. Checked over
 * six simulated patients for six hours with nurses acknowledging and silencing alarms, limits
 * changed and changed back, caregivers assigned and reassigned at a shift change, alarms going
 * through a four-tier escalation policy, and ticks every second, cut and restored at many points.
 */
import { describe, expect, it } from 'vitest';
import type { AlarmTransition, WardAssignment } from '../../../src/core/types.js';
import { parseDetectorConfig, type DetectorConfig } from '../../../src/detectors/config.js';
import { Pipeline, inputTs, type PipelineInput, type PipelineOutput, type PipelineState } from '../../../src/alarms/pipeline.js';
import { SimulatedRecording } from '../../../src/burden/simulated.js';

const SCENARIOS = ['stable', 'sepsis', 'desaturation', 'brady', 'artifact-storm', 'sensor-off'] as const;
const HOURS = 6;

/** Four tiers, the later ones on their own delays, so cuts fall between every pair of tiers. */
const CONFIG: DetectorConfig = parseDetectorConfig({
  alarms: {
    escalation: {
      tiers: [
        { name: 'Assigned nurse', to: ['assigned'], channels: ['station'] },
        { name: 'Buddy nurse', to: ['buddy'], channels: ['station', 'mqtt'] },
        { name: 'Charge nurse', to: ['charge'], channels: ['station', 'mqtt', 'webhook'], afterSeconds: { high: 45, medium: 90, low: 300 } },
        { name: 'Rapid response', to: ['rapid-response'], channels: ['mqtt', 'webhook'], afterSeconds: { high: 60, medium: 120, low: 0 } },
      ],
    },
  },
});

/** Beds B1–B6 of W3 with a nurse and a buddy each, and a charge nurse; `shift` names them apart. */
function shiftAssignment(shift: string): WardAssignment {
  const beds = Object.fromEntries(SCENARIOS.map((_, i) => [`B${i + 1}`, { nurse: `${shift}.nurse${i % 3}`, buddy: `${shift}.nurse${(i + 1) % 3}` }]));
  return { charge: `${shift}.charge`, beds };
}

async function wardInputs(): Promise<{ inputs: PipelineInput[]; start: number }> {
  const rec = new SimulatedRecording({
    durationS: HOURS * 3600,
    intervalS: 10,
    patients: SCENARIOS.map((scenario, i) => ({ patientId: `P${i + 1}`, scenario, seed: 21 + i, ward: 'W3', bed: `B${i + 1}`, startOffsetMs: i * 770 })),
  });
  const data = await rec.all();
  const start = rec.startEpochMs;
  // a clinician lowers P3's SpO2 limit for two hours, then puts it back
  const settings: PipelineInput[] = [
    { type: 'settings', event: { ts: start + 2 * 3600_000, patientId: 'P3', settings: { limits: { spo2: { low: 88 } } } } },
    { type: 'settings', event: { ts: start + 4 * 3600_000, patientId: 'P3', settings: {} } },
  ];
  // the day shift's assignment, and the night shift taking over half way
  settings.push({ type: 'assign', ts: start, ward: 'W3', by: 'day.charge', assignment: shiftAssignment('day') });
  settings.push({ type: 'assign', ts: start + 3 * 3600_000, ward: 'W3', by: 'night.charge', assignment: shiftAssignment('night') });
  const ticks: PipelineInput[] = Array.from({ length: HOURS * 3600 }, (_, s) => ({ type: 'tick', ts: start + s * 1000 + 500 }));
  const inputs = [...data, ...settings, ...ticks].map((i, n) => [i, n] as const).sort(([a, x], [b, y]) => inputTs(a) - inputTs(b) || x - y).map(([i]) => i);
  return { inputs, start };
}

/**
 * Feeds the inputs, and plays nurses: of the alarms raised, one in three is acknowledged 40 s
 * later, one in three silenced for a minute 20 s later, and one in six acknowledged only after
 * 100 s (past its second tier). `cutAt` lists input indexes before
 * which the pipeline is saved to JSON and replaced by one restored from it.
 */
function drive(inputs: readonly PipelineInput[], cutAt: ReadonlySet<number>): { outputs: PipelineOutput[]; final: PipelineState; cutStates: PipelineState[] } {
  const config = CONFIG;
  let pipeline = new Pipeline(config);
  const outputs: PipelineOutput[] = [];
  const actions: PipelineInput[] = [];
  const cutStates: PipelineState[] = [];
  let raised = 0;
  const push = (i: PipelineInput): void => {
    for (const o of pipeline.push(i)) {
      outputs.push(o);
      if (o.type !== 'alarm' || o.alarm.state !== 'raised') continue;
      const a = o.alarm;
      const n = raised++ % 6;
      if (n === 0 || n === 3) actions.push({ type: 'ack', alarmId: a.id, by: 'nurse.kim', ts: a.ts + 40_000 });
      else if (n === 1 || n === 4) actions.push({ type: 'silence', alarmId: a.id, by: 'nurse.lee', ts: a.ts + 20_000, seconds: 60 });
      else if (n === 2) actions.push({ type: 'ack', alarmId: a.id, by: 'nurse.ali', ts: a.ts + 100_000 });
    }
  };
  for (const [k, input] of inputs.entries()) {
    if (cutAt.has(k)) {
      const saved = JSON.parse(JSON.stringify(pipeline.snapshot())) as PipelineState;
      cutStates.push(saved);
      pipeline = Pipeline.restore(config, saved);
    }
    actions.sort((a, b) => inputTs(a) - inputTs(b));
    while (actions.length > 0 && inputTs(actions[0]!) <= inputTs(input)) push(actions.shift()!);
    push(input);
  }
  return { outputs, final: pipeline.snapshot(), cutStates };
}

const alarms = (out: readonly PipelineOutput[]): AlarmTransition[] => out.flatMap((o) => (o.type === 'alarm' ? [o.alarm] : []));

describe('pipeline snapshot and restore', () => {
  it('a restored pipeline continues exactly as the original, wherever it was cut', async () => {
    const { inputs } = await wardInputs();
    const whole = drive(inputs, new Set());
    // 40 cuts spread over the run (a fixed pseudo-random pick, so a failure can be reproduced)
    let x = 12345;
    const cuts = new Set(Array.from({ length: 40 }, () => (x = (x * 1103515245 + 12345) % 2 ** 31) % inputs.length));
    // and right after a few escalation steps, so cuts fall between tiers 2 and 3, and 3 and 4
    for (const tier of [2, 3]) {
      for (const a of alarms(whole.outputs).filter((t) => t.escalation?.tier === tier).slice(0, 4)) cuts.add(inputs.findIndex((i) => inputTs(i) > a.ts));
    }
    const cut = drive(inputs, cuts);

    expect(cut.cutStates).toHaveLength(cuts.size);
    const firstDiff = whole.outputs.findIndex((o, k) => JSON.stringify(o) !== JSON.stringify(cut.outputs[k]));
    expect(firstDiff, `first difference at output ${firstDiff}`).toBe(-1);
    expect(cut.outputs).toEqual(whole.outputs);
    expect(JSON.stringify(cut.final)).toBe(JSON.stringify(whole.final));

    // The run exercised what a snapshot must carry: cuts with alarms shown and deadlines pending,
    // alarms acknowledged, silenced, escalated and latched.
    expect(cut.cutStates.filter((s) => s.manager.alarms.length > 0 && s.clock.deadlines.length > 0).length).toBeGreaterThan(10);
    expect(cut.cutStates.some((s) => s.manager.alarms.some((a) => a.silencedUntil !== undefined))).toBe(true);
    expect(cut.cutStates.some((s) => s.limits.length > 0 && s.news2.length > 0 && s.trend.ewma.length > 0)).toBe(true);
    const states = new Set(alarms(whole.outputs).map((a) => a.state));
    for (const s of ['raised', 'acknowledged', 'escalated', 'cleared', 'resolved']) expect(states).toContain(s);

    // Cuts fell between tiers (an alarm past tier 2 with its next tier pending), with assignments
    // of both shifts held; every tier was reached, naming the caregivers of the shift on duty.
    expect(cut.cutStates.some((s) => s.manager.alarms.some((a) => a.tier >= 2 && a.nextTierAt !== undefined))).toBe(true);
    expect(cut.cutStates.some((s) => s.manager.alarms.some((a) => a.tier === 3 && a.nextTierAt !== undefined))).toBe(true);
    expect(new Set(cut.cutStates.flatMap((s) => (s.assignments ?? []).map(([, a]) => a.charge)))).toEqual(new Set(['day.charge', 'night.charge']));
    const steps = alarms(whole.outputs).flatMap((a) => (a.escalation ? [a.escalation] : []));
    expect(new Set(steps.map((e) => e.tier))).toEqual(new Set([1, 2, 3, 4]));
    const named = new Set(steps.flatMap((e) => e.recipients));
    for (const who of ['day.nurse0', 'day.charge', 'night.nurse1', 'night.charge', 'rapid-response']) expect(named).toContain(who);
  });

  it('saving a restored pipeline gives the snapshot it was restored from', async () => {
    const { inputs } = await wardInputs();
    const p = new Pipeline(CONFIG);
    for (const i of inputs.slice(0, Math.floor(inputs.length / 2))) p.push(i);
    const saved = JSON.parse(JSON.stringify(p.snapshot())) as PipelineState;
    expect(saved.assignments).toHaveLength(1);
    expect(JSON.parse(JSON.stringify(Pipeline.restore(CONFIG, saved).snapshot()))).toEqual(saved);
  });

  it('refuses a snapshot of another version, naming both', () => {
    const saved = { ...new Pipeline(CONFIG).snapshot(), version: 99 } as unknown as PipelineState;
    expect(() => Pipeline.restore(CONFIG, saved)).toThrow(/version 99; this build reads version 1/);
  });
});
