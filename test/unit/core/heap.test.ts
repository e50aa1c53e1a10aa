import { describe, expect, it } from 'vitest';
import { getHeapStatistics } from 'node:v8';
import { GATEWAY_NODE_OPTIONS, HeapGovernor, MAX_GROWING_PERCENT, MIN_GROWING_PERCENT, growingPercent, heldBytes, tuneHeap } from '../../../src/core/heap.js';

const MB = 1024 * 1024;

describe('tuneHeap', () => {
  it('names the launch options missing from both the command line and NODE_OPTIONS', () => {
    expect(tuneHeap([], '')).toEqual([...GATEWAY_NODE_OPTIONS]);
    expect(tuneHeap(['--max-semi-space-size=32'], '')).toEqual([]);
    expect(tuneHeap([], '--enable-source-maps --max-semi-space-size=64')).toEqual([]);
    expect(tuneHeap(['--max-old-space-size=512'], '--max-semi-space')).toEqual([...GATEWAY_NODE_OPTIONS]);
  });
});

describe('growingPercent', () => {
  it('lets a heap far below its budget double, and one near or past it grow by the minimum', () => {
    expect(growingPercent(40 * MB, 256 * MB)).toBe(MAX_GROWING_PERCENT);
    expect(growingPercent(128 * MB, 256 * MB)).toBe(MAX_GROWING_PERCENT);
    expect(growingPercent(220 * MB, 256 * MB)).toBe(MIN_GROWING_PERCENT);
    expect(growingPercent(400 * MB, 256 * MB)).toBe(MIN_GROWING_PERCENT);
    expect(growingPercent(0, 256 * MB)).toBe(MAX_GROWING_PERCENT);
  });

  it('in between, allows what takes the heap to its budget, rounded down to 10 %', () => {
    expect(growingPercent(160 * MB, 256 * MB)).toBe(60);
    expect(growingPercent(180 * MB, 256 * MB)).toBe(40);
  });

  it('never sets a limit past the budget, or past 20 % over what is in use where that is more', () => {
    for (let used = 1 * MB; used < 600 * MB; used += 7 * MB) {
      const limit = used * (1 + growingPercent(used, 256 * MB) / 100);
      expect(limit).toBeLessThanOrEqual(Math.max(256 * MB, used * 1.2) + 1);
    }
  });
});

describe('HeapGovernor', () => {
  it('sets the growth as the heap in use changes, and only when it changes', () => {
    let used = 50 * MB;
    const set: number[] = [];
    const told: Array<[number, number]> = [];
    const g = new HeapGovernor({ budgetBytes: 256 * MB, held: () => used, set: (p) => set.push(p), changed: (p, held) => told.push([p, held]) });
    g.update();
    expect(set).toEqual([100]);
    g.update();
    expect(set).toEqual([100]);
    used = 200 * MB;
    g.update();
    used = 300 * MB;
    g.update();
    expect(set).toEqual([100, 20]);
    expect(g.percent).toBe(20);
    used = 100 * MB;
    g.update();
    expect(set).toEqual([100, 20, 100]);
    expect(told).toEqual([[100, 50 * MB], [20, 200 * MB], [100, 100 * MB]]);
  });
});

describe('heldBytes', () => {
  it('counts memory owned outside the heap, such as typed arrays\' buffers', () => {
    const before = heldBytes();
    const big = new Float64Array(8 * 1024 * 1024); // 64 MB outside the heap
    big[0] = 1;
    expect(heldBytes() - before).toBeGreaterThan(60 * MB);
    expect(heldBytes()).toBeGreaterThan(getHeapStatistics().used_heap_size);
    expect(big[0]).toBe(1);
  });
});
