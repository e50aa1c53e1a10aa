import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SIM_PROFILES } from '../../../firmware-sim/device.js';
import { bytesOf, device } from './helpers.js';

const SCENARIOS = ['stable', 'desaturation', 'artifact-storm', 'sensor-off', 'garbage', 'unplug'];

describe('determinism', () => {
  for (const profile of SIM_PROFILES) {
    it(`${profile}: same scenario and seed give the same bytes; another seed differs`, () => {
      for (const scenario of SCENARIOS) {
        const a = bytesOf(profile, scenario, 7);
        const b = bytesOf(profile, scenario, 7);
        const c = bytesOf(profile, scenario, 8);
        expect(a.length).toBeGreaterThan(0);
        expect(a.equals(b)).toBe(true);
        expect(a.equals(c)).toBe(false);
      }
    });
  }

  it('generate is random-access: a later window equals the tail of a longer run', () => {
    for (const profile of SIM_PROFILES) {
      const whole = [...device(profile, 'artifact-storm', 3).generate(0, 900)].filter((c) => c.t >= 300);
      const part = [...device(profile, 'artifact-storm', 3).generate(300, 900)];
      expect(part.map((c) => c.kind + c.t + (c.kind === 'data' ? c.bytes.toString('hex') : ''))).toEqual(
        whole.map((c) => c.kind + c.t + (c.kind === 'data' ? c.bytes.toString('hex') : '')),
      );
    }
  });

  it('samples do not depend on the order they are asked for', () => {
    const forward = device('json-v1', 'artifact-storm', 11).patient;
    const backward = device('json-v1', 'artifact-storm', 11).patient;
    const times = Array.from({ length: 400 }, (_, i) => i * 2.5);
    const f = times.map((t) => forward.sample(t));
    const b = [...times].reverse().map((t) => backward.sample(t)).reverse();
    expect(b).toEqual(f);
  });

  // Guards against accidental changes to the model or an encoder: the digests below were taken
  // from this code. After an intended change, regenerate with VIGIL_UPDATE_GOLDEN=1.
  it('matches the checked-in golden digests', () => {
    const file = new URL('./golden-digests.json', import.meta.url);
    const actual: Record<string, string> = {};
    for (const profile of SIM_PROFILES) {
      for (const scenario of ['desaturation', 'garbage']) {
        actual[`${profile}/${scenario}/seed1/0-900`] = createHash('sha256').update(bytesOf(profile, scenario, 1, 0, 900)).digest('hex');
      }
    }
    if (process.env.VIGIL_UPDATE_GOLDEN === '1') writeFileSync(file, `${JSON.stringify(actual, null, 2)}\n`);
    expect(actual).toEqual(JSON.parse(readFileSync(file, 'utf8')));
  });
});
