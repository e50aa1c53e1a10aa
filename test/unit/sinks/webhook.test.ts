import { afterEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { AlarmTransition, SpoolRecord } from '../../../src/core/types.js';
import type { DeadLetter } from '../../../src/sinks/dead-letter.js';
import { WebhookSink, type Sleep, type WebhookSinkOptions } from '../../../src/sinks/webhook.js';
import { MemoryReader } from './memory-reader.js';
import { startScriptedInflux, type ScriptedInflux, type ScriptedReply, type ScriptedRequest } from './scripted-influx.js';
import { until } from '../../support/wait.js';

const NOW = 1_700_000_000_000;

const transition = (i: number, id = `a-${i}`): AlarmTransition => ({
  ts: NOW + i, id, kind: 'limit', priority: 'high', state: 'raised', metric: 'spo2',
  patientId: 'p-1', ward: 'W1', bed: '4', deviceId: 'ox-1', reason: 'SpO2 85 % below 88 %', value: 85,
});
const alarm = (i: number, id?: string): SpoolRecord => ({ t: 'alarm', a: transition(i, id) });
const obs = (i: number): SpoolRecord => ({
  t: 'obs',
  o: { ts: NOW + i, deviceId: 'ox-1', patientId: 'p-1', metric: 'hr', value: 60 + i, unit: '/min', quality: 'good' },
});
const tech = (i: number): SpoolRecord => ({ t: 'tech', e: { ts: NOW + i, deviceId: 'ox-1', kind: 'sensor_off' } });

interface Harness {
  sink: WebhookSink;
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

async function setup(reply: (req: ScriptedRequest) => ScriptedReply, opts: Partial<WebhookSinkOptions> = {}): Promise<Harness> {
  const server = await startScriptedInflux(reply);
  const dir = await mkdtemp(join(tmpdir(), 'vigil-webhook-'));
  const reader = new MemoryReader();
  const sleeps: Harness['sleeps'] = [];
  const logs: Harness['logs'] = [];
  const out = new Writable({
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
  const deadLetterPath = join(dir, 'dead', 'webhook.jsonl');
  const sink = new WebhookSink({
    url: `${server.url}/hooks/T01/secret-path`,
    headers: { authorization: 'Bearer s3cret-token' },
    reader,
    deadLetterPath,
    commitIntervalMs: 0,
    minBackoffMs: 100,
    maxBackoffMs: 5000,
    random: () => 0.5,
    now: () => NOW,
    sleep,
    logger: pino({ level: 'debug' }, out),
    ...opts,
  });
  cleanups.push(async () => {
    await sink.stop();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { sink, reader, server, sleeps, logs, deadLetterPath };
}


const alarmsIn = (r: ScriptedRequest): AlarmTransition[] => (JSON.parse(r.body) as { alarms: AlarmTransition[] }).alarms;
const ids = (r: ScriptedRequest): string[] => alarmsIn(r).map((a) => a.id);
const deadLetters = async (path: string): Promise<DeadLetter[]> =>
  (await readFile(path, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as DeadLetter);

describe('WebhookSink delivery', () => {
  it('posts {"alarms": [...]} as JSON with the configured headers and commits after the 2xx', async () => {
    const h = await setup(() => ({ status: 200 }));
    h.reader.append(alarm(1), alarm(2));
    await h.sink.start();
    await until(() => h.reader.committedSeq === 3, 'commit');
    expect(h.server.requests).toHaveLength(1);
    const req = h.server.requests[0]!;
    expect([req.method, req.url]).toEqual(['POST', '/hooks/T01/secret-path']);
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers.authorization).toBe('Bearer s3cret-token');
    expect(JSON.parse(req.body)).toEqual({ alarms: [transition(1), transition(2)] });
    const s = h.sink.stats();
    expect(s).toMatchObject({ delivered: 2, retries: 0, deadLetters: 0, lagRecords: 0, lastSuccessAt: NOW });
    expect(s.lastError).toBeUndefined();
  });

  it('skips other record kinds but commits past them, with no request when there is no alarm', async () => {
    const h = await setup(() => ({ status: 204 }));
    h.reader.append(obs(1), tech(2), alarm(3), obs(4));
    await h.sink.start();
    await until(() => h.reader.committedSeq === 5, 'first commit');
    expect(h.server.requests.map(ids)).toEqual([['a-3']]);
    await until(() => h.sink.stats().state === 'idle', 'idle');
    h.reader.append(obs(5), tech(6), obs(7));
    await until(() => h.reader.committedSeq === 8, 'commit past records without alarms');
    expect(h.server.requests).toHaveLength(1);
    expect(h.sink.stats().delivered).toBe(1);
  });

  it('sends at most batchSize transitions per request, each request followed by its own commit', async () => {
    const h = await setup(() => ({ status: 200 }), { batchSize: 2 });
    h.reader.append(alarm(1), obs(2), alarm(3), alarm(4), obs(5), alarm(6), alarm(7));
    await h.sink.start();
    await until(() => h.reader.committedSeq === 8, 'all commits');
    expect(h.server.requests.map(ids)).toEqual([['a-1', 'a-3'], ['a-4', 'a-6'], ['a-7']]);
    expect(h.reader.commits.map((c) => c.seq)).toEqual([4, 7, 8]);
  });

  it('holds alarm-free records for commitIntervalMs before committing, but posts an alarm at once', async () => {
    const h = await setup(() => ({ status: 200 }), { commitIntervalMs: 1000 });
    h.reader.append(obs(1));
    await h.sink.start();
    await until(() => h.reader.committedSeq === 2, 'first commit');
    expect(h.sleeps).toEqual([]);
    h.reader.append(obs(2));
    await until(() => h.reader.committedSeq === 3, 'second commit');
    expect(h.sleeps).toEqual([{ ms: 1000, committedSeq: 2 }]);
    h.reader.append(alarm(3));
    await until(() => h.reader.committedSeq === 4, 'alarm commit');
    expect(h.sleeps).toHaveLength(1);
    expect(h.server.requests.map(ids)).toEqual([['a-3']]);
  });
});

describe('WebhookSink outcomes', () => {
  it('tells onResult of each request: the failure with its reason, then the success, with the transitions carried', async () => {
    const outcomes: Array<[string[], boolean, string?]> = [];
    const h = await setup((r) => (r.n === 1 ? { status: 503 } : { status: 200 }), { onResult: (alarms, o) => outcomes.push([alarms.map((a) => a.id), o.ok, ...(o.ok ? [] : [o.reason.split(':')[0]!])]) });
    h.reader.append(alarm(1), alarm(2));
    await h.sink.start();
    await until(() => h.reader.committedSeq === 3, 'commit');
    expect(outcomes).toEqual([
      [['a-1', 'a-2'], false, 'HTTP 503 Service Unavailable'],
      [['a-1', 'a-2'], true],
    ]);
  });
});

describe('WebhookSink retries', () => {
  it('500 then 200: one delivery after one retry, the cursor moving only after the success', async () => {
    const h = await setup((r) => (r.n === 1 ? { status: 500 } : { status: 200 }));
    h.reader.append(alarm(1));
    await h.sink.start();
    await until(() => h.reader.committedSeq === 2, 'commit');
    // full jitter: random 0.5 of min(5000, 100 · 2^0)
    expect(h.sleeps).toEqual([{ ms: 50, committedSeq: 1 }]);
    expect(h.reader.commits.map((c) => c.seq)).toEqual([2]);
    expect(h.server.requests).toHaveLength(2);
    expect(h.server.requests[1]?.body).toBe(h.server.requests[0]?.body);
    expect(h.sink.stats()).toMatchObject({ delivered: 1, retries: 1, deadLetters: 0 });
    expect(h.sink.stats().lastError).toContain('HTTP 500');
    expect(h.logs.filter((l) => l.msg === 'alarm webhook delivery failed; retrying the batch with backoff')).toMatchObject([{ status: 500 }]);
    expect(h.logs.filter((l) => l.msg === 'webhook deliveries recovered')).toHaveLength(1);
  });

  it('logs a run of 5xx once per status and backs off exponentially', async () => {
    const h = await setup((r) => (r.n <= 4 ? { status: r.n === 4 ? 503 : 502 } : { status: 200 }));
    h.reader.append(alarm(1));
    await h.sink.start();
    await until(() => h.reader.committedSeq === 2, 'commit');
    expect(h.sleeps.map((s) => s.ms)).toEqual([50, 100, 200, 400]);
    const warnings = h.logs.filter((l) => l.level === 40);
    expect(warnings.map((w) => w.status)).toEqual([502, 503]);
  });

  it('honours Retry-After on 429', async () => {
    const h = await setup((r) => (r.n === 1 ? { status: 429, headers: { 'retry-after': '3' } } : { status: 200 }), { random: () => 0 });
    h.reader.append(alarm(1), alarm(2));
    await h.sink.start();
    await until(() => h.reader.committedSeq === 3, 'commit');
    expect(h.sleeps).toEqual([{ ms: 3000, committedSeq: 1 }]);
    expect(h.sink.stats()).toMatchObject({ delivered: 2, retries: 1 });
  });

  it('retries dropped connections and timeouts', async () => {
    const h = await setup((r) => (r.n === 1 ? 'reset' : r.n === 2 ? { status: 200, delayMs: 1000 } : { status: 200 }), { timeoutMs: 100 });
    h.reader.append(alarm(1));
    await h.sink.start();
    await until(() => h.reader.committedSeq === 2, 'commit');
    expect(h.sleeps).toHaveLength(2);
    expect(h.sink.stats().lastError).toBe('request timed out after 100 ms');
    expect(h.logs.filter((l) => l.level === 40)).toHaveLength(1);
  });
});

describe('WebhookSink refusals', () => {
  it('400: dead-letters only the refused transition, with status and reason, and delivers the rest', async () => {
    const h = await setup((r) => (r.body.includes('"id":"bad"') ? { status: 400, body: '{"error":"invalid alarm"}' } : { status: 200 }));
    h.reader.append(alarm(1), alarm(2), alarm(3, 'bad'), alarm(4));
    await h.sink.start();
    await until(() => h.reader.committedSeq === 5, 'commit');
    const letters = await deadLetters(h.deadLetterPath);
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ seq: 3, status: 400, ts: NOW });
    expect(letters[0]?.reason).toContain('invalid alarm');
    expect(JSON.parse(letters[0]?.line ?? '')).toEqual(transition(3, 'bad'));
    const delivered = h.server.accepted.flatMap((b) => (JSON.parse(b) as { alarms: AlarmTransition[] }).alarms.map((a) => a.id));
    expect(delivered.sort()).toEqual(['a-1', 'a-2', 'a-4']);
    expect(h.sleeps).toHaveLength(0);
    expect(h.sink.stats()).toMatchObject({ delivered: 3, deadLetters: 1, retries: 0 });
    expect(h.logs.filter((l) => l.msg === 'webhook refused alarm transitions for good; dead-lettering them')).toMatchObject([{ count: 1, firstSeq: 3, status: 400 }]);
  });

  it('a single refused transition costs one request and is dead-lettered', async () => {
    const h = await setup(() => ({ status: 422 }));
    h.reader.append(alarm(1));
    await h.sink.start();
    await until(() => h.reader.committedSeq === 2, 'commit');
    expect(h.server.requests).toHaveLength(1);
    expect(await deadLetters(h.deadLetterPath)).toMatchObject([{ seq: 1, status: 422 }]);
  });

  it('dead-letters alarm records that cannot be read, with no status, and delivers the others', async () => {
    const h = await setup(() => ({ status: 200 }));
    h.reader.appendRaw(Buffer.from('{"t":"alarm","a":'), Buffer.from('{"t":"alarm","a":{"state":"raised"}}'));
    h.reader.append(alarm(3));
    await h.sink.start();
    await until(() => h.reader.committedSeq === 4, 'commit');
    expect(await deadLetters(h.deadLetterPath)).toMatchObject([
      { seq: 1, status: null, reason: 'malformed JSON', line: '{"t":"alarm","a":' },
      { seq: 2, status: null, line: '{"t":"alarm","a":{"state":"raised"}}' },
    ]);
    expect(h.server.requests.map(ids)).toEqual([['a-3']]);
  });

  it('401: keeps the alarms in the spool, names alarms.webhook.headers once, retries at the longest backoff', async () => {
    let authorised = false;
    const h = await setup(() => (authorised ? { status: 200 } : { status: 401, body: 'bad token' }));
    h.reader.append(alarm(1), alarm(2));
    await h.sink.start();
    await until(() => h.sleeps.length >= 3, 'three retries');
    expect(h.reader.commits).toHaveLength(0);
    expect(existsSync(h.deadLetterPath)).toBe(false);
    expect(h.sink.stats()).toMatchObject({ lagRecords: 2, deadLetters: 0, delivered: 0 });
    authorised = true;
    await until(() => h.reader.committedSeq === 3, 'commit once the credentials are fixed');
    expect(h.sleeps.every((s) => s.ms === 5000 && s.committedSeq === 1)).toBe(true);
    const errors = h.logs.filter((l) => Number(l.level) >= 40);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ status: 401, setting: 'alarms.webhook.headers', endpoint: h.server.url });
    expect(String(errors[0]?.msg)).toContain('alarms.webhook.headers');
    expect(JSON.stringify(h.logs)).not.toMatch(/s3cret-token|secret-path/);
  });

  it('404 names alarms.webhook.url', async () => {
    const h = await setup(() => ({ status: 404 }));
    h.reader.append(alarm(1));
    await h.sink.start();
    await until(() => h.sleeps.length >= 2, 'two retries');
    expect(h.logs.filter((l) => l.level === 50)).toMatchObject([{ status: 404, setting: 'alarms.webhook.url' }]);
    expect(h.reader.commits).toHaveLength(0);
    expect(existsSync(h.deadLetterPath)).toBe(false);
  });

  it('does not follow a redirect (it would turn the POST into a GET) and names alarms.webhook.url', async () => {
    const h = await setup(() => ({ status: 301, headers: { location: 'https://elsewhere.example/hook' } }));
    h.reader.append(alarm(1));
    await h.sink.start();
    await until(() => h.sleeps.length >= 1, 'a retry');
    expect(h.server.requests.every((r) => r.method === 'POST')).toBe(true);
    expect(h.logs.find((l) => l.level === 50)).toMatchObject({ status: 301, setting: 'alarms.webhook.url' });
    expect(h.sink.stats().lastError).toContain('elsewhere.example');
    expect(h.reader.commits).toHaveLength(0);
  });
});

describe('WebhookSink stop', () => {
  it('stop() during a backoff wait returns promptly without committing', async () => {
    const h = await setup(() => ({ status: 503 }), {
      // A sleep that only ends on abort, like a long real backoff.
      sleep: (_ms, signal) => new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true })),
    });
    h.reader.append(alarm(1));
    await h.sink.start();
    await until(() => h.sink.stats().state === 'backing_off', 'backing off');
    await h.sink.stop();
    expect(h.reader.commits).toHaveLength(0);
    expect(h.server.requests).toHaveLength(1);
    expect(h.sink.stats()).toMatchObject({ state: 'stopped', lagRecords: 1 });
  });

  it('stop() lets the in-flight request finish and commits it', async () => {
    const h = await setup(() => ({ status: 200, delayMs: 150 }));
    h.reader.append(alarm(1), alarm(2));
    await h.sink.start();
    await until(() => h.server.requests.length === 1, 'request in flight');
    expect(h.reader.commits).toHaveLength(0);
    await h.sink.stop();
    expect(h.reader.committedSeq).toBe(3);
    expect(h.sink.stats()).toMatchObject({ state: 'stopped', delivered: 2 });
  });

  it('stop() aborts a request that outlives stopTimeoutMs and leaves the alarms in the spool', async () => {
    const h = await setup(() => 'hang', { stopTimeoutMs: 50 });
    h.reader.append(alarm(1));
    await h.sink.start();
    await until(() => h.server.requests.length === 1, 'request in flight');
    // The endpoint never answers: stop() returning at all means it gave up on the request.
    await h.sink.stop();
    await until(() => h.server.aborted.length === 1, 'the request aborted');
    expect(h.reader.commits).toHaveLength(0);
    expect(h.sink.stats().delivered).toBe(0);
  });
});
