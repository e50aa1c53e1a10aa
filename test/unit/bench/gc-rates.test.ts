import { describe, expect, it } from 'vitest';
import { gcRates, median, spoolGroups } from '../../../src/bench/ceiling.js';
import { sumSamples } from '../../../src/core/counters.js';

const METRICS = [
  '# HELP vigil_gc_collections_total Garbage collections',
  '# TYPE vigil_gc_collections_total counter',
  'vigil_gc_collections_total{kind="minor"} 250',
  'vigil_gc_collections_total{kind="major"} 31',
  'vigil_gc_collections_total{kind="incremental"} 29',
  'vigil_gc_seconds_total{kind="minor"} 1.5',
  'vigil_gc_seconds_total{kind="major"} 0.25',
  'vigil_messages_total{transport="mqtt"} 10',
  'vigil_messages_total{transport="serial"} 5',
  'vigil_spool_bytes 4096',
  'vigil_other_total{subkind="minor"} 7',
].join('\n');

describe('the ceiling phase\'s collection figures', () => {
  it('reads a sample by its labels, or the sum over all of them', () => {
    expect(sumSamples(METRICS, 'vigil_gc_collections_total', { kind: 'minor' })).toBe(250);
    expect(sumSamples(METRICS, 'vigil_gc_collections_total', { kind: 'major' })).toBe(31);
    expect(sumSamples(METRICS, 'vigil_gc_collections_total', { kind: 'weakcb' })).toBe(0);
    expect(sumSamples(METRICS, 'vigil_gc_seconds_total')).toBe(1.75);
    expect(sumSamples(METRICS, 'vigil_messages_total')).toBe(15);
    expect(sumSamples(METRICS, 'vigil_spool_bytes')).toBe(4096);
    expect(sumSamples(METRICS, 'vigil_spool')).toBe(0);
    // a label is matched by its whole name
    expect(sumSamples(METRICS, 'vigil_other_total', { kind: 'minor' })).toBe(0);
    expect(sumSamples(METRICS, 'vigil_other_total', { subkind: 'minor' })).toBe(7);
  });

  it('gives collections a second and the main thread\'s share of the window', () => {
    const r = gcRates({ minor: 100, major: 10, seconds: 1 }, { minor: 350, major: 45, seconds: 2.5 }, 10);
    expect(r.minorPerS).toBe(25);
    expect(r.majorPerS).toBe(3.5);
    expect(r.mainThreadPct).toBe(15);
  });
});

describe('the ceiling phase\'s spool groups', () => {
  it('gives groups a second and records a group, and no records a group without a group', () => {
    expect(spoolGroups(130, 260_000, 10)).toEqual({ groupsPerS: 13, recordsPerGroup: 2000 });
    expect(spoolGroups(0, 0, 10)).toEqual({ groupsPerS: 0, recordsPerGroup: 0 });
  });
});

describe('the ceiling\'s median of rounds', () => {
  it('takes the middle value, or the mean of the middle two', () => {
    expect(median([0.31, 0.25, 0.28])).toBe(0.28);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
    expect(median([])).toBeNaN();
  });

  it('does not reorder what it is given', () => {
    const xs = [3, 1, 2];
    median(xs);
    expect(xs).toEqual([3, 1, 2]);
  });
});
