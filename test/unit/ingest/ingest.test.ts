/**
 * Ingest's own rules, with an in-memory spool: a device message is one record; records reach listeners in spool order whatever
 * order the appends complete in, stamped on one time line that never goes back; a state a device
 * repeats with every message is stored when it changes, and a change the spool refused is tried
 * again with the next message.
 */
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Counters } from '../../../src/core/counters.js';
import { SpoolFullError } from '../../../src/core/errors.js';
import type { Frame, SpoolRecord } from '../../../src/core/types.js';
import { Ingest, type Appender } from '../../../src/ingest/ingest.js';
import type { RejectedEntry, RejectedLog } from '../../../src/ingest/rejected-log.js';
import type { AppendDone } from '../../../src/spool/writer.js';
import { jsonV1Profile } from '../../../devices/json-v1/index.js';

/** A spool whose appends complete when the test says, in any order, or are refused. */
class ManualSpool implements Appender {
  seq = 0;
  readonly pending: Array<{ n: number; resolve: () => void; reject: (e: Error) => void }> = [];
  refuse = false;
  appendThen(payloads: readonly Buffer[], _opts: unknown, done: AppendDone): void {
    if (this.refuse) return queueMicrotask(() => done(new SpoolFullError('spool: full')));
    const lastSeq = (this.seq += payloads.length);
    this.pending.push({ n: payloads.length, resolve: () => done(null, { lastSeq, next: { seq: lastSeq + 1, segment: 1, offset: 0 } }), reject: (e) => done(e) });
  }
  complete(k: number): void {
    this.pending.splice(k, 1)[0]!.resolve();
  }
}

function setup() {
  const spool = new ManualSpool();
  const counters = new Counters();
  const kept: RejectedEntry[] = [];
  const rejected = { write: (e: RejectedEntry) => kept.push(e) } as unknown as RejectedLog;
  const ingest = new Ingest({ spool, placementOf: () => ({ patientId: 'P1', ward: 'w1', bed: '1' }), counters, logger: pino({ level: 'silent' }), rejected });
  const seen: Array<{ first: number; records: SpoolRecord[] }> = [];
  ingest.onRecords((records, first) => seen.push({ first, records: [...records] }));
  const frame = (receivedAt: number, body: object): Frame => ({ transport: 'mqtt', deviceId: 'wb-1', origin: 'vigil/v1/dev/wb-1/obs', receivedAt, payload: Buffer.from(JSON.stringify(body)) });
  return { spool, ingest, seen, frame, counters, kept };
}

