import { afterEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { SpoolRecord } from '../../../src/core/types.js';
import { InfluxWriter, type InfluxWriterOptions, type Sleep } from '../../../src/sinks/influx-writer.js';
import type { DeadLetter } from '../../../src/sinks/dead-letter.js';
import { MemoryReader } from './memory-reader.js';
import { startScriptedInflux, type ScriptedInflux, type ScriptedReply, type ScriptedRequest } from './scripted-influx.js';
import { until } from '../../support/wait.js';

const obs = (i: number, deviceId = 'ox-1'): SpoolRecord => ({
  t: 'obs',
  o: { ts: 1_700_000_000_000 + i, deviceId, patientId: 'p-1', ward: 'W1', bed: '4', metric: 'hr', value: 60 + i, unit: '/min', quality: 'good' },
});

interface Harness {
  writer: InfluxWriter;
  reader: MemoryReader;
  server: ScriptedInflux;
  /** Each injected sleep: its delay and the reader's committed position at that moment. */
  sleeps: Array<{ ms: number; committedSeq: number }>;
  logs: Array<Record<string, unknown>>;
  deadLetterPath: string;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(
  reply: (req: ScriptedRequest) => ScriptedReply,
  opts: Partial<InfluxWriterOptions> = {},
): Promise<Harness> {
  const server = await startScriptedInflux(reply);
  const dir = await mkdtemp(join(tmpdir(), 'vigil-writer-'));
  const reader = new MemoryReader();
  const sleeps: Harness['sleeps'] = [];
  const logs: Harness['logs'] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      cb();
    },
  });
  // Backoff waits are recorded and skipped, so the tests run in milliseconds.
  const sleep: Sleep = async (ms) => {
    sleeps.push({ ms, committedSeq: reader.committedSeq });
    await new Promise((r) => setImmediate(r));
  };
  const deadLetterPath = join(dir, 'dead', 'influx.jsonl');
  const writer = new InfluxWriter({
    url: server.url,
    token: 'secret-token',
    org: 'o',
    bucket: 'b',
    reader,
    deadLetterPath,
    flushIntervalMs: 0,
    minBackoffMs: 100,
    maxBackoffMs: 5000,
    random: () => 0.5,
    sleep,
    logger: pino({ level: 'debug' }, sink),
    ...opts,
  });
  cleanups.push(async () => {
    await writer.stop();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { writer, reader, server, sleeps, logs, deadLetterPath };
}


async function deadLetters(path: string): Promise<DeadLetter[]> {
  const text = await readFile(path, 'utf8');
  return text.trim().split('\n').map((l) => JSON.parse(l) as DeadLetter);
}

describe('InfluxWriter', () => {
  it('writes every record as a line and commits after the 2xx', async () => {
    const h = await setup(() => ({ status: 204 }));
    h.reader.append(...Array.from({ length: 10 }, (_, i) => obs(i)));
    await h.writer.start();
    await until(() => h.reader.committedSeq === 11, 'commit');
    expect(h.server.accepted).toEqual(Array.from({ length: 10 }, (_, i) => `vitals,device=ox-1,patient=p-1,ward=W1,bed=4 hr=${60 + i} ${1_700_000_000_000 + i}`));
    const s = h.writer.stats();
    expect([s.batches, s.pointsWritten, s.retries, s.deadLetters, s.lagRecords]).toEqual([1, 10, 0, 0, 0]);
    expect(s.latency.count).toBe(1);
    expect(s.lastSuccessAt).toBeGreaterThan(0);
  });

  it('splits the spool into batches of batchSize and commits each one', async () => {
    const h = await setup(() => ({ status: 204 }), { batchSize: 5 });
    h.reader.append(...Array.from({ length: 12 }, (_, i) => obs(i)));
    await h.writer.start();
    await until(() => h.reader.committedSeq === 13, 'all commits');
    expect(h.server.requests.map((r) => r.lines.length)).toEqual([5, 5, 2]);
    expect(h.reader.commits.map((c) => c.seq)).toEqual([6, 11, 13]);
  });

  it('lets a partial batch linger for the flush interval so a trickle is written once a second', async () => {
    const h = await setup(() => ({ status: 204 }), { flushIntervalMs: 1000 });
    h.reader.append(obs(1));
    await h.writer.start();
    await until(() => h.reader.committedSeq === 2, 'first commit');
    expect(h.sleeps).toEqual([]);
    h.reader.append(obs(2), obs(3));
    await until(() => h.reader.committedSeq === 4, 'second commit');
    expect(h.sleeps).toHaveLength(1);
    expect(h.sleeps[0]?.ms).toBeGreaterThan(500);
    expect(h.sleeps[0]?.ms).toBeLessThanOrEqual(1000);
    expect(h.server.requests.map((r) => r.lines.length)).toEqual([1, 2]);
  });

  it('picks up records appended while idle', async () => {
    const h = await setup(() => ({ status: 204 }));
    await h.writer.start();
    await until(() => h.writer.stats().state === 'idle', 'idle');
    h.reader.append(obs(1), obs(2));
    await until(() => h.reader.committedSeq === 3, 'commit');
    expect(h.server.accepted).toHaveLength(2);
  });

  it('honours Retry-After on 429 and keeps the batch uncommitted until a 2xx', async () => {
    const h = await setup((r) => (r.n === 1 ? { status: 429, headers: { 'retry-after': '3' } } : { status: 204 }), { random: () => 0 });
    h.reader.append(obs(1), obs(2));
    await h.writer.start();
    await until(() => h.reader.committedSeq === 3, 'commit');
    expect(h.sleeps).toEqual([{ ms: 3000, committedSeq: 1 }]);
    expect(h.server.requests.map((r) => r.lines)).toEqual([h.server.accepted, h.server.accepted]);
    expect(h.writer.stats().retries).toBe(1);
  });

  it('retries 5xx with growing jittered backoff and logs the condition once', async () => {
    const h = await setup((r) => (r.n <= 4 ? { status: r.n === 4 ? 503 : 500 } : { status: 204 }));
    h.reader.append(obs(1));
    await h.writer.start();
    await until(() => h.reader.committedSeq === 2, 'commit');
    // random 0.5 of min(5000, 100·2^attempt)
    expect(h.sleeps.map((s) => s.ms)).toEqual([50, 100, 200, 400]);
    expect(h.sleeps.every((s) => s.committedSeq === 1)).toBe(true);
    const stats = h.writer.stats();
    expect(stats.retries).toBe(4);
    expect(stats.lastError).toContain('HTTP 503');
    const warnings = h.logs.filter((l) => l.msg === 'InfluxDB write failed; retrying the batch with backoff');
    expect(warnings.map((w) => w.status)).toEqual([500, 503]);
    expect(h.logs.filter((l) => l.msg === 'InfluxDB writes recovered')).toHaveLength(1);
  });

  it('retries dropped connections', async () => {
    const h = await setup((r) => (r.n <= 2 ? 'reset' : { status: 204 }));
    h.reader.append(obs(1), obs(2), obs(3));
    await h.writer.start();
    await until(() => h.reader.committedSeq === 4, 'commit');
    expect(h.sleeps).toHaveLength(2);
    expect(h.server.accepted).toHaveLength(3);
  });

  it('bisects a 400 down to the one bad line, dead-letters it and writes the rest', async () => {
    const h = await setup((r) => (r.lines.some((l) => l.includes('device=bad')) ? { status: 400, body: '{"code":"invalid","message":"unable to parse"}' } : { status: 204 }));
    h.reader.append(...Array.from({ length: 8 }, (_, i) => obs(i, i === 4 ? 'bad' : 'ox-1')));
    await h.writer.start();
    await until(() => h.reader.committedSeq === 9, 'commit');
    const letters = await deadLetters(h.deadLetterPath);
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ seq: 5, status: 400 });
    expect(letters[0]?.line).toContain('device=bad');
    expect(letters[0]?.reason).toContain('unable to parse');
    expect(new Set(h.server.accepted)).toEqual(new Set(Array.from({ length: 8 }, (_, i) => i).filter((i) => i !== 4).map((i) => `vitals,device=ox-1,patient=p-1,ward=W1,bed=4 hr=${60 + i} ${1_700_000_000_000 + i}`)));
    // one full try, then at most two halves per level of a 3-level bisection
    expect(h.server.requests.length).toBeLessThanOrEqual(7);
    expect(h.writer.stats().deadLetters).toBe(1);
    expect(h.sleeps).toHaveLength(0);
    expect(h.logs.filter((l) => l.msg === 'InfluxDB refused lines for good; dead-lettering them')).toMatchObject([{ count: 1, firstSeq: 5, status: 400 }]);
  });

  it('dead-letters records that cannot be mapped, with no status, and writes the others', async () => {
    const h = await setup(() => ({ status: 204 }));
    h.reader.append(obs(1));
    h.reader.appendRaw(Buffer.from('{"t":"obs","o":'));
    h.reader.append(obs(3));
    await h.writer.start();
    await until(() => h.reader.committedSeq === 4, 'commit');
    expect(await deadLetters(h.deadLetterPath)).toMatchObject([{ seq: 2, status: null, reason: 'malformed JSON', line: '{"t":"obs","o":' }]);
    expect(h.server.accepted).toHaveLength(2);
  });

  it('on 401 keeps the data, names influx.token once, and waits the longest backoff', async () => {
    let authorised = false;
    const h = await setup(() => (authorised ? { status: 204 } : { status: 401, body: '{"code":"unauthorized","message":"unauthorized access"}' }));
    h.reader.append(obs(1), obs(2));
    await h.writer.start();
    await until(() => h.sleeps.length >= 3, 'three retries');
    expect(h.reader.commits).toHaveLength(0);
    expect(existsSync(h.deadLetterPath)).toBe(false);
    expect(h.writer.stats().lagRecords).toBe(2);
    authorised = true;
    await until(() => h.reader.committedSeq === 3, 'commit after the token is fixed');
    expect(h.sleeps.every((s) => s.ms === 5000 && s.committedSeq === 1)).toBe(true);
    const errors = h.logs.filter((l) => l.level === 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ status: 401, setting: 'influx.token' });
    expect(JSON.stringify(h.logs)).not.toContain('secret-token');
  });

  it('on 404 names influx.bucket', async () => {
    const h = await setup(() => ({ status: 404, body: '{"code":"not found","message":"bucket \\"b\\" not found"}' }));
    h.reader.append(obs(1));
    await h.writer.start();
    await until(() => h.sleeps.length >= 1, 'a retry');
    expect(h.logs.find((l) => l.level === 50)).toMatchObject({ status: 404, setting: 'influx.bucket' });
    expect(h.reader.commits).toHaveLength(0);
  });

  it('stop() lets the in-flight write finish and commits it', async () => {
    const h = await setup(() => ({ status: 204, delayMs: 150 }));
    h.reader.append(obs(1), obs(2));
    await h.writer.start();
    await until(() => h.server.requests.length === 1, 'request in flight');
    expect(h.reader.commits).toHaveLength(0);
    await h.writer.stop();
    expect(h.reader.committedSeq).toBe(3);
    expect(h.writer.stats().state).toBe('stopped');
  });

  it('stop() aborts a request that outlives stopTimeoutMs and leaves the batch in the spool', async () => {
    const h = await setup(() => 'hang', { stopTimeoutMs: 50 });
    h.reader.append(obs(1));
    await h.writer.start();
    await until(() => h.server.requests.length === 1, 'request in flight');
    // The endpoint never answers: stop() returning at all means it gave up on the request.
    await h.writer.stop();
    await until(() => h.server.aborted.length === 1, 'the request aborted');
    expect(h.reader.commits).toHaveLength(0);
  });

  it('stop() during a backoff wait returns promptly without committing', async () => {
    const h = await setup(() => ({ status: 503 }), {
      // A sleep that only ends on abort, like a long real backoff.
      sleep: (_ms, signal) => new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true })),
    });
    h.reader.append(obs(1));
    await h.writer.start();
    await until(() => h.writer.stats().state === 'backing_off', 'backing off');
    await h.writer.stop();
    expect(h.reader.commits).toHaveLength(0);
    expect(h.server.requests).toHaveLength(1);
  });
});
