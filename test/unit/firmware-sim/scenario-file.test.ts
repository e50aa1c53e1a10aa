import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/core/errors.js';
import { builtinScenarioDir, listScenarios, loadScenario, parseScenario } from '../../../firmware-sim/scenario.js';

function issuesOf(yaml: string): string[] {
  try {
    parseScenario(yaml, 'test.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toMatch(/^test\.yaml: /);
    return [...(err as ConfigError).issues];
  }
  throw new Error('expected a ConfigError');
}

describe('scenario files', () => {
  it('every built-in file loads, and the list names them all', () => {
    const files = readdirSync(builtinScenarioDir()).filter((f) => f.endsWith('.yaml')).map((f) => f.replace(/\.yaml$/, ''));
    expect(files.length).toBeGreaterThanOrEqual(9);
    for (const f of files) expect(loadScenario(f).name).toBe(f);
    expect(listScenarios().map((s) => s.name)).toEqual([...files].sort());
    for (const s of listScenarios()) expect(s.description.length).toBeGreaterThan(10);
  });

  it('fills defaults for what a file leaves out', () => {
    const s = parseScenario('name: minimal\n', 'minimal.yaml');
    expect(s.baseline.spo2).toBeGreaterThan(90);
    expect(s.phases).toEqual([]);
    expect(s.timeScale).toBe(1);
    expect(s.groundTruth).toEqual([]);
  });

  it('errors name the path of the bad setting', () => {
    expect(issuesOf('name: x\nphases:\n  - { param: hr, at: 1, target: 50 }\n  - { param: hr, at: 10, target: fast }\n')).toEqual([
      expect.stringMatching(/^phases\[1\]\.target: /),
    ]);
    expect(issuesOf('name: x\nbaseline: { heartrate: 70 }\n')).toEqual(['baseline: unknown key "heartrate"']);
    expect(issuesOf('name: x\nphases:\n  - { param: pulse, at: 1, target: 50 }\n')[0]).toMatch(/^phases\[0\]\.param: /);
    expect(issuesOf('name: x\nartifacts: { duration: [10, 3] }\n')[0]).toMatch(/^artifacts\.duration: first value/);
    expect(issuesOf('name: x\ntruth:\n  - { name: low, below: 90 }\n')).toEqual(['truth[0].metric: required with below/above']);
    expect(issuesOf('name: x\nevents:\n  - { type: explode, at: 1, duration: 2 }\n')[0]).toMatch(/^events\[0\]\.type: /);
    expect(issuesOf('name: Bad Name\n')[0]).toMatch(/^name: /);
    expect(issuesOf('- just\n- a list\n')[0]).toMatch(/^\(top level\): /);
  });

  it('reports YAML syntax errors with the file name', () => {
    expect(() => parseScenario('name: [unclosed\n', 'broken.yaml')).toThrow(/^broken\.yaml: not valid YAML/);
  });

  it('an unknown scenario name lists the built-ins', () => {
    expect(() => loadScenario('no-such-scenario')).toThrow(/unknown scenario "no-such-scenario".*desaturation/);
  });

  it('ground truth from a threshold is where the trend crosses it; explicit times are kept', () => {
    const s = parseScenario(
      [
        'name: t',
        'duration: 1000',
        'baseline: { hr: 80 }',
        'phases:',
        '  - { param: hr, at: 100, duration: 100, target: 130 }',
        '  - { param: hr, at: 500, duration: 100, target: 80 }',
        'truth:',
        '  - { name: tachy, metric: hr, above: 110 }',
        '  - { name: marked, at: 42, end: 50 }',
      ].join('\n'),
      't.yaml',
    );
    // Linear 80 → 130 over 100 s crosses 110 after 60 s; the return crosses it after 40 s.
    const expectOnset = 100 + Math.floor(((110 - 80) / (130 - 80)) * 100) + 1;
    const expectEnd = 500 + Math.ceil(((130 - 110) / (130 - 80)) * 100);
    expect(s.groundTruth).toEqual([
      { name: 'marked', kind: 'clinical', clock: 'scenario', onset: 42, end: 50 },
      { name: 'tachy', kind: 'clinical', clock: 'scenario', metric: 'hr', onset: expectOnset, end: expectEnd },
    ]);
  });
});
