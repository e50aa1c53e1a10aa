import { describe, expect, it } from 'vitest';
import { BlobReader, BlobWriter, type BlobRef } from '../../../src/core/blobs.js';
import { TrendRing, TrendShapes, Trends } from '../../../src/web/trend-ring.js';
import { WardStore } from '../../../src/web/ward-store.js';
import type { SpoolRecord } from '../../../src/core/types.js';

describe('TrendRing', () => {
  it('keeps mean, low, high and count per bucket for its window, and drops what is older', () => {
    const r = new TrendRing(10_000, 4);
    for (const [t, v] of [[0, 96], [4000, 90], [9999, 93], [10_000, 88], [35_000, 95]] as const) r.add(t, v);
    expect(r.points(0)).toEqual([{ t: 0, v: 93, lo: 90, hi: 96, n: 3 }, { t: 10_000, v: 88, lo: 88, hi: 88, n: 1 }, { t: 30_000, v: 95, lo: 95, hi: 95, n: 1 }]);
    r.add(45_000, 97); // bucket 4: bucket 0 leaves the window
    expect(r.points(0).map((p) => p.t)).toEqual([10_000, 30_000, 40_000]);
    r.add(5000, 50); // older than the window: dropped
    r.add(15_000, 80); // late, but within it: into its bucket
    expect(r.points(0)).toEqual([{ t: 10_000, v: 84, lo: 80, hi: 88, n: 2 }, { t: 30_000, v: 95, lo: 95, hi: 95, n: 1 }, { t: 40_000, v: 97, lo: 97, hi: 97, n: 1 }]);
    expect(r.points(20_000, 40_000).map((p) => p.t)).toEqual([30_000]);
    expect(r.from).toBe(10_000);
  });

  it('gives a bucket of many values their mean to 0.1, and averages a late value into its bucket', () => {
    for (const seed of [1, 4, 16, 24]) {
      const r = new TrendRing(120_000, 3);
      const values = Array.from({ length: 120 }, (_, s) => 60.04 + ((s * 7 + seed) % 23) * 0.9);
      values.forEach((v, s) => r.add(120_000 + s * 1000, v));
      const mean = values.reduce((a, v) => a + v, 0) / values.length;
      // a running mean kept in tenths ends 0.1 or 0.2 off for these
      expect(r.points(0)).toEqual([{ t: 120_000, v: Math.round(mean * 10) / 10, lo: 60, hi: 79.8, n: 120 }]);
    }
    const r = new TrendRing(10_000, 3);
    for (const [t, v] of [[0, 90], [1000, 91], [10_000, 80]] as const) r.add(t, v);
    r.add(2000, 95); // late: bucket 0 is no longer the newest
    expect(r.points(0)).toEqual([{ t: 0, v: 92, lo: 90, hi: 95, n: 3 }, { t: 10_000, v: 80, lo: 80, hi: 80, n: 1 }]);
  });

  it('comes back from its snapshot exactly, the newest bucket going on as before, and into another shape approximately', () => {
    const r = new TrendRing(10_000, 30);
    const value = (s: number): number => 60.04 + (s % 17) * 0.7;
    for (let s = 0; s < 395; s++) r.add(s * 1000, value(s));
    const saved = JSON.parse(JSON.stringify(r.snapshot())) as ReturnType<TrendRing['snapshot']>;
    // saved as kept: mean, lo, hi and count, 16 bits each a slot
    expect(Buffer.from(saved.data as string, 'base64')).toHaveLength(30 * 8);
    const back = new TrendRing(10_000, 30);
    back.load(saved);
    expect(back.points(0)).toEqual(r.points(0));
    for (let s = 395; s < 400; s++) for (const ring of [r, back]) ring.add(s * 1000, value(s));
    expect(back.points(0)).toEqual(r.points(0));
    expect(() => back.load({ ...saved, mean: 'x' as unknown as number })).toThrow('trend snapshot whose newest mean is x, not a number');
    const coarser = new TrendRing(60_000, 10);
    coarser.load(saved);
    expect(coarser.points(0).map((p) => p.t)).toEqual([60_000, 120_000, 180_000, 240_000, 300_000, 360_000]);
  });

  it('still loads a ring saved with its means as floats (state format 3)', () => {
    const r = new TrendRing(10_000, 4);
    for (const [t, v] of [[0, 96], [4000, 90.25], [10_000, 88], [12_000, 88.5]] as const) r.add(t, v);
    // the older layout: f32 means, then lo, hi and count (i16), and no `mean`
    const older = Buffer.alloc(4 * 10);
    const f32 = new Float32Array([93.125, 88.25, 0, 0]);
    const i16 = new Int16Array([903, 880, 0, 0, 960, 885, 0, 0, 2, 2, 0, 0]);
    Buffer.from(f32.buffer).copy(older, 0);
    Buffer.from(i16.buffer).copy(older, 16);
    const back = new TrendRing(10_000, 4);
    back.load({ bucketMs: 10_000, slots: 4, newest: 1, data: older.toString('base64') });
    expect(back.points(0)).toEqual([{ t: 0, v: 93.1, lo: 90.3, hi: 96, n: 2 }, { t: 10_000, v: 88.3, lo: 88, hi: 88.5, n: 2 }]);
    expect(back.points(0)).toEqual(r.points(0));
    // the newest bucket goes on from its saved float mean
    for (const ring of [r, back]) ring.add(14_000, 89);
    expect(back.points(0)).toEqual(r.points(0));
    expect(() => back.load({ bucketMs: 10_000, slots: 4, newest: 1, data: older.subarray(0, 32).toString('base64') })).toThrow('trend snapshot of 32 bytes, expected 40');
  });

  it('a patient\u2019s trends keep each vital to its own rings as vitals come in any order, and save the same bytes as rings of their own', () => {
    const shapes = new TrendShapes([{ bucketMs: 10_000, slots: 7 }, { bucketMs: 60_000, slots: 5 }]);
    const trends = new Trends(shapes);
    const alone = new Map<number, TrendRing[]>();
    // vitals 4, then 0, then 6, then 2 first come at different times: each new one moves the others
    const firsts = new Map([[4, 0], [0, 50], [6, 120], [2, 300]]);
    for (let s = 0; s < 500; s++) {
      for (const [k, first] of firsts) {
        if (s < first) continue;
        const v = 40 + k + ((s * 7 + k) % 23) * 0.9;
        trends.add(k, s * 1000, v);
        const own = alone.get(k) ?? [new TrendRing(10_000, 7), new TrendRing(60_000, 5)];
        alone.set(k, own);
        for (const r of own) r.add(s * 1000, v);
      }
    }
    for (const k of [1, 3, 5]) {
      expect(trends.has(k)).toBe(false);
      expect(trends.points(k, 0)).toEqual([]);
    }
    for (const [k, [fine, coarse]] of alone) {
      expect(trends.has(k)).toBe(true);
      const recentFrom = fine!.from;
      expect(trends.points(k, 0)).toEqual([...coarse!.points(0, recentFrom), ...fine!.points(recentFrom)]);
      expect(trends.points(k, 0).filter((p) => p.t >= recentFrom)).toHaveLength(7);
      expect(trends.snapshot()[k]).toEqual([fine!.snapshot(), coarse!.snapshot()]);
    }
    // loaded back in place, a vital at a time, and into a ward of another shape
    const back = new Trends(shapes);
    for (const k of [6, 2, 0, 4]) back.load(k, trends.snapshot()[k]!);
    for (const k of alone.keys()) expect(back.points(k, 0)).toEqual(trends.points(k, 0));
    // among blobs: one view of the patient's buffer, each ring's part of it named
    const blobs = new BlobWriter();
    const inBlobs = trends.snapshot(blobs);
    const parts = [...blobs.parts()];
    expect(parts).toHaveLength(1);
    expect(inBlobs.flatMap((rings) => rings ?? []).map((s) => (s.data as BlobRef).bytes)).toEqual(Array.from({ length: 4 }, () => [7 * 8, 5 * 8]).flat());
    const fromBlobs = new Trends(shapes);
    for (const k of [2, 6, 4, 0]) fromBlobs.load(k, inBlobs[k]!, new BlobReader(Buffer.concat(parts)));
    for (const k of alone.keys()) expect(fromBlobs.points(k, 0)).toEqual(trends.points(k, 0));
    const other = new Trends(new TrendShapes([{ bucketMs: 60_000, slots: 5 }]));
    other.load(4, trends.snapshot()[4]!);
    const fresh = new TrendRing(60_000, 5);
    fresh.load(alone.get(4)![0]!.snapshot());
    expect(other.points(4, 0)).toEqual(fresh.points(0));
    expect(other.points(4, 0).map((p) => [p.t, p.n])).toEqual([[420_000, 5], [480_000, 2]]);
  });
});

describe('WardStore memory', () => {
  it('holds the same number of trend points however long it runs: fine recently, coarse back to the horizon', () => {
    const store = new WardStore();
    const rec = (ts: number, v: number): SpoolRecord => ({ t: 'obs', o: { ts, deviceId: 'wb', metric: 'hr', value: v, unit: '/min', quality: 'good', patientId: 'P1' } });
    const day = 24 * 3600;
    let sizeAt6h = 0;
    for (let s = 0; s <= day; s++) {
      store.addRecords([rec(s * 1000, 70 + (s % 10))]);
      if (s === 6 * 3600) sizeAt6h = store.trend('P1', 'hr', 0).length;
    }
    const points = store.trend('P1', 'hr', 0);
    expect(points.length).toBe(sizeAt6h);
    // 30 min of 10 s buckets (and the one exactly 30 min back), and 2 min buckets before that, 6 h back
    const end = day * 1000;
    expect(points.filter((p) => p.t >= end - 30 * 60_000).length).toBe(181);
    expect(points[0]!.t).toBeGreaterThanOrEqual(end - 6 * 3600_000);
    expect(points.find((p) => p.t === end - 3 * 3600_000)).toMatchObject({ n: 120, lo: 70, hi: 79, v: 74.5 });
  });
});
