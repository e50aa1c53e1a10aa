/**
 * Alarm burden: Vigil against a naive threshold on simulated patients, a day each. The claims
 * tested are the ones docs/alarm-burden.md makes, on the figures it shows.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { PatientModel } from '../../../firmware-sim/physiology.js';
import { loadScenario } from '../../../firmware-sim/scenario.js';
import { burdenCommand } from '../../../src/cli/burden.js';
import { UsageError } from '../../../src/cli/args.js';
import { defaultDetectorConfig, parseDetectorConfig } from '../../../src/detectors/config.js';
import { BURDEN_SCENARIOS, alarmBurden, type ScenarioBurden } from '../../../src/burden/burden.js';
import { renderBurden } from '../../../src/burden/burden-report.js';
import { NaiveThreshold } from '../../../src/burden/naive.js';
import { at, obs, settings } from '../detectors/helpers.js';

const config = defaultDetectorConfig();
const HOURS = 24;
const SEED = 1;
const INTERVAL_S = 5;

describe('naive threshold', () => {
  it('raises a new alarm each time a value crosses a limit: no delay, no hysteresis, any quality', () => {
    const n = new NaiveThreshold(config);
    const low = config.limits.spo2.low!;
    const values = [low + 5, low - 1, low, low - 1, low + 0.5, low - 3, low + 5];
    values.forEach((v, s) => n.push(obs(s, 'spo2', v, { quality: s === 5 ? 'poor' : 'good' })));
    // crossings at 1 s, 3 s and 5 s (a poor-quality value counts too); the limit itself is inside
    expect(n.alarms.map((a) => [a.raisedAt, a.endAt, a.level, a.priority])).toEqual([
      [at(1), at(2), 'low', 'medium'],
      [at(3), at(4), 'low', 'medium'],
      [at(5), at(6), 'low', 'medium'],
    ]);
    // each level is its own alarm: a fall through both SpO2 limits raises a medium and a high one
    const deep = new NaiveThreshold(config);
    deep.push(obs(0, 'spo2', config.limits.spo2.lowHigh! - 1));
    expect(deep.alarms.map((a) => a.priority).sort()).toEqual(['high', 'medium']);
  });

  it('uses the limits of the detector config and of patient settings, as Vigil does', () => {
    const hrHigh = config.limits.hr.high!;
    const inputs = [obs(0, 'hr', hrHigh + 1), obs(1, 'hr', 70), obs(2, 'spo2', config.spo2Scale2Low + 1)];
    const defaults = new NaiveThreshold(config);
    inputs.forEach((i) => defaults.push(i));
    expect(defaults.alarms.map((a) => `${a.metric}:${a.level}:${a.limit}`)).toEqual([`hr:high:${hrHigh}`, `spo2:low:${config.limits.spo2.low}`]);
    const raised = new NaiveThreshold(parseDetectorConfig({ limits: { hr: { high: hrHigh + 5 } } }));
    [settings(0, { spo2Scale: 2 }), ...inputs].forEach((i) => raised.push(i));
    expect(raised.alarms).toEqual([]);
  });
});

describe(`alarm burden, ${HOURS} h per scenario, seed ${SEED}`, () => {
  let results: ScenarioBurden[];
  const of = (name: string): ScenarioBurden => {
    const r = results.find((x) => x.scenario === name);
    if (!r) throw new Error(`no result for ${name}`);
    return r;
  };

  beforeAll(async () => {
    results = await alarmBurden(BURDEN_SCENARIOS, { config, hours: HOURS, seed: SEED, intervalS: INTERVAL_S });
  });

  it('artifact-storm: Vigil raises at most a third as many alarms as the naive threshold, and a tenth as many physiological ones', () => {
    const r = of('artifact-storm');
    expect(r.events).toEqual([]); // every alarm here is false
    expect(r.naive.total).toBeGreaterThan(1000);
    expect(r.vigil.total).toBeLessThanOrEqual(r.naive.total / 3);
    expect(r.vigil.physiological).toBeLessThanOrEqual(r.naive.total / 10);
  });

  it('stable: no physiological alarm, and flagged motion dips (shorter than the poor-signal delay) raise nothing', () => {
    const r = of('stable');
    expect(r.vigil.physiological).toBe(0);
    const flagged = new PatientModel(loadScenario('stable'), { seed: SEED }).artifactsBetween(0, HOURS * 3600).filter((a) => a.flagged);
    expect(flagged.length).toBeGreaterThan(20);
    expect(flagged.every((a) => a.duration < config.technical.sensorPoorDelaySeconds)).toBe(true);
    expect(r.vigil.total).toBe(0);
  });

  it('brady: one high-priority limit alarm through the day, and NEWS2 band alarms that do not follow each cuff reading', () => {
    const r = of('brady');
    const count = (kind: string, priority?: string): number => r.vigil.byKind.filter((c) => c.kind === kind && (priority === undefined || c.priority === priority)).reduce((n, c) => n + c.count, 0);
    expect(count('limit', 'high')).toBe(1);
    expect(count('news2')).toBeLessThanOrEqual(6); // 288 cuff readings a day move the score between 4 and 5
  });

  it('desaturation, sepsis, brady: every true event is alarmed, within the detectors\' delays of its alarm criterion', () => {
    const margin = 45; // s: drift and noise of the simulated signal around its noise-free trend
    const checked: string[] = [];
    for (const name of ['desaturation', 'sepsis', 'brady']) {
      const r = of(name);
      expect(r.events.length, name).toBeGreaterThan(0);
      for (const e of r.events) {
        const what = `${name} ${e.name}`;
        expect(e.vigil, `${what}: alarmed`).not.toBeNull();
        expect(e.criterion, `${what}: met an alarm criterion`).toBeTruthy();
        // the limit's persistence delay, or NEWS2 smoothing plus its band delay; two publishes
        const limit = config.limits[e.metric as keyof typeof config.limits];
        const detectorS = e.criterion!.by === 'limit' && limit ? limit.delaySeconds : config.news2.smoothingSeconds + config.news2.alarmDelaySeconds;
        const bound = detectorS + 2 * INTERVAL_S + margin;
        const afterCriterion = e.onsetS + e.vigil!.delayS - e.criterion!.atS;
        expect(afterCriterion, `${what}: ${afterCriterion} s after its alarm criterion`).toBeLessThanOrEqual(bound);
        checked.push(e.name);
      }
    }
    expect(checked).toEqual(['desaturation', 'severe-desaturation', 'fever', 'tachypnoea', 'tachycardia', 'hypotension', 'bradycardia']);
    // desaturation's truth threshold is Vigil's SpO2 limit: the alarm follows its onset by the delay
    const desat = of('desaturation').events[0]!;
    expect(desat.criterion).toEqual({ atS: desat.onsetS, by: 'limit' });
    expect(desat.vigil!.delayS).toBeGreaterThanOrEqual(config.limits.spo2.delaySeconds - INTERVAL_S);
  });

  it('sensor-off: each time the sensor comes off, one technical alarm says so after its delay; the naive threshold has nothing to say', () => {
    const r = of('sensor-off');
    expect(r.events.map((e) => [e.name, e.onsetS, e.vigil?.alarm, e.naive])).toEqual([
      ['sensor-off', 300, 'technical sensor_off medium', 'n/a'],
      ['sensor-off', 1200, 'technical sensor_off medium', 'n/a'],
    ]);
    for (const e of r.events) expect(e.vigil!.delayS).toBeLessThanOrEqual(config.technical.sensorOffDelaySeconds + INTERVAL_S);
    expect(r.vigil.physiological).toBe(0);
    // one alarm per cause: no signal loss from a device that still reports its sensor state
    expect(r.vigil.byKind).toEqual([{ kind: 'technical', priority: 'medium', count: 2, conditions: { sensor_off: 2 } }]);
  });

  it('docs/alarm-burden.md shows exactly these figures', () => {
    const doc = readFileSync(fileURLToPath(new URL('../../../docs/alarm-burden.md', import.meta.url)), 'utf8');
    const m = /<!-- burden:begin -->\n([\s\S]*?)<!-- burden:end -->/.exec(doc);
    expect(m, 'markers in docs/alarm-burden.md').not.toBeNull();
    // if the detectors changed, regenerate the block with `vigil burden` (see the doc)
    expect(m![1]).toBe(`\`\`\`\n$ vigil burden\nAlarm burden: ${HOURS} h of device time per scenario, seed ${SEED}, wearable every ${INTERVAL_S} s\n\`\`\`\n\n${renderBurden(results)}`);
  });
});

describe('vigil burden', () => {
  afterEach(() => vi.restoreAllMocks());

  function capture(): { text: () => string } {
    let text = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => ((text += String(c)), true));
    return { text: () => text };
  }

  it('documents itself', () => {
    expect(burdenCommand.help).toMatch(/^Usage: vigil burden /);
    for (const flag of ['--scenario', '--hours', '--seed', '--json']) expect(burdenCommand.help).toContain(flag);
  });

  it('prints the tables for the scenarios asked for', async () => {
    const out = capture();
    expect(await burdenCommand.run(['--scenario', 'sensor-off', '--hours', '0.5', '--seed', '2'])).toBe(0);
    expect(out.text()).toMatch(/^Alarm burden: 0\.5 h of device time per scenario, seed 2, wearable every 5 s\n\n\| scenario /);
    expect(out.text()).toContain('| sensor-off | 0.5 ');
    expect(out.text()).toContain(`+${config.technical.sensorOffDelaySeconds} s (technical sensor_off medium)`);
  });

  it('--json gives the results as data', async () => {
    const out = capture();
    expect(await burdenCommand.run(['--scenario', 'desaturation', '--hours', '0.5', '--json'])).toBe(0);
    const [r] = JSON.parse(out.text()) as ScenarioBurden[];
    expect(r).toMatchObject({ scenario: 'desaturation', hours: 0.5, seed: 1, timeScale: 1 });
    expect(r!.events.map((e) => e.name)).toEqual(['desaturation', 'severe-desaturation']);
  });

  it('refuses bad usage with a message naming the problem', async () => {
    await expect(burdenCommand.run(['--hours', '0'])).rejects.toThrow(UsageError);
    await expect(burdenCommand.run(['--seed', 'x'])).rejects.toThrow(/--seed/);
    await expect(burdenCommand.run(['--scenario', 'no-such-scenario', '--hours', '0.1'])).rejects.toThrow(/unknown scenario "no-such-scenario"/);
    await expect(burdenCommand.run(['--bogus'])).rejects.toThrow(UsageError);
  });
});
