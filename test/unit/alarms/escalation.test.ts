/**
 * Escalation tiers in virtual time: each tier at its delay with the recipients the caregiver
 * assignment names, acknowledgement stopping it, audio paused holding it, per-ward policies, and
 * the pipeline's assignment input.
 */
import { describe, expect, it } from 'vitest';
import { parseDetectorConfig } from '../../../src/detectors/config.js';
import { Pipeline, type PipelineInput } from '../../../src/alarms/pipeline.js';
import { resolveRecipients } from '../../../src/alarms/escalation.js';
import { ConfigError } from '../../../src/core/errors.js';
import { validateConfig } from '../../../src/config/load.js';
import type { WardAssignment } from '../../../src/core/types.js';
import { T0, ack, alarmsOf, at, byTime, obs, tick } from '../detectors/helpers.js';

const FOUR_TIERS = {
  escalationSeconds: { high: 60, medium: 180, low: 0 },
  escalation: {
    tiers: [
      { name: 'Assigned nurse', to: ['assigned'], channels: ['station'] },
      { name: 'Buddy nurse', to: ['buddy'], channels: ['station', 'mqtt'] },
      { name: 'Charge nurse', to: ['charge'], channels: ['station', 'mqtt', 'webhook'], afterSeconds: { high: 30 } },
      { name: 'Rapid response', to: ['rapid-response'], channels: ['mqtt', 'webhook'], afterSeconds: { high: 60, medium: 0 } },
    ],
    wards: { icu: { tiers: [{ name: 'ICU nurse', to: ['assigned', 'charge'], channels: ['station'] }] } },
  },
};

const W1: WardAssignment = { charge: 'charge.smith', beds: { '1': { nurse: 'nurse.jones', buddy: 'nurse.kim' }, '2': { nurse: 'nurse.kim' } } };
const assign = (s: number, ward: string, assignment: WardAssignment, by = 'charge.smith'): PipelineInput => ({ type: 'assign', ts: at(s), ward, by, assignment });
/** A patient admitted to a bed, then an SpO2 of 80 (high priority) from `from` on, raised at once (no delay). */
function desat(patient: string, ward: string, bed: string, from: number, to = from + 1): PipelineInput[] {
  const out: PipelineInput[] = [{ type: 'census', ts: at(0), patientId: patient, patient: { ward, bed, settings: {} } }];
  for (let s = from; s <= to; s++) out.push(obs(s, 'spo2', 80, { patient, device: `ox-${patient}` }));
  return out;
}
const config = (alarms: object = FOUR_TIERS) => parseDetectorConfig({ limits: { spo2: { delaySeconds: 0 } }, technical: { signalLossSeconds: 3600 }, news2: { bandPriority: { 'low-medium': null, medium: null, high: null } }, alarms });

function drive(inputs: PipelineInput[], until: number, cfg = config()) {
  const p = new Pipeline(cfg);
  const out = byTime([...inputs, tick(until)]).flatMap((i) => p.push(i));
  const steps = alarmsOf(out)
    .filter((a) => a.kind === 'limit' && a.escalation)
    .map((a) => [(a.ts - T0) / 1000, a.state, a.escalation!.tier, a.escalation!.name, a.escalation!.recipients, a.escalation!.channels] as const);
  return { p, out, steps };
}

