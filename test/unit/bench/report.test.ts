import { describe, expect, it } from 'vitest';
import { targets } from '../../../src/bench/report.js';
import type { HistoriesResult } from '../../../src/bench/histories.js';
import type { SustainedResult } from '../../../src/bench/sustained.js';

const MB = 1048576;
const ward = { devices: 5000, ratePerDevice: 1, rssPeak: 400 * MB, ackedMsgPerS: 5000, offeredMsgPerS: 5000, lagAtEnd: 10, sustained: true, latencyMs: { p50: 1, p99: 50, max: 60, samples: 1200 } } as unknown as SustainedResult;
const full = (h: HistoriesResult): ReturnType<typeof targets>[number] => targets([ward], undefined, undefined, h).find((t) => t.name.includes('every history full'))!;

describe('the every-history-full target', () => {
  it('adds the logs at their caps, wherever that fill is in the list, and the trends of the vitals the load does not send', () => {
    // 7 trended vitals, 3 of them not sent by the load's wearables: 3/7 of 70 MB
    const caps = { label: 'every log at its cap', news2: 1000, alarms: 100, logsMB: 100 };
    const busiest = { label: 'the busiest simulated patient, 6 h', news2: 226, alarms: 44, logsMB: 40 };
    for (const fills of [[busiest, caps], [caps, busiest]]) {
      expect(full({ patients: 5000, trendsMB: 70, fills })).toMatchObject({ measured: '530 MB (400 + 100 + 30)', met: false });
    }
    expect(full({ patients: 5000, trendsMB: 7, fills: [{ ...caps, logsMB: 50 }] })).toMatchObject({ measured: '453 MB (400 + 50 + 3)', met: true });
  });

  it('is not measured without a fill at the caps, or with fewer patients than devices', () => {
    expect(full({ patients: 5000, trendsMB: 70, fills: [{ label: 'the busiest simulated patient, 6 h', news2: 226, alarms: 44, logsMB: 40 }] }).met).toBeUndefined();
    expect(full({ patients: 500, trendsMB: 70, fills: [{ label: 'every log at its cap', news2: 1000, alarms: 100, logsMB: 100 }] }).met).toBeUndefined();
  });

  it('is the measured peak of a load on a gateway started with every history full, where the run has one, and not the sustained load', () => {
    const h: HistoriesResult = { patients: 5000, trendsMB: 70, fills: [{ label: 'every log at its cap', news2: 1000, alarms: 100, logsMB: 100 }] };
    const loaded = { ...ward, rssPeak: 480 * MB, historiesFull: { label: 'every log at its cap', news2: 1000, alarms: 100 } } as SustainedResult;
    const all = targets([ward, loaded], undefined, undefined, h);
    expect(all.find((t) => t.name.includes('every history full'))).toMatchObject({ measured: expect.stringMatching(/^480 MB \(every vital's trend, 1,000 NEWS2 changes and 100 alarm transitions a patient; sustained\)$/), met: true });
    // the plain load's figures stay those of the plain load
    expect(all.find((t) => t.name === 'gateway RSS at that load')).toMatchObject({ measured: '400 MB', met: true });
    const slow = targets([ward, { ...loaded, rssPeak: 520 * MB }], undefined, undefined, h).find((t) => t.name.includes('every history full'))!;
    expect(slow.met).toBe(false);
    const unsustained = targets([ward, { ...loaded, sustained: false }], undefined, undefined, h).find((t) => t.name.includes('every history full'))!;
    expect(unsustained).toMatchObject({ measured: expect.stringContaining('not sustained'), met: false });
  });
});