/** A counter's value by its labels, from the registry's own reading. */
async function metric(counters: Counters, name: string, labels: Record<string, string>): Promise<number> {
  const m = await counters.registry.getSingleMetric(name)?.get();
  return m?.values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value ?? 0;
}
const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('Ingest', () => {
  it('hands records to listeners in append order, once durable, whatever order the appends complete in', async () => {
    const { spool, ingest, seen, frame } = setup();
    const a = ingest.accept(frame(1000, { obs: { hr: 70 } }), jsonV1Profile, false);
    const b = ingest.accept(frame(2000, { obs: { hr: 71 } }), jsonV1Profile, false);
    const ticks: number[] = [];
    ingest.mark(2500, (ts) => ticks.push(ts));
    spool.complete(1); // the second append is durable first
    await flush();
    expect(seen).toEqual([]);
    expect(ticks).toEqual([]);
    spool.complete(0);
    await Promise.all([a, b]);
    expect(seen.map((s) => s.first)).toEqual([1, 2]);
    expect(seen.map((s) => (s.records[0] as { m: { v: { hr: number } } }).m.v.hr)).toEqual([70, 71]);
    expect(ticks).toEqual([2500]);
  });

  it('stamps records on one time line that never goes back; a trusted device time stays as ts, with the receive time beside it', async () => {
    const { spool, ingest, seen, frame } = setup();
    const T = Date.UTC(2026, 10, 30, 8);
    const done = [
      ingest.accept(frame(T + 5000, { obs: { hr: 70 } }), jsonV1Profile, false),
      // received "earlier" (the wall clock stepped back): stamped at the time line's T + 5000
      ingest.accept(frame(T + 4000, { obs: { hr: 71 } }), jsonV1Profile, false),
      ingest.accept(frame(T + 6000, { ts: T + 36_000, obs: { hr: 72 } }), jsonV1Profile, true),
    ];
    while (spool.pending.length > 0) spool.complete(0);
    await Promise.all(done);
    const msgs = seen.flatMap((s) => s.records).map((r) => (r as { m: { ts: number; rt?: number } }).m);
    expect(msgs.map((m) => [m.ts - T, m.rt === undefined ? undefined : m.rt - T])).toEqual([[5000, undefined], [5000, undefined], [36_000, 6000]]);
  });

  it('stores a state the device repeats with each message when it changes; a refused change is tried again', async () => {
    const { spool, ingest, seen, frame } = setup();
    const send = async (t: number, sensor: string): Promise<void> => {
      const p = ingest.accept(frame(t, { obs: { hr: 70 }, sensor }), jsonV1Profile, false).catch(() => undefined);
      await flush();
      while (spool.pending.length > 0) spool.complete(0);
      await p;
    };
    const T = Date.UTC(2026, 10, 30, 8);
    await send(T + 1, 'ok');
    await send(T + 2, 'ok');
    spool.refuse = true;
    await send(T + 3, 'off'); // refused: not stored, not remembered
    spool.refuse = false;
    await send(T + 4, 'off');
    await send(T + 5, 'off');
    await send(T + 6, 'ok');
    const kinds = seen.flatMap((s) => s.records).flatMap((r) => (r.t === 'tech' ? [`${r.e.ts - T} ${r.e.kind}`] : []));
    expect(kinds).toEqual(['1 sensor_ok', '4 sensor_off', '6 sensor_ok']);
    // every message's observation is stored all the same
    expect(seen.flatMap((s) => s.records).filter((r) => r.t === 'msg')).toHaveLength(5);
  });

  it('tells a caller that asked for it once its records are durable, and hands them to the listeners just after, in order', async () => {
    const { spool, ingest, seen, frame } = setup();
    const heard: string[] = [];
    const seenAt = (): number => seen.length;
    ingest.acceptThen(frame(1000, { obs: { hr: 70 } }), jsonV1Profile, false, (err) => heard.push(`a ${String(err)} seen ${seenAt()}`), 'durable');
    const b = ingest.accept(frame(2000, { obs: { hr: 71 } }), jsonV1Profile, false).then(() => heard.push(`b seen ${seenAt()}`));
    ingest.acceptThen(frame(3000, { obs: { hr: 72 } }), jsonV1Profile, false, (err) => heard.push(`c ${String(err)} seen ${seenAt()}`), 'durable');
    spool.complete(0);
    // durable: its caller hears at once, before any listener has its records
    expect(heard).toEqual(['a null seen 0']);
    spool.complete(1); // c, before b
    expect(heard).toEqual(['a null seen 0', 'c null seen 0']);
    const drained = ingest.drain().then(() => heard.push(`drained seen ${seenAt()}`));
    await flush();
    // a was delivered by its own turn; b, still on its way, holds c back
    expect(seen.map((s) => s.first)).toEqual([1]);
    spool.complete(0);
    await b;
    await drained;
    expect(seen.map((s) => s.first)).toEqual([1, 2, 3]);
    // b's completion delivers b and then c at once; b's caller hears after (a promise)
    expect(heard).toEqual(['a null seen 0', 'c null seen 0', 'b seen 3', 'drained seen 3']);
  });

  it('settles on asking: what is durable and waiting for its turn reaches the listeners at once', async () => {
    const { spool, ingest, seen, frame } = setup();
    let heard = 0;
    ingest.acceptThen(frame(1000, { obs: { hr: 70 } }), jsonV1Profile, false, () => heard++, 'durable');
    ingest.acceptThen(frame(2000, { obs: { hr: 71 } }), jsonV1Profile, false, () => heard++, 'durable');
    spool.complete(0);
    expect(heard).toBe(1);
    expect(seen).toEqual([]);
    ingest.settle();
    expect(seen.map((s) => s.first)).toEqual([1]);
    ingest.settle(); // nothing more is durable: nothing more is delivered
    expect(seen.map((s) => s.first)).toEqual([1]);
    spool.complete(0);
    await flush();
    expect(seen.map((s) => s.first)).toEqual([1, 2]);
    expect(heard).toBe(2);
  });
});

