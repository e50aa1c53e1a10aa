/**
 * The census API takes only limits that can be in force: of a metric with limit alarms, within
 * the range a limit of that metric may have, and in order once merged with the ward defaults.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { Census } from '../../../src/census/census.js';
import { censusRoutes } from '../../../src/census/routes.js';
import { parseDetectorConfig } from '../../../src/detectors/config.js';
import pino from 'pino';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function start(detectors: object = {}) {
  const census = await Census.open([{ id: 'w1', beds: ['1', '2', '3'] }], [{ id: 'P2', ward: 'w1', bed: '2', devices: [] }]);
  app = Fastify();
  censusRoutes(census, pino({ level: 'silent' }), () => 0, parseDetectorConfig(detectors))(app);
  await app.ready();
  const put = async (limits: unknown) => {
    const r = await app!.inject({ method: 'PUT', url: '/api/census/patients/P2/settings', payload: { limits } });
    return { status: r.statusCode, error: (r.json() as { error?: string }).error };
  };
  return { census, put };
}

describe('PUT /api/census/patients/:id/settings: limits', () => {
  it('refuses what would be stored but never in force, naming the key or value', async () => {
    const { census, put } = await start();
    const bad: Array<[unknown, RegExp]> = [
      [{ SpO2: { low: 92 } }, /^limits: unknown metric "SpO2" \(limits are set for spo2, hr, pr, rr, sbp, temp\)/],
      [{ 'spo2 ': { low: 92 } }, /^limits: unknown metric "spo2 "/],
      [{ bp: { low: 92 } }, /^limits: unknown metric "bp"/],
      [{ spo2: { lo: 92 } }, /^limits\.spo2: unknown limit "lo"/],
      [{ spo2: { low: 95, lowHigh: 97 } }, /^limits\.spo2\.lowHigh: high-priority low limit 97 % is above the low limit 95 %/],
      [{ hr: { low: 150, high: 60 } }, /^limits\.hr\.low: low limit 150 \/min is not below the high limit 60 \/min/],
      [{ temp: { high: 100.4 } }, /^limits\.temp\.high: 100\.4 is outside 25\.\.45 Cel/],
      [{ spo2: { low: 0.88 } }, /^limits\.spo2\.low: 0\.88 is outside 50\.\.100 %/],
      [{ spo2: { low: '92' } }, /^limits\.spo2\.low: /],
    ];
    for (const [limits, why] of bad) {
      const r = await put(limits);
      expect({ limits, status: r.status }).toEqual({ limits, status: 400 });
      expect(r.error).toMatch(why);
    }
    expect(census.patient('P2')!.settings).toEqual({});
  });

  it('checks the order against the ward defaults the limits are merged with', async () => {
    const { put } = await start({ limits: { hr: { high: 120, highHigh: 140 } } });
    // a low limit above the ward's high limit
    expect(await put({ hr: { low: 125 } })).toEqual({ status: 400, error: 'limits.hr.low: low limit 125 /min is not below the high limit 120 /min (the ward default)' });
    // a high-priority low limit above the ward's medium low limit 90
    expect((await put({ spo2: { lowHigh: 92 } })).error).toBe('limits.spo2.lowHigh: high-priority low limit 92 % is above the low limit 90 % (the ward default)');
    // both moved together is fine, and so are equal high-priority and medium limits
    expect((await put({ spo2: { low: 94, lowHigh: 92 }, hr: { high: 140, highHigh: 140 } })).status).toBe(200);
  });

  it('takes good limits of every metric with limit alarms, the pulse rate included', async () => {
    const { census, put } = await start();
    const limits = { spo2: { low: 88, lowHigh: 84 }, hr: { high: 120 }, pr: { high: 120, highHigh: 140 }, rr: { low: 8 }, sbp: { low: 100 }, temp: { low: 35.5, high: 38.5 } };
    expect(await put(limits)).toMatchObject({ status: 200 });
    expect(census.patient('P2')!.settings.limits).toEqual(limits);
  });

  it('an admission that brings limits is checked the same way', async () => {
    const { census } = await start();
    const r = await app!.inject({ method: 'POST', url: '/api/census/patients', payload: { id: 'P3', ward: 'w1', bed: '3', settings: { limits: { hr: { low: 150, high: 60 } } } } });
    expect(r.statusCode).toBe(400);
    expect((r.json() as { error: string }).error).toMatch(/^limits\.hr\.low: /);
    expect(census.patient('P3')).toBeUndefined();
  });
});
