import { describe, expect, it } from 'vitest';
import type { AlarmTransition } from '../../../src/core/types.js';
import { AlarmLog, News2Log, type News2Point } from '../../../src/web/history-log.js';

const BANDS = ['none', 'low', 'low-medium', 'medium', 'high'] as const;
const point = (k: number): News2Point => ({ ts: 1_000 * k, score: k % 20, band: BANDS[k % 5]!, complete: k % 2 === 0 });

describe('News2Log', () => {
  it('gives back every change as it was pushed, oldest first, while it grows', () => {
    const log = new News2Log(1000);
    const all = Array.from({ length: 300 }, (_, k) => point(k));
    for (const p of all) log.push(p);
    expect(log.length).toBe(300);
    expect(log.since(Number.NEGATIVE_INFINITY)).toEqual(all);
    expect(log.since(250_000)).toEqual(all.slice(250));
  });

  it('keeps the newest `max` once full, across the ring wrapping many times', () => {
    const log = new News2Log(7);
    for (let k = 0; k < 103; k++) log.push(point(k));
    expect(log.length).toBe(7);
    expect(log.since(0)).toEqual(Array.from({ length: 7 }, (_, i) => point(96 + i)));
  });

  it('drops changes older than a cutoff, and keeps taking new ones after', () => {
    const log = new News2Log(5);
    for (let k = 0; k < 8; k++) log.push(point(k));
    log.dropBefore(6_000);
    expect(log.since(0).map((p) => p.ts)).toEqual([6_000, 7_000]);
    log.dropBefore(10_000);
    expect(log.length).toBe(0);
    for (let k = 10; k < 17; k++) log.push(point(k));
    expect(log.since(0)).toEqual([12, 13, 14, 15, 16].map(point));
  });

  it('round-trips through its JSON form', () => {
    const points = Array.from({ length: 40 }, (_, k) => point(k));
    const log = News2Log.from(points, 30);
    expect(JSON.parse(JSON.stringify(log.since(Number.NEGATIVE_INFINITY)))).toEqual(points.slice(10));
  });
});

describe('AlarmLog', () => {
  const transition = (k: number): AlarmTransition => ({
    ts: 60_000 * k, id: `A${Math.floor(k / 3)}`, kind: 'limit', priority: 'high', state: (['raised', 'acknowledged', 'resolved'] as const)[k % 3]!,
    metric: 'spo2', deviceId: 'W-1', reason: `SpO2 ${80 + k} % below 90 %`, patientId: 'P1', ward: 'W', bed: '1', value: 80 + k, ...(k % 3 === 1 ? { by: 'nurse.a' } : {}),
  });

  it('gives back each transition whole, the newest `max`, and ages out the old', () => {
    const log = new AlarmLog(10);
    for (let k = 0; k < 25; k++) log.push(transition(k));
    expect(log.since(0)).toEqual(Array.from({ length: 10 }, (_, i) => transition(15 + i)));
    log.dropBefore(60_000 * 22);
    expect(log.since(0)).toEqual([22, 23, 24].map(transition));
    expect(AlarmLog.from(log.since(0), 2).since(0)).toEqual([23, 24].map(transition));
  });
});
