import { describe, expect, it } from 'vitest';
import type { AlarmTransition } from '../../../src/core/types.js';
import { BlobReader, BlobWriter } from '../../../src/core/blobs.js';
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

  it('gives every time back exactly, as 32-bit offsets while they fit and as floats once one does not', () => {
    const now = Date.UTC(2026, 10, 30, 12);
    const day = 86_400_000;
    const at = (ts: number, k: number): News2Point => ({ ...point(k), ts });
    const log = new News2Log(3);
    // out of order, then across 30 days of a running gateway: the base moves, the times stay exact
    const times = [now, now - 5_000, now + 1, now + 10 * day, now + 20 * day, now + 30 * day, now + 30 * day + 7];
    times.forEach((t, k) => log.push(at(t, k)));
    expect(log.wide).toBe(false);
    expect(log.since(Number.NEGATIVE_INFINITY).map((p) => p.ts)).toEqual(times.slice(4));
    // a device clock years off, with entries weeks apart held: floats from then on
    log.push(at(now - 400 * day, 7));
    expect(log.wide).toBe(true);
    log.push(at(now + 0.25, 8));
    expect(log.since(Number.NEGATIVE_INFINITY).map((p) => p.ts)).toEqual([times[6], now - 400 * day, now + 0.25]);
    const blobs = new BlobWriter();
    const saved = JSON.parse(JSON.stringify(log.snapshot(blobs))) as Parameters<typeof News2Log.restore>[0];
    expect(News2Log.restore(saved, 3, new BlobReader(Buffer.concat([...blobs.parts()]))).since(Number.NEGATIVE_INFINITY)).toEqual(log.since(Number.NEGATIVE_INFINITY));
  });

  it('is saved 6 bytes a change from a ring that has wrapped round, and reads a save with float times (state format 3)', () => {
    const log = new News2Log(7);
    const now = Date.UTC(2026, 10, 30, 12);
    for (let k = 0; k < 12; k++) log.push({ ...point(k), ts: now + 1_000 * k });
    const blobs = new BlobWriter();
    const saved = JSON.parse(JSON.stringify(log.snapshot(blobs))) as Parameters<typeof News2Log.restore>[0];
    const bytes = Buffer.concat([...blobs.parts()]);
    expect(bytes).toHaveLength(7 * 6);
    expect(News2Log.restore(saved, 7, new BlobReader(bytes)).since(0)).toEqual(log.since(0));
    // the older layout: float times, then scores, then band and completeness
    const kept = log.since(0);
    const older = Buffer.alloc(7 * 10);
    Buffer.from(new Float64Array(kept.map((p) => p.ts)).buffer).copy(older, 0);
    kept.forEach((p, k) => {
      older[56 + k] = p.score;
      older[63 + k] = BANDS.indexOf(p.band) | (p.complete ? 0x80 : 0);
    });
    expect(News2Log.restore({ count: 7, data: { blob: 0, bytes: 70 } }, 7, new BlobReader(older)).since(0)).toEqual(kept);
    expect(() => News2Log.restore({ count: 7, base: now, data: { blob: 0, bytes: 70 } }, 7, new BlobReader(older))).toThrow('NEWS2 log of 70 bytes for 7 changes');
  });

  it('keeps a time with a fraction of a ms exactly', () => {
    const log = new News2Log(4);
    for (const ts of [1_700_000_000_000.5, 1_700_000_000_001, 0.1, 0.30000000000000004]) log.push({ ...point(1), ts });
    expect(log.since(Number.NEGATIVE_INFINITY).map((p) => p.ts)).toEqual([1_700_000_000_000.5, 1_700_000_000_001, 0.1, 0.30000000000000004]);
    expect(log.wide).toBe(true);
    // whole ms apart from a first time with a fraction: offsets from it, saved and read back so
    const half = News2Log.from([0.5, 1.5, 2_000.5].map((ts) => ({ ...point(1), ts })), 4);
    expect(half.wide).toBe(false);
    const blobs = new BlobWriter();
    const saved = JSON.parse(JSON.stringify(half.snapshot(blobs))) as Parameters<typeof News2Log.restore>[0];
    expect(saved).toMatchObject({ count: 3, base: 0.5 });
    expect(News2Log.restore(saved, 4, new BlobReader(Buffer.concat([...blobs.parts()]))).since(0).map((p) => p.ts)).toEqual([0.5, 1.5, 2_000.5]);
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

  it('keeps every field as it was written, in the order it was written, whatever the text', () => {
    const written: AlarmTransition[] = [
      // as the alarm manager writes them: an escalation step, a Unicode reason, a fractional value
      { ts: 1_700_000_000_123, id: 'P1:spo2-low:4', kind: 'limit', priority: 'high', state: 'raised', reason: 'SpO₂ 84 % < 90 % — "low" for 15 s', patientId: 'P1', ward: 'W', bed: '1', metric: 'spo2', deviceId: 'W-1', value: 84.5, escalation: { tier: 1, of: 3, name: 'Bedside nurse', recipients: ['nurse.a', 'rapid-response'], channels: ['station', 'mqtt'] } },
      { ts: 1_700_000_001_000, id: 'device:B-2:battery', kind: 'technical', priority: 'low', state: 'cleared', reason: 'battery ok\nagain' },
      { ts: 1_700_000_002_000, id: 'P1:news2:1', kind: 'news2', priority: 'medium', state: 'acknowledged', reason: 'NEWS2 5', patientId: 'P1', by: 'nurse.a', value: 0 },
    ];
    const log = new AlarmLog(10);
    for (const a of written) log.push(a);
    const back = log.since(0);
    expect(back).toEqual(written);
    expect(back.map((a) => JSON.stringify(a))).toEqual(written.map((a) => JSON.stringify(a)));
    // a name or field this build does not know is kept as it is
    const odd = { ts: 5, id: 'x', kind: 'future', priority: 'urgent', state: 'paused', reason: 'r', note: { a: [1, null] } } as unknown as AlarmTransition;
    log.push(odd);
    expect(log.since(0).at(-1)).toEqual(odd);
  });

  it('writes the transitions of its own patient without the patient id, and gives them back whole', () => {
    const mine = (k: number): AlarmTransition => ({ ...transition(k), id: `P1:limit:spo2:low:${k}` });
    const others: AlarmTransition[] = [
      // another patient's, or an id of another shape: written whole
      { ...transition(7), id: 'P2:limit:spo2:low:1', patientId: 'P2' },
      { ...transition(8), id: 'device:W-1:battery' },
      { ...transition(9), id: 'P1' },
    ];
    const written = [...Array.from({ length: 6 }, (_, k) => mine(k)), ...others];
    const bytes = (log: AlarmLog): number => {
      const blobs = new BlobWriter();
      log.snapshot(blobs);
      return Buffer.concat([...blobs.parts()]).length;
    };
    const own = AlarmLog.from(written, 20, 'P1');
    const plain = AlarmLog.from(written, 20);
    expect(own.since(0)).toEqual(written);
    // "P1" and "P1:" left out of each of the six
    expect(bytes(plain) - bytes(own)).toBe(6 * (JSON.stringify('P1').length - '0'.length + 'P1:'.length));
    // a log saved whole (before patients were left out) is read by its patient's log as it was
    const blobs = new BlobWriter();
    const saved = plain.snapshot(blobs);
    expect(AlarmLog.restore(saved, 20, new BlobReader(Buffer.concat([...blobs.parts()])), 'P1').since(0)).toEqual(written);
  });

  it('holds no more text than its entries and a quarter to spare, however many pass through', () => {
    const log = new AlarmLog(50);
    let most = 0;
    for (let k = 0; k < 20_000; k++) {
      const a = { ...transition(k), reason: 'x'.repeat(k % 400) };
      log.push(a);
      most = Math.max(most, log.textBytes);
    }
    const kept = log.since(0);
    expect(kept).toEqual(Array.from({ length: 50 }, (_, i) => ({ ...transition(19_950 + i), reason: 'x'.repeat((19_950 + i) % 400) })));
    const live = kept.reduce((n, a) => n + Buffer.byteLength(JSON.stringify(a)), 0);
    expect(most).toBeLessThan(1.25 * live + 2 * 400 + 256);
    // emptied by age, it gives its room back at the next entry
    log.dropBefore(Number.POSITIVE_INFINITY);
    log.push({ ...transition(30_000), reason: 'short' });
    expect(log.textBytes).toBeLessThanOrEqual(256);
    expect(log.since(0)).toEqual([{ ...transition(30_000), reason: 'short' }]);
  });

  it('is saved as its text among the blobs and comes back whole; a damaged entry is named', () => {
    const log = new AlarmLog(20);
    for (let k = 0; k < 47; k++) log.push({ ...transition(k), reason: `r${'é'.repeat(k % 5)}` });
    const blobs = new BlobWriter();
    const state = JSON.parse(JSON.stringify(log.snapshot(blobs))) as ReturnType<AlarmLog['snapshot']>;
    const bytes = Buffer.concat([...blobs.parts()]);
    const back = AlarmLog.restore(state, 20, new BlobReader(bytes));
    expect(back.since(0)).toEqual(log.since(0));
    back.push(transition(47));
    expect(back.since(0).map((a) => a.ts)).toEqual(Array.from({ length: 20 }, (_, i) => 60_000 * (28 + i)));
    // a list (an older save) still restores, and a smaller max keeps the newest
    expect(AlarmLog.restore(log.since(0), 5).since(0)).toEqual(log.since(0).slice(-5));
    const damaged = Buffer.from(bytes);
    damaged[damaged.length - 3] = 0x7b; // "{" inside the last entry's closing
    expect(() => AlarmLog.restore(state, 20, new BlobReader(damaged))).toThrow(/alarm log entry 20 of 20 is not a transition/);
    const longer = { ...(state as { count: number; data: { blob: number; bytes: number } }), data: { blob: 0, bytes: bytes.length + 2 } };
    expect(() => AlarmLog.restore(longer, 20, new BlobReader(Buffer.concat([bytes, Buffer.from('[]')])))).toThrow(/2 bytes more/);
  });
});
