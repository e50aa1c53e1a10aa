import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/core/errors.js';
import { defaultDetectorConfig, parseDetectorConfig } from '../../../src/detectors/config.js';

describe('detector config', () => {
  it('defaults follow the documented sources', () => {
    const c = defaultDetectorConfig();
    // DESIGN.md alarm fatigue: 15 s delay on low SpO2; limits 88–90
    expect(c.limits.spo2).toMatchObject({ low: 90, lowHigh: 85, delaySeconds: 15 });
    expect(c.spo2Scale2Low).toBe(88);
    // NEWS2 3-point edges: RR ≤ 8 / ≥ 25, pulse ≥ 131, SBP ≤ 90, T ≤ 35.0 (breach is strictly beyond)
    expect(c.limits.rr).toMatchObject({ low: 9, high: 24 });
    expect(c.limits.hr.high).toBe(130);
    expect(c.limits.sbp.low).toBe(91);
    expect(c.limits.temp.low).toBe(35.1);
    expect(c.alarms.latching).toEqual(['high']);
  });

  it('a partial section keeps the other defaults', () => {
    const c = parseDetectorConfig({ limits: { spo2: { low: 88 } }, alarms: { escalationSeconds: { high: 30 } } });
    expect(c.limits.spo2).toMatchObject({ low: 88, lowHigh: 85, delaySeconds: 15, hysteresis: 2 });
    expect(c.alarms.escalationSeconds).toEqual({ high: 30, medium: 180, low: 600 });
    expect(c.limits.hr.high).toBe(130);
  });

  it('null switches a limit off', () => {
    expect(parseDetectorConfig({ limits: { hr: { high: null } } }).limits.hr.high).toBeNull();
  });

  it('errors name the settings path, and unknown settings are errors', () => {
    try {
      parseDetectorConfig({ limits: { spo2: { low: 'x' } }, news2: { staleSecs: {} } });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).issues).toEqual([
        'detectors.limits.spo2.low: Invalid input: expected number, received string',
        'detectors.news2: unknown setting "staleSecs"',
      ]);
    }
  });
});