describe('escalation tiers', () => {
  it('reaches each tier at its delay with the recipients the assignment names', () => {
    const { steps, p } = drive([assign(0, 'w1', W1), ...desat('P1', 'w1', '1', 10)], 400);
    expect(steps).toEqual([
      [10, 'raised', 1, 'Assigned nurse', ['nurse.jones'], ['station']],
      [70, 'escalated', 2, 'Buddy nurse', ['nurse.kim'], ['station', 'mqtt']], // escalationSeconds.high
      [100, 'escalated', 3, 'Charge nurse', ['charge.smith'], ['station', 'mqtt', 'webhook']], // its own 30 s
      [160, 'escalated', 4, 'Rapid response', ['rapid-response'], ['mqtt', 'webhook']],
    ]);
    const [a] = p.activeAlarms({ patientId: 'P1' });
    expect(a).toMatchObject({ tier: 4, tiers: 4, tierName: 'Rapid response', notified: ['nurse.jones', 'nurse.kim', 'charge.smith', 'rapid-response'], escalated: true });
    expect(a?.escalatesAt).toBeUndefined();
  });

  it('says when the next tier is due while nobody has acknowledged', () => {
    const { p } = drive([assign(0, 'w1', W1), ...desat('P1', 'w1', '1', 10)], 20);
    expect(p.activeAlarms({ patientId: 'P1' })[0]).toMatchObject({ tier: 1, tierName: 'Assigned nurse', escalatesAt: at(70) });
  });

  it('acknowledging at tier 2 stops tier 3 and every later one', () => {
    const { steps, p } = drive([assign(0, 'w1', W1), ...desat('P1', 'w1', '1', 10), ack(80, 'P1:limit:spo2:lowHigh:1', 'nurse.kim')], 1000);
    expect(steps.map((s) => s[2])).toEqual([1, 2]);
    const a = p.activeAlarms({ patientId: 'P1' })[0];
    expect(a).toMatchObject({ acknowledged: true, tier: 2 });
    expect(a?.escalatesAt).toBeUndefined();
  });

  it('audio paused holds the next tier until the pause ends; the tiers after keep their delays', () => {
    const pause: PipelineInput = { type: 'silence', alarmId: 'P1:limit:spo2:lowHigh:1', by: 'nurse.jones', ts: at(20), seconds: 120 };
    const { steps } = drive([assign(0, 'w1', W1), ...desat('P1', 'w1', '1', 10), pause], 400);
    expect(steps.map((s) => [s[0], s[2]])).toEqual([
      [10, 1],
      [140, 2], // due at 70, held until the pause ended at 140
      [170, 3],
      [230, 4],
    ]);
  });

  it('a priority whose delay is 0 stops at the tier before', () => {
    // SpO2 88: medium priority (low 90); tier 4 has medium: 0
    const inputs: PipelineInput[] = [assign(0, 'w1', W1), { type: 'census', ts: at(0), patientId: 'P2', patient: { ward: 'w1', bed: '2', settings: {} } }, obs(10, 'spo2', 88, { patient: 'P2', device: 'ox2' })];
    const { steps } = drive(inputs, 3000);
    expect(steps.map((s) => [s[0], s[2], s[4]])).toEqual([
      [10, 1, ['nurse.kim']],
      [190, 2, []], // bed 2 has no buddy: nobody named, so every station is reached
      [370, 3, ['charge.smith']],
    ]);
  });

  it('a ward with its own policy uses it; a bed nobody is assigned to names nobody', () => {
    const icu: WardAssignment = { charge: 'charge.lee', beds: {} };
    const { steps } = drive([assign(0, 'icu', icu), ...desat('P3', 'icu', '7', 10)], 400);
    expect(steps).toEqual([[10, 'raised', 1, 'ICU nurse', ['charge.lee'], ['station']]]);
  });

  it('each step names whoever is assigned when it is taken', () => {
    const relieved: WardAssignment = { ...W1, beds: { '1': { nurse: 'nurse.jones', buddy: 'nurse.patel' } } };
    const { steps } = drive([assign(0, 'w1', W1), ...desat('P1', 'w1', '1', 10), assign(40, 'w1', relieved)], 80);
    expect(steps.map((s) => s[4])).toEqual([['nurse.jones'], ['nurse.patel']]);
  });

  it('the default policy: the assigned nurse, then buddy and charge nurse on every channel after escalationSeconds', () => {
    const { steps } = drive([assign(0, 'w1', W1), ...desat('P1', 'w1', '1', 10)], 400, config({}));
    expect(steps).toEqual([
      [10, 'raised', 1, 'Assigned nurse', ['nurse.jones'], ['station']],
      [70, 'escalated', 2, 'Buddy and charge nurse', ['nurse.kim', 'charge.smith'], ['station', 'mqtt', 'webhook']],
    ]);
  });

  it('the gateway\'s own alarms (no ward) name the charge nurse of every ward', () => {
    expect(resolveRecipients(['assigned', 'charge', 'it-on-call'], {}, new Map([['w1', W1], ['w2', { charge: 'charge.lee', beds: {} }]]))).toEqual(['charge.smith', 'charge.lee', 'it-on-call']);
    expect(resolveRecipients(['assigned', 'buddy', 'assigned'], { ward: 'w1', bed: '1' }, new Map([['w1', W1]]))).toEqual(['nurse.jones', 'nurse.kim']);
  });
});

describe('escalation settings', () => {
  it('names the setting that is wrong', () => {
    const bad = (alarms: object): string[] => {
      try {
        parseDetectorConfig({ alarms });
      } catch (err) {
        return (err as ConfigError).issues ?? [];
      }
      return [];
    };
    expect(bad({ escalation: { tiers: [{ name: 'A', to: ['assigned'], afterSeconds: 10 }] } })).toEqual(['detectors.alarms.escalation.tiers.0.afterSeconds: the first tier is reached when the alarm is raised: no delay']);
    expect(bad({ escalation: { tiers: [{ name: 'A', to: ['assigned'], channels: ['pager'] }] } })[0]).toMatch(/^detectors\.alarms\.escalation\.tiers\.0\.channels\.0: /);
    expect(bad({ escalation: { tiers: [] } })[0]).toMatch(/^detectors\.alarms\.escalation\.tiers: /);
    expect(bad({ escalation: { wards: { w1: { tiers: [{ name: 'A', to: [] }] } } } })[0]).toMatch(/^detectors\.alarms\.escalation\.wards\.w1\.tiers\.0\.to: /);
  });

  it('a policy for a ward the census does not have is refused, naming it and the wards there are', () => {
    const policy = { tiers: [{ name: 'Nurse', to: ['assigned'] }] };
    expect(() => validateConfig({ census: { wards: [{ id: 'w1', beds: ['1'] }] }, detectors: { alarms: { escalation: { wards: { w1: policy } } } } })).not.toThrow();
    let err: ConfigError | undefined;
    try {
      validateConfig({ census: { wards: [{ id: 'w1', beds: ['1'] }] }, detectors: { alarms: { escalation: { wards: { w9: policy } } } } });
    } catch (e) {
      err = e as ConfigError;
    }
    expect(err?.issues).toEqual(['detectors.alarms.escalation.wards.w9: unknown ward "w9" (census.wards has: w1)']);
  });
});