describe('Ingest: a trusted device time far behind receive time', () => {
  const T = Date.UTC(2026, 10, 30, 8);
  /** Sends one frame a second from `T`: device time `deviceAt(i)`; returns each record's [ts, rt] offsets from T, in seconds. */
  async function sent(n: number, deviceAt: (i: number) => number) {
    const t = setup();
    const done: Promise<unknown>[] = [];
    for (let i = 0; i < n; i++) done.push(t.ingest.accept(t.frame(T + i * 1000, { ts: T + deviceAt(i), obs: { spo2: 70 } }), jsonV1Profile, true));
    await flush();
    while (t.spool.pending.length > 0) t.spool.complete(0);
    await Promise.all(done);
    const stamps = t.seen.flatMap((s) => s.records).map((r) => (r as { m: { ts: number; rt?: number } }).m).map((m) => [(m.ts - T) / 1000, m.rt === undefined ? undefined : (m.rt - T) / 1000]);
    return { ...t, stamps };
  }

  /** One frame every `everyMs`, the device clock `skewMs` off; [ts, rt] offsets from T in seconds. */
  async function sentEvery(everyMs: number, n: number, skewMs: number) {
    const t = setup();
    const done: Promise<unknown>[] = [];
    for (let i = 0; i < n; i++) done.push(t.ingest.accept(t.frame(T + i * everyMs, { ts: T + i * everyMs + skewMs, obs: { sbp: 70 } }), jsonV1Profile, true));
    await flush();
    while (t.spool.pending.length > 0) t.spool.complete(0);
    await Promise.all(done);
    return { stamps: t.seen.flatMap((x) => x.records).map((r) => (r as { m: { ts: number; rt?: number } }).m).map((m) => [(m.ts - T) / 1000, m.rt === undefined ? undefined : (m.rt - T) / 1000]) };
  }

  it('steadily so, is a clock behind: after 15 s of it, readings are stamped with their receive time, counted', async () => {
    const { stamps, counters } = await sent(20, (i) => i * 1000 - 90_000);
    // the first 15 s are kept at device time (they might have been a buffer after a gap): history
    expect(stamps.slice(0, 15)).toEqual(Array.from({ length: 15 }, (_, i) => [i - 90, i]));
    // from then on: live, at receive time
    expect(stamps.slice(15)).toEqual([15, 16, 17, 18, 19].map((i) => [i, undefined]));
    expect(await metric(counters, 'vigil_messages_rejected_total', { reason: 'clock_skew_corrected' })).toBe(5);
  });

  it('falling as a buffer catching up, is history: every reading keeps its device time', async () => {
    // ten readings a second of device time, from 300 s behind
    const { stamps } = await sent(25, (i) => i * 10_000 - 300_000);
    expect(stamps.every(([ts, rt], i) => ts === i * 10 - 300 && rt === i)).toBe(true);
  });

  it('a buffer sent after a gap does not hide the slow clock of the readings after it', async () => {
    const t = setup();
    const done: Promise<unknown>[] = [];
    const send = (at: number, deviceAt: number) => done.push(t.ingest.accept(t.frame(T + at, { ts: T + deviceAt, obs: { spo2: 80 } }), jsonV1Profile, true));
    // ten minutes of buffer (a reading every 5 s) sent in one second, the clock 90 s behind
    for (let k = 0; k < 120; k++) send(Math.floor(k / 120 * 1000), k * 5000 - 690_000);
    // then live, one a second, 90 s behind
    for (let i = 1; i <= 20; i++) send(i * 1000, i * 1000 - 90_000);
    await flush();
    while (t.spool.pending.length > 0) t.spool.complete(0);
    await Promise.all(done);
    const live = t.seen.flatMap((x) => x.records).slice(120).map((r) => (r as { m: { ts: number; rt?: number } }).m);
    // 15 s after the buffer ended, taken as a clock behind: stamped with receive time
    expect(live.map((m) => m.rt === undefined)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1 >= 16));
  });

  it('a slow clock on a device that sends every five minutes is taken as one at its second reading', async () => {
    const { stamps } = await sentEvery(300_000, 3, -120_000);
    expect(stamps).toEqual([[-120, 0], [300, undefined], [600, undefined]]);
  });

  it('ends with the first reading on time, and a new episode waits its 15 s again', async () => {
    const deviceAt = (i: number) => (i < 17 || i > 17 ? i * 1000 - 90_000 : i * 1000);
    const { stamps } = await sent(20, deviceAt);
    expect(stamps[16]).toEqual([16, undefined]); // behind: receive time
    expect(stamps[17]).toEqual([17, undefined]); // on time: its own time, which is the receive time
    expect(stamps.slice(18)).toEqual([[18 - 90, 18], [19 - 90, 19]]); // late again: history until steady
  });

  it("is moved onto the gateway's time line while that runs toward a wall clock that stepped", async () => {
    const spool = new ManualSpool();
    const ingest = new Ingest({ spool, placementOf: () => ({ patientId: 'P1', ward: 'w1', bed: '1' }), counters: new Counters(), logger: pino({ level: 'silent' }), timeLineOffset: () => 120_000 });
    const seen: SpoolRecord[] = [];
    ingest.onRecords((records) => seen.push(...records));
    // the wall clock stepped back 2 min: the time line is 2 min ahead of it, and of a device clock that is right
    const p = ingest.accept({ transport: 'mqtt', deviceId: 'wb-1', origin: 'o', receivedAt: T + 120_500, payload: Buffer.from(JSON.stringify({ ts: T, obs: { spo2: 80 } })) }, jsonV1Profile, true);
    await flush();
    spool.complete(0);
    await p;
    expect((seen[0] as { m: { ts: number; rt?: number } }).m).toMatchObject({ ts: T + 120_000, rt: T + 120_500 });
  });

  it('is not looked at for a device whose time is not trusted', async () => {
    const t = setup();
    const p = t.ingest.accept(t.frame(T, { ts: T - 90_000, obs: { spo2: 70 } }), jsonV1Profile, false);
    await flush();
    t.spool.complete(0);
    await p;
    expect((t.seen[0]!.records[0] as { m: { ts: number; rt?: number } }).m).toMatchObject({ ts: T });
  });
});

