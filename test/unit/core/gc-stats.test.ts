import { constants, type PerformanceEntry } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { Counters } from '../../../src/core/counters.js';
import { GcStats, gcKind } from '../../../src/core/gc-stats.js';

const entry = (kind: number | undefined): PerformanceEntry => ({ name: 'gc', entryType: 'gc', startTime: 0, duration: 1, detail: kind === undefined ? undefined : { kind } }) as unknown as PerformanceEntry;

describe('GcStats', () => {
  it('names the kinds of collection', () => {
    expect(gcKind(entry(constants.NODE_PERFORMANCE_GC_MINOR))).toBe('minor');
    expect(gcKind(entry(constants.NODE_PERFORMANCE_GC_MAJOR))).toBe('major');
    expect(gcKind(entry(constants.NODE_PERFORMANCE_GC_INCREMENTAL))).toBe('incremental');
    expect(gcKind(entry(constants.NODE_PERFORMANCE_GC_WEAKCB))).toBe('weakcb');
    expect(gcKind(entry(undefined))).toBe('other');
  });

  it('counts collections and their seconds by kind on /metrics', async () => {
    const gc = new GcStats();
    const c = new Counters();
    gc.registerMetrics(c);
    gc.add('minor', 0.002);
    gc.add('minor', 0.003);
    gc.add('major', 0.04);
    const text = await c.registry.metrics();
    expect(text).toContain('vigil_gc_collections_total{kind="minor"} 2');
    expect(text).toContain('vigil_gc_collections_total{kind="major"} 1');
    expect(text).toMatch(/vigil_gc_seconds_total\{kind="minor"\} 0\.005/);
    expect(text).toContain('vigil_gc_seconds_total{kind="major"} 0.04');
  });

  it('sees the collections this process makes while started, and none once stopped', async () => {
    const gc = new GcStats();
    await gc.start();
    // garbage enough for a scavenge or more
    for (let round = 0; round < 50 && (gc.collections.get('minor') ?? 0) === 0; round++) {
      let keep = 0;
      for (let k = 0; k < 200_000; k++) keep += { k, s: `x${k}` }.s.length;
      expect(keep).toBeGreaterThan(0);
      await new Promise((r) => setImmediate(r));
    }
    expect(gc.collections.get('minor') ?? 0).toBeGreaterThan(0);
    expect(gc.seconds.get('minor') ?? 0).toBeGreaterThan(0);
    await gc.stop();
    const seen = new Map(gc.collections);
    for (let k = 0; k < 5; k++) {
      let keep = 0;
      for (let j = 0; j < 200_000; j++) keep += { j, s: `y${j}` }.s.length;
      expect(keep).toBeGreaterThan(0);
      await new Promise((r) => setImmediate(r));
    }
    expect(gc.collections).toEqual(seen);
  });
});
