import { spawnSync } from 'node:child_process';
import { mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Counters } from '../../../src/core/counters.js';
import { ConfigError, SpoolFullError } from '../../../src/core/errors.js';
import { Spool, type SpoolOptions } from '../../../src/spool/spool.js';
import type { SpoolStats } from '../../../src/spool/types.js';
import { memoryLogger, payloadFor, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
const open: Spool[] = [];

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
  await cleanup();
});

async function openSpool(extra: Partial<SpoolOptions> = {}): Promise<Spool> {
  const s = await Spool.open({ dir, maxBytes: 64 * 1024 * 1024, logger: memoryLogger().logger, ...extra });
  open.push(s);
  return s;
}

async function reopen(s: Spool, extra: Partial<SpoolOptions> = {}): Promise<Spool> {
  await s.close();
  return openSpool(extra);
}

describe('Spool append and read', () => {
  it('round-trips records in order, across close and reopen', async () => {
    let s = await openSpool();
    expect(await s.append([payloadFor(1), payloadFor(2)])).toBe(2);
    expect(await s.append([payloadFor(3)])).toBe(3);
    s = await reopen(s);
    expect(s.stats().lastSeq).toBe(3);
    expect(await s.append([payloadFor(4)])).toBe(4);
    const r = await s.reader('influx');
    const batch = await r.read(100);
    expect(batch.entries.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    batch.entries.forEach((e) => expect(e.payload.equals(payloadFor(e.seq))).toBe(true));
    expect(batch.next.seq).toBe(5);
  });

  it('groups concurrent appends into few fsyncs and keeps their order', async () => {
    const s = await openSpool({ commitIntervalMs: 5 });
    const n = 300;
    const seqs = await Promise.all(Array.from({ length: n }, (_, i) => s.append([payloadFor(i + 1)])));
    // Each caller's seq is its position in call order.
    expect(seqs).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    const st = s.stats();
    expect(st.appended).toBe(n);
    expect(st.fsyncs).toBeLessThan(n / 10);
    const r = await s.reader('r');
    const b = await r.read(n);
    expect(b.entries.map((e) => e.payload.toString())).toEqual(Array.from({ length: n }, (_, i) => payloadFor(i + 1).toString()));
  });

  it('counts the groups it made durable, and tells /metrics the records and groups', async () => {
    const s = await openSpool({ commitIntervalMs: 5 });
    const c = new Counters();
    s.registerMetrics(c);
    const n = 300;
    await Promise.all(Array.from({ length: n }, (_, i) => s.append([payloadFor(i + 1)])));
    const together = s.stats().groups;
    expect(together).toBeGreaterThanOrEqual(1);
    expect(together).toBeLessThan(n / 10);
    // one at a time: a group each
    for (let i = 0; i < 3; i++) await s.append([payloadFor(n + i + 1), payloadFor(n + i + 2)]);
    expect(s.stats().groups).toBe(together + 3);
    const text = await c.registry.metrics();
    expect(text).toContain(`vigil_spool_records_appended_total ${n + 6}`);
    expect(text).toContain(`vigil_spool_groups_total ${together + 3}`);
  });

  it('tells every append of a group it is durable though one caller throws on hearing it, and logs that one', async () => {
    const { logger, lines } = memoryLogger();
    const s = await Spool.open({ dir, maxBytes: 64 * 1024 * 1024, logger, commitIntervalMs: 5 });
    open.push(s);
    const heard: number[] = [];
    s.appendThen([payloadFor(1)], undefined, (err, a) => heard.push(err ? -1 : a!.lastSeq));
    s.appendThen([payloadFor(2)], undefined, () => {
      throw new Error('caller bug');
    });
    const third = s.appendRecords([payloadFor(3)]);
    expect((await third).lastSeq).toBe(3);
    expect(heard).toEqual([1]);
    expect(lines.some((l) => l.err === 'caller bug' && /a caller failed/.test(String(l.msg)))).toBe(true);
    expect(await s.append([payloadFor(4)])).toBe(4);
  });

  it('refuses bad input with clear errors and keeps working', async () => {
    const s = await openSpool();
    await expect(s.append(['text' as unknown as Buffer])).rejects.toThrow(TypeError);
    await expect(s.append('x' as unknown as Buffer[])).rejects.toThrow(TypeError);
    await expect(s.reader('../escape')).rejects.toThrow(RangeError);
    await expect(s.reader('')).rejects.toThrow(/reader name/);
    expect(await s.append([])).toBe(0);
    expect(await s.append([Buffer.alloc(0)])).toBe(1);
    const r = await s.reader('r');
    await expect(r.read(0)).rejects.toThrow(RangeError);
    await expect(r.commit({ seq: 99, segment: 1, offset: 0 })).rejects.toThrow(/beyond the last record/);
    await expect(r.commit({ seq: 2, segment: 7, offset: 10 })).rejects.toThrow(/no such segment/);
    expect((await r.read(5)).entries.map((e) => e.payload.length)).toEqual([0]);
  });

  it('rejects a group whose write fails, without a gap in the numbering, and goes on', async () => {
    const s = await openSpool({ segmentBytes: 100 });
    expect(await s.append([payloadFor(1, 120)])).toBe(1);
    // The next group must start segment 2; a directory squatting on its name makes that fail.
    const squatter = join(dir, '00000000000000000002.seg');
    await mkdir(squatter);
    await expect(s.append([payloadFor(2, 50)])).rejects.toThrow(/EEXIST/);
    expect(s.stats().lastSeq).toBe(1);
    await rmdir(squatter);
    expect(await s.append([payloadFor(2, 50)])).toBe(2);
    const r = await s.reader('r');
    expect((await r.read(10)).entries.map((e) => e.payload.equals(payloadFor(e.seq, e.seq === 1 ? 120 : 50)))).toEqual([true, true]);
  });

  it('reads payloads larger than the first chunk', async () => {
    const s = await openSpool();
    const big = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
    await s.append([payloadFor(1), big, payloadFor(3)]);
    const r = await s.reader('r');
    const b = await r.read(1);
    expect(b.entries.map((e) => e.seq)).toEqual([1]);
    await r.commit(b.next);
    const rest = await r.read(10);
    expect(rest.entries.map((e) => e.seq)).toEqual([2, 3]);
    expect(rest.entries[0]!.payload.equals(big)).toBe(true);
  });

  it('rejects bad options as ConfigError naming the setting', async () => {
    await expect(Spool.open({ dir, maxBytes: 0 })).rejects.toThrow(ConfigError);
    await expect(Spool.open({ dir, maxBytes: 1000, warnRatio: 2 })).rejects.toThrow(/spool.warnRatio/);
    await expect(Spool.open({ dir: '', maxBytes: 1000 })).rejects.toThrow(/spool.dir/);
  });

  it('lets only one open spool use a directory', async () => {
    const s = await openSpool();
    await expect(Spool.open({ dir, maxBytes: 1000, logger: memoryLogger().logger })).rejects.toThrow(/in use by process/);
    await s.close();
    await s.close(); // idempotent
    await expect(s.append([payloadFor(1)])).rejects.toThrow(/after close/);
    await openSpool(); // released by close
  });

  it('flushes appends still waiting for the commit window at close', async () => {
    let s = await openSpool({ commitIntervalMs: 10_000 });
    const p = s.append([payloadFor(1)]);
    await s.close();
    expect(await p).toBe(1);
    s = await openSpool();
    expect(s.stats().lastSeq).toBe(1);
  });
});

describe('Spool readers', () => {
  it('re-reads the same batch until commit, and a reopened spool continues from the cursor', async () => {
    let s = await openSpool();
    await s.append(Array.from({ length: 10 }, (_, i) => payloadFor(i + 1)));
    let r = await s.reader('influx');
    const a = await r.read(4);
    const again = await r.read(4);
    expect(again.entries.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(a.next).toEqual(again.next);
    expect(r.lag()).toBe(10);
    await r.commit(a.next);
    await r.commit(a.next); // committing twice changes nothing
    expect(r.lag()).toBe(6);
    expect((await r.read(4)).entries.map((e) => e.seq)).toEqual([5, 6, 7, 8]);
    s = await reopen(s);
    r = await s.reader('influx');
    expect(r.lag()).toBe(6);
    const b = await r.read(100);
    expect(b.entries.map((e) => e.seq)).toEqual([5, 6, 7, 8, 9, 10]);
    await r.commit(b.next);
    expect(r.lag()).toBe(0);
    expect((await r.read(100)).entries).toEqual([]);
  });

  it('keeps two readers independent', async () => {
    const s = await openSpool();
    await s.append(Array.from({ length: 6 }, (_, i) => payloadFor(i + 1)));
    const fast = await s.reader('fast');
    const slow = await s.reader('slow');
    expect(await s.reader('fast')).toBe(fast);
    await fast.commit((await fast.read(5)).next);
    await slow.commit((await slow.read(2)).next);
    expect((await fast.read(10)).entries.map((e) => e.seq)).toEqual([6]);
    expect((await slow.read(10)).entries.map((e) => e.seq)).toEqual([3, 4, 5, 6]);
    expect([fast.lag(), slow.lag()]).toEqual([1, 4]);
  });

  it('waitForData resolves on a new append, and on abort', async () => {
    const s = await openSpool();
    const r = await s.reader('r');
    const ac = new AbortController();
    const aborted = r.waitForData(ac.signal);
    ac.abort();
    await aborted;
    let woke = false;
    const w = r.waitForData().then(() => (woke = true));
    for (let i = 0; i < 5; i++) await new Promise((res) => setImmediate(res));
    expect(woke).toBe(false);
    await s.append([payloadFor(1)]);
    await w;
    expect(woke).toBe(true);
    await r.waitForData(); // data is there: resolves at once
    await r.commit((await r.read(10)).next);
    const atClose = r.waitForData();
    await s.close();
    await atClose; // a closing spool releases its waiting readers
    await expect(r.read(1)).rejects.toThrow(/spool is closed/);
  });

  it('reads large batches across segment boundaries', async () => {
    const s = await openSpool({ segmentBytes: 64 * 1024 });
    const n = 5000;
    for (let i = 0; i < n; i += 500) await s.append(Array.from({ length: 500 }, (_, k) => payloadFor(i + k + 1, 200)));
    expect(s.stats().segments).toBeGreaterThan(5);
    const r = await s.reader('r');
    const seen: number[] = [];
    for (;;) {
      const b = await r.read(1500);
      if (b.entries.length === 0) break;
      for (const e of b.entries) {
        expect(e.payload.equals(payloadFor(e.seq, 200))).toBe(true);
        seen.push(e.seq);
      }
      await r.commit(b.next);
    }
    expect(seen).toEqual(Array.from({ length: n }, (_, i) => i + 1));
  });
});

describe('Spool retention and size bound', () => {
  it('deletes a segment only once every reader has committed past it', async () => {
    const s = await openSpool({ segmentBytes: 1000, maxBytes: 1024 * 1024 });
    const a = await s.reader('a');
    const b = await s.reader('b');
    for (let i = 0; i < 40; i++) await s.append([payloadFor(i + 1, 180)]);
    const segs = s.stats().segments;
    expect(segs).toBeGreaterThan(4);
    const all = await a.read(1000);
    await a.commit(all.next);
    expect(s.stats().segments).toBe(segs); // b still needs them
    const half = await b.read(20);
    await b.commit(half.next);
    const mid = s.stats().segments;
    expect(mid).toBeLessThan(segs);
    expect(mid).toBeGreaterThan(1);
    await b.commit((await b.read(1000)).next);
    expect(s.stats().segments).toBe(1); // the active segment stays
    const files = (await readdir(dir)).filter((f) => f.endsWith('.seg'));
    expect(files.length).toBe(1);
    expect(s.stats().bytes).toBe((await readFile(join(dir, files[0]!))).length);
  });

  it('deletes nothing while no reader exists, and counts a reader known only by its cursor file', async () => {
    let s = await openSpool({ segmentBytes: 1000 });
    for (let i = 0; i < 30; i++) await s.append([payloadFor(i + 1, 180)]);
    const segs = s.stats().segments;
    expect(segs).toBeGreaterThan(3);
    const r = await s.reader('a');
    await r.commit((await r.read(1000)).next);
    expect(s.stats().segments).toBe(1);
    for (let i = 0; i < 30; i++) await s.append([payloadFor(i + 31, 180)]);
    s = await reopen(s);
    const before = s.stats().segments;
    const other = await s.reader('b');
    await other.commit((await other.read(1000)).next);
    // 'a' was not opened in this run, but its cursor file still protects its data.
    expect(s.stats().segments).toBe(before);
    const a = await s.reader('a');
    expect((await a.read(1000)).entries[0]!.seq).toBe(31);
  });

  it('a holder alone deletes nothing, also after a reopen that does not name it; with a delivering reader it holds its data back', async () => {
    let s = await openSpool({ segmentBytes: 1000, holders: ['state'] });
    for (let i = 0; i < 30; i++) await s.append([payloadFor(i + 1, 180)]);
    const segs = s.stats().segments;
    const state = await s.reader('state');
    await state.commit((await state.read(1000)).next);
    expect(s.stats().segments).toBe(segs);
    s = await reopen(s, { segmentBytes: 1000 }); // no `holders`: the cursor file says it
    expect(s.stats().segments).toBe(segs);
    // A reader that delivers data lets retention work, down to what the holder still needs.
    const writer = await s.reader('writer');
    await writer.commit((await writer.read(1000)).next);
    expect(s.stats().segments).toBe(1);
    for (let i = 30; i < 60; i++) await s.append([payloadFor(i + 1, 180)]);
    const held = (await s.reader('state')).position();
    await writer.commit((await writer.read(1000)).next);
    expect(s.stats().segments).toBeGreaterThan(1);
    const oldest = s.scan('look', { seq: 1, segment: 1, offset: 0 });
    expect((await oldest.read(1)).entries[0]!.seq).toBeLessThanOrEqual(held.seq);
    await oldest.release();
  });

  it('appends with reserve go past maxBytes by the reserve, no further', async () => {
    const s = await openSpool({ maxBytes: 20_000, segmentBytes: 5000 });
    while (await s.append([payloadFor(1, 400)]).then(() => true, () => false));
    expect(s.stats().full).toBe(true);
    let extra = 0;
    while (await s.append([payloadFor(1, 400)], { reserve: true }).then(() => true, () => false)) extra++;
    // 420 bytes a record; the reserve is 16 KiB at this size
    expect(extra).toBeGreaterThan(30);
    expect(s.stats().bytes).toBeLessThanOrEqual(20_000 + s.reserveBytes());
  });

  it('refuses appends past maxBytes with SpoolFullError, signals it, and recovers after commit', async () => {
    const events: Array<[string, SpoolStats]> = [];
    const s = await openSpool({ maxBytes: 8000, segmentBytes: 2000, warnRatio: 0.5 });
    for (const e of ['nearFull', 'full', 'recovered'] as const) s.on(e, (st) => events.push([e, st]));
    const r = await s.reader('r');
    let accepted = 0;
    let refusal: unknown;
    for (let i = 0; i < 100 && refusal === undefined; i++) {
      await s.append([payloadFor(i + 1, 170)]).then(
        () => accepted++,
        (err: unknown) => (refusal = err),
      );
    }
    expect(refusal).toBeInstanceOf(SpoolFullError);
    const st = s.stats();
    expect(st.full).toBe(true);
    expect(st.nearFull).toBe(true);
    expect(st.refused).toBe(1);
    expect(st.bytes).toBeLessThanOrEqual(8000);
    expect(st.lastSeq).toBe(accepted);
    expect(events.map((e) => e[0])).toEqual(['nearFull', 'full']);
    await expect(s.append([payloadFor(0, 170)])).rejects.toThrow(SpoolFullError);
    expect(s.stats().refused).toBe(2);
    // A small append that still fits, then another refusal: still one `full` announced, and the
    // spool keeps reporting itself full (it is at its bound) rather than flapping.
    expect(8000 - s.stats().bytes).toBe(20); // 42 records of 190 bytes
    await s.append([Buffer.alloc(0)]); // a 20-byte record fits exactly
    expect(s.stats().full).toBe(true);
    await expect(s.append([payloadFor(0, 170)])).rejects.toThrow(SpoolFullError);
    expect(events.map((e) => e[0])).toEqual(['nearFull', 'full']);
    await r.commit((await r.read(1000)).next);
    const after = s.stats();
    expect(after.full).toBe(false);
    expect(after.nearFull).toBe(false);
    expect(after.bytes).toBeLessThan(2000 + 200);
    expect(events.map((e) => e[0])).toEqual(['nearFull', 'full', 'recovered']);
    expect(await s.append([payloadFor(1, 170)])).toBe(accepted + 2); // after the empty record
  });

  it('reports full until retention frees space, then only near full while still over the ratio', async () => {
    const events: string[] = [];
    const s = await openSpool({ maxBytes: 8000, segmentBytes: 2000, warnRatio: 0.25 });
    for (const e of ['nearFull', 'full', 'recovered'] as const) s.on(e, () => events.push(e));
    const r = await s.reader('r');
    let refused = false;
    for (let i = 0; i < 100 && !refused; i++) await s.append([payloadFor(i + 1, 170)]).catch(() => (refused = true));
    expect(s.stats()).toMatchObject({ full: true, nearFull: true });
    // Commit about half: the older segments go, the spool stays over 25 %.
    const half = await r.read(20);
    await r.commit(half.next);
    await expect.poll(() => s.stats().full).toBe(false);
    expect(s.stats().nearFull).toBe(true);
    expect(events).toEqual(['nearFull', 'full', 'recovered']);
  });

  it('clears full when a later, smaller append fits below the warning ratio', async () => {
    const events: string[] = [];
    const s = await openSpool({ maxBytes: 4000, segmentBytes: 1000, warnRatio: 1 });
    for (const e of ['nearFull', 'full', 'recovered'] as const) s.on(e, () => events.push(e));
    await s.append([payloadFor(1, 2500)]);
    await expect(s.append([payloadFor(2, 2000)])).rejects.toThrow(SpoolFullError);
    expect(s.stats().full).toBe(true);
    expect(await s.append([payloadFor(2, 100)])).toBe(2);
    expect(s.stats().full).toBe(false);
    expect(events).toEqual(['full', 'recovered']);
  });

  it('continues numbering after retention deleted every record and the spool reopened', async () => {
    let s = await openSpool({ segmentBytes: 500 });
    const r = await s.reader('r');
    for (let i = 0; i < 20; i++) await s.append(Array.from({ length: 3 }, (_, k) => payloadFor(i * 3 + k + 1, 180)));
    await r.commit((await r.read(1000)).next);
    expect(s.stats().segments).toBe(1);
    s = await reopen(s);
    expect(s.stats().lastSeq).toBe(60);
    expect(await s.append([payloadFor(61, 180)])).toBe(61);
    const again = await s.reader('r');
    expect((await again.read(10)).entries.map((e) => e.seq)).toEqual([61]);
  });

  it('removeReader lets go of the data a departed reader held', async () => {
    const s = await openSpool({ segmentBytes: 500 });
    const keep = await s.reader('keep');
    await s.reader('gone');
    for (let i = 0; i < 20; i++) await s.append([payloadFor(i + 1, 180)]);
    await keep.commit((await keep.read(100)).next);
    const held = s.stats().segments;
    expect(held).toBeGreaterThan(3);
    expect(await s.removeReader('gone')).toBe(true);
    expect(await s.removeReader('never')).toBe(false);
    expect(s.stats().segments).toBe(1);
    expect((await readdir(join(dir, 'cursors'))).sort()).toEqual(['keep.json']);
  });

  it('a throwing event listener does not fail the append that changed the state', async () => {
    const { logger, lines } = memoryLogger();
    const s = await openSpool({ maxBytes: 4000, segmentBytes: 1000, warnRatio: 0.1, logger });
    s.on('nearFull', () => {
      throw new Error('listener bug');
    });
    expect(await s.append([payloadFor(1, 500)])).toBe(1);
    expect(s.stats().nearFull).toBe(true);
    expect(lines.some((l) => l.msg === 'spool: event listener threw')).toBe(true);
  });

  it('takes over the lock of a process that is gone', async () => {
    const dead = spawnSync(process.execPath, ['-e', 'process.pid']).pid;
    await writeFile(join(dir, 'LOCK'), String(dead));
    const s = await openSpool();
    expect(await s.append([payloadFor(1)])).toBe(1);
    expect(JSON.parse(await readFile(join(dir, 'LOCK'), 'utf8'))).toMatchObject({ pid: process.pid });
  });

  it('continues at the oldest segment for a cursor whose segment was deleted', async () => {
    let s = await openSpool({ segmentBytes: 500 });
    const r = await s.reader('r');
    for (let i = 0; i < 10; i++) await s.append([payloadFor(i + 1, 180)]);
    await r.commit((await r.read(6)).next);
    const oldest = Number((await readdir(dir)).filter((f) => f.endsWith('.seg')).sort()[0]!.slice(0, 20));
    expect(oldest).toBeGreaterThan(1);
    await s.close();
    // A cursor restored from an old backup points into a segment that no longer exists.
    await writeFile(join(dir, 'cursors', 'restored.json'), JSON.stringify({ version: 1, name: 'restored', position: { seq: 1, segment: 1, offset: 0 } }));
    const { logger, lines } = memoryLogger();
    s = await openSpool({ logger });
    const restored = await s.reader('restored');
    const b = await restored.read(100);
    expect(b.entries[0]!.seq).toBe(oldest);
    expect(b.entries.at(-1)!.seq).toBe(10);
    expect(lines.some((l) => l.msg === 'spool: cursor segment missing, continuing at next segment')).toBe(true);
  });

  it('moves a cursor that points past the recovered log back to its end', async () => {
    let s = await openSpool();
    await s.append([payloadFor(1), payloadFor(2)]);
    await s.reader('r');
    s = await reopen(s);
    await s.close();
    await writeFile(join(dir, 'cursors', 'r.json'), JSON.stringify({ version: 1, name: 'r', position: { seq: 50, segment: 1, offset: 99999 } }));
    await writeFile(join(dir, 'cursors', 'bad.json'), '{not json');
    const { logger, lines } = memoryLogger();
    s = await openSpool({ logger });
    expect(lines.some((l) => l.msg === 'spool: cursor is past the end of the log, moving it to the end')).toBe(true);
    expect(lines.some((l) => l.msg === 'spool: unreadable cursor, reader restarts from oldest record')).toBe(true);
    const r = await s.reader('r');
    expect(r.lag()).toBe(0);
    await s.append([payloadFor(3)]);
    expect((await r.read(10)).entries.map((e) => e.seq)).toEqual([3]);
    const bad = await s.reader('bad');
    expect((await bad.read(10)).entries.map((e) => e.seq)).toEqual([1, 2, 3]);
  });
});