describe('Ingest: a value outside its plausible range', () => {
  async function accepted(body: object) {
    const t = setup();
    const result = t.ingest.accept(t.frame(1000, body), jsonV1Profile, false);
    await flush();
    while (t.spool.pending.length > 0) t.spool.complete(0);
    return { ...t, result: await result, records: t.seen.flatMap((s) => s.records) };
  }

  it("is dropped alone: the frame's other values are stored, and the drop is counted, named and kept with its payload", async () => {
    const { result, records, counters, kept } = await accepted({ obs: { spo2: 81, hr: 112, temp: 19 } });
    expect(result).toEqual({ accepted: true, records: 1 });
    expect(records).toEqual([{ t: 'msg', m: { ts: 1000, deviceId: 'wb-1', v: { spo2: 81, hr: 112 }, patientId: 'P1', ward: 'w1', bed: '1' } }]);
    expect(await metric(counters, 'vigil_values_dropped_total', { reason: 'implausible_value' })).toBe(1);
    expect(await metric(counters, 'vigil_messages_rejected_total', { reason: 'implausible_value' })).toBe(0);
    expect(kept).toHaveLength(1);
    expect(kept[0]).toMatchObject({ device: 'wb-1', origin: 'vigil/v1/dev/wb-1/obs', reason: 'implausible_value' });
    expect(kept[0]!.message).toMatch(/^value dropped, the frame's other values kept: temp: 19 outside/);
    expect(kept[0]!.payload?.toString()).toContain('"temp":19');
  });

  it("leaves a frame's events stored when every value is dropped", async () => {
    const { result, records, counters } = await accepted({ obs: { spo2: 140, hr: -3 }, sensor: 'off' });
    expect(result).toEqual({ accepted: true, records: 1 });
    expect(records).toEqual([{ t: 'tech', e: expect.objectContaining({ deviceId: 'wb-1', kind: 'sensor_off' }) }]);
    expect(await metric(counters, 'vigil_values_dropped_total', { reason: 'implausible_value' })).toBe(2);
  });

  it('refuses a frame left with nothing, as before, and leaves no mark on the time line', async () => {
    const { result, records, counters, kept } = await accepted({ obs: { spo2: 140 } });
    expect(result).toEqual({ accepted: false, reason: 'implausible_value' });
    expect(records).toEqual([]);
    expect(await metric(counters, 'vigil_messages_rejected_total', { reason: 'implausible_value' })).toBe(1);
    expect(await metric(counters, 'vigil_values_dropped_total', { reason: 'implausible_value' })).toBe(0);
    expect(kept.map((k) => k.message)).toEqual([expect.stringMatching(/^spo2: 140 outside/)]);
  });
});

describe('Ingest.manual', () => {
  const T = Date.UTC(2026, 10, 30, 8);
  const value = (metric: 'sbp' | 'temp' | 'acvpu', v: number, o: { deviceId?: string; ts?: number } = {}) =>
    ({ ts: o.ts ?? T, deviceId: o.deviceId ?? 'manual:kim', patientId: 'P2', ward: 'w1', bed: '2', metric, value: v, unit: '', quality: 'good' }) as const;

  async function stored(obs: Parameters<Ingest['manual']>[0]): Promise<SpoolRecord[]> {
    const { spool, ingest, seen } = setup();
    const done = ingest.manual(obs);
    // one append, made before manual() first waits
    expect(spool.pending).toHaveLength(1);
    spool.complete(0);
    await done;
    return seen.flatMap((s) => s.records);
  }

  it('stores a set entered at once as one reading, as a device message is, so NEWS2 scores it together', async () => {
    expect(await stored([value('sbp', 95), value('temp', 38.4), value('acvpu', 2)])).toEqual([
      { t: 'msg', m: { ts: T, deviceId: 'manual:kim', v: { sbp: 95, temp: 38.4, acvpu: 2 }, patientId: 'P2', ward: 'w1', bed: '2' } },
    ]);
  });

  it('stores a single value, or values of different devices or times, as observations of their own', async () => {
    expect(await stored([value('temp', 37)])).toEqual([{ t: 'obs', o: value('temp', 37) }]);
    const apart = [value('sbp', 95), value('temp', 37, { deviceId: 'manual:ali' }), value('acvpu', 0, { ts: T + 1000 })];
    expect(await stored(apart)).toEqual(apart.map((o) => ({ t: 'obs', o })));
  });
});
