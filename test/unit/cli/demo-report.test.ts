import { describe, expect, it } from 'vitest';
import { DemoReporter } from '../../../src/cli/demo-report.js';
import type { Gateway } from '../../../src/gateway.js';

/** A stand-in gateway holding just what the report reads. */
function gatewayWith(alarms: unknown[]): Gateway {
  return {
    ingest: { onRecords: () => undefined },
    health: () => ({ spool: { bytes: 2048, lastSeq: 7 } }),
    counters: { value: async () => 3 },
    census: { snapshot: () => ({ patients: [], wards: [] }) },
    detectors: { activeAlarms: () => alarms, latestNews2: () => undefined },
  } as unknown as Gateway;
}

describe('the demo report', () => {
  it("names a bed alarm's bed, and a gateway's own alarm as the gateway's", async () => {
    const lines: string[] = [];
    const base = { acknowledged: false, escalated: false, conditionActive: true, latching: false, ts: 1 };
    const r = new DemoReporter(
      gatewayWith([
        { ...base, id: 'a', priority: 'high', bed: '4', reason: 'Heart rate below 40 /min for 10 s (lowest 36)' },
        { ...base, id: 'b', priority: 'high', reason: 'Alarm not delivered: Assigned nurse for bed 4 not delivered at the nurse station' },
      ]),
      (l) => lines.push(l),
    );
    await r.report();
    const alarmLines = lines.filter((l) => l.includes('ALARM'));
    expect(alarmLines).toHaveLength(2);
    expect(alarmLines.some((l) => /ALARM HIGH {3}bed 4 Heart rate below 40/.test(l))).toBe(true);
    expect(alarmLines.some((l) => /ALARM HIGH {3}gateway Alarm not delivered: Assigned nurse for bed 4/.test(l))).toBe(true);
    expect(lines.join('\n')).not.toContain('bed ?');
  });
});
