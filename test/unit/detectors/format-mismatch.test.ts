import { describe, expect, it } from 'vitest';
import { alarmsOf, obs, run, tech, tick, transitions } from './helpers.js';

describe('format_mismatch from a serial port', () => {
  it('raises the device-offline technical alarm with its reason, ended by the next reading', () => {
    const out = run([tech(0, 'format_mismatch', { device: 'ox7' }), obs(40, 'spo2', 97, { device: 'ox7' }), tick(100)]);
    const t = transitions(out, (a) => a.kind === 'technical');
    // (Signal loss follows later only because this one reading is all the device ever sends.)
    expect(t.filter((x) => x[1].includes('device_offline'))).toEqual([
      [0, 'P1:technical:ox7:device_offline:1', 'raised'],
      [50, 'P1:technical:ox7:device_offline:1', 'resolved'],
    ]);
    expect(alarmsOf(out)[0]?.reason).toMatch(/^device data not understood: ox7/);
  });
});
