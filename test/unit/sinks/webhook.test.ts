/**
 * What is the alarm webhook's own in forwarding (the loop, retries, bisection and stop are the
 * forwarder's, tested in forwarder.test.ts): only alarms go, as `{"alarms": [...]}`, at once and
 * at most `batchSize` a request; the endpoint's answers mean retry, fix a setting, or refused for
 * good; each request's outcome is told to delivery confirmation; no secret reaches a log. The
 * record scan, the transport and the config schema are tested in webhook-parts.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { SinkError } from '../../../src/core/errors.js';
import type { AlarmTransition, SpoolRecord } from '../../../src/core/types.js';
import { WebhookSink, webhookDestination, type WebhookOutcome, type WebhookSinkOptions } from '../../../src/sinks/webhook.js';
import type { JsonPoster } from '../../../src/sinks/webhook-transport.js';
import { captureLogs } from './capture-log.js';
import { MemoryReader } from './memory-reader.js';
import { startScriptedInflux, type ScriptedReply, type ScriptedRequest } from './scripted-influx.js';
import { until } from '../../support/wait.js';

const NOW = 1_700_000_000_000;
const transition = (i: number, id = `a-${i}`): AlarmTransition => ({
  ts: NOW + i, id, kind: 'limit', priority: 'high', state: 'raised', metric: 'spo2',
  patientId: 'p-1', ward: 'W1', bed: '4', deviceId: 'ox-1', reason: 'SpO2 85 % below 88 %', value: 85,
});
const alarm = (i: number, id?: string): SpoolRecord => ({ t: 'alarm', a: transition(i, id) });
const obs = (i: number): SpoolRecord => ({ t: 'obs', o: { ts: NOW + i, deviceId: 'ox-1', patientId: 'p-1', metric: 'hr', value: 60 + i, unit: '/min', quality: 'good' } });
const silent = pino({ level: 'silent' });
const ids = (r: ScriptedRequest): string[] => (JSON.parse(r.body) as { alarms: AlarmTransition[] }).alarms.map((a) => a.id);

describe('the alarm webhook as a destination', () => {
  const outcomes: Array<[string[], WebhookOutcome]> = [];
  const destination = (post: JsonPoster['post']) =>
    webhookDestination({ post }, 'https://pager.example', silent, (alarms, outcome) => outcomes.push([alarms.map((a) => a.id), outcome]));
  afterEach(() => void outcomes.splice(0));

  it('posts the alarms as {"alarms": [...]} and tells delivery confirmation of each outcome with the transitions carried', async () => {
    const bodies: string[] = [];
    let fail = true;
    const d = destination(async (body) => {
      bodies.push(body);
      if (fail) throw new SinkError('HTTP 503 Service Unavailable', true, undefined, 503);
    });
    const { items } = d.encode([alarm(1), obs(2), alarm(3)].map((r, i) => ({ seq: i + 1, payload: Buffer.from(JSON.stringify(r)) })));
    await expect(d.send(items, new AbortController().signal)).rejects.toThrow('HTTP 503');
    fail = false;
    await d.send(items, new AbortController().signal);
    expect(bodies.map((b) => JSON.parse(b) as unknown)).toEqual([{ alarms: [transition(1), transition(3)] }, { alarms: [transition(1), transition(3)] }]);
    expect(outcomes).toEqual([
      [['a-1', 'a-3'], { ok: false, reason: 'HTTP 503 Service Unavailable' }],
      [['a-1', 'a-3'], { ok: true }],
    ]);
    expect(d.letter(items[1]!)).toBe(JSON.stringify(transition(3)));
    expect(d.urgent).toBe(true);
  });

  it.each([
    [new SinkError('HTTP 401', false, undefined, 401), { kind: 'config', setting: 'alarms.webhook.headers' }],
    [new SinkError('HTTP 403', false, undefined, 403), { kind: 'config', setting: 'alarms.webhook.headers' }],
    [new SinkError('HTTP 404', false, undefined, 404), { kind: 'config', setting: 'alarms.webhook.url' }],
    [new SinkError('HTTP 301 (redirects to https://elsewhere.example)', false, undefined, 301), { kind: 'config', setting: 'alarms.webhook.url' }],
    [new SinkError('HTTP 429', true, 3000, 429), { kind: 'retry', retryAfterMs: 3000 }],
    [new SinkError('HTTP 502', true, undefined, 502), { kind: 'retry', status: 502 }],
    [new SinkError('request timed out after 100 ms', true), { kind: 'retry', reason: 'request timed out after 100 ms' }],
    [new SinkError('HTTP 400: invalid alarm', false, undefined, 400), { kind: 'refused', status: 400 }],
    [new SinkError('HTTP 422', false, undefined, 422), { kind: 'refused', status: 422 }],
  ])('classifies %s as %j', (err, expected) => {
    expect(destination(async () => undefined).classify(err)).toMatchObject(expected);
  });

  it('a listener that throws does not stop delivery', async () => {
    const d = webhookDestination({ post: async () => undefined }, 'https://pager.example', silent, () => {
      throw new Error('listener bug');
    });
    await expect(d.send([{ seq: 1, transition: transition(1) }], new AbortController().signal)).resolves.toBeUndefined();
  });
});

describe('WebhookSink', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function start(reply: (req: ScriptedRequest) => ScriptedReply, opts: Partial<WebhookSinkOptions> = {}) {
    const server = await startScriptedInflux(reply);
    const dir = await mkdtemp(join(tmpdir(), 'vigil-webhook-'));
    const { logger, logs } = captureLogs();
    const reader = new MemoryReader();
    const sleeps: number[] = [];
    const sink = new WebhookSink({
      url: `${server.url}/hooks/T01/secret-path`, headers: { authorization: 'Bearer s3cret-token' },
      reader, deadLetterPath: join(dir, 'webhook.jsonl'), commitIntervalMs: 0, maxBackoffMs: 5000, now: () => NOW,
      sleep: async (ms) => void sleeps.push(ms), logger, ...opts,
    });
    cleanups.push(async () => {
      await sink.stop();
      await server.close();
      await rm(dir, { recursive: true, force: true });
    });
    await sink.start();
    return { sink, server, reader, logs, sleeps };
  }

  it('posts with the configured headers to the configured path, batchSize transitions a request, each followed by its commit', async () => {
    const h = await start(() => ({ status: 200 }), { batchSize: 2 });
    h.reader.append(alarm(1), obs(2), alarm(3), alarm(4), obs(5), alarm(6), alarm(7));
    await until(() => h.reader.committedSeq === 8, 'every commit');
    expect(h.server.requests.map(ids)).toEqual([['a-1', 'a-3'], ['a-4', 'a-6'], ['a-7']]);
    expect(h.reader.commits.map((c) => c.seq)).toEqual([4, 7, 8]);
    const req = h.server.requests[0]!;
    expect([req.method, req.url, req.headers['content-type'], req.headers.authorization]).toEqual(['POST', '/hooks/T01/secret-path', 'application/json', 'Bearer s3cret-token']);
    expect(h.sink.stats()).toMatchObject({ delivered: 5, retries: 0, deadLetters: 0, lagRecords: 0, lastSuccessAt: NOW });
  });

  it('on a 401 keeps the alarms, names alarms.webhook.headers once with the endpoint origin, and logs no secret', async () => {
    let authorised = false;
    const h = await start(() => (authorised ? { status: 200 } : { status: 401, body: 'bad token' }));
    h.reader.append(alarm(1), alarm(2));
    await until(() => h.sleeps.length >= 2, 'two retries');
    expect(h.sink.stats()).toMatchObject({ lagRecords: 2, delivered: 0, deadLetters: 0 });
    authorised = true;
    await until(() => h.reader.committedSeq === 3, 'commit once the credentials are fixed');
    expect(h.sleeps.every((ms) => ms === 5000)).toBe(true);
    expect(h.logs.filter((l) => Number(l.level) >= 40)).toMatchObject([
      { status: 401, setting: 'alarms.webhook.headers', endpoint: h.server.url, msg: 'alarm webhook refused the request (HTTP 401); check alarms.webhook.headers. Alarms stay in the spool and are retried' },
    ]);
    expect(JSON.stringify(h.logs)).not.toMatch(/s3cret-token|secret-path/);
  });

  it('does not follow a redirect (it would turn the POST into a GET) and names alarms.webhook.url', async () => {
    const h = await start(() => ({ status: 301, headers: { location: 'https://elsewhere.example/hook' } }));
    h.reader.append(alarm(1));
    await until(() => h.sleeps.length >= 1, 'a retry');
    expect(h.server.requests.every((r) => r.method === 'POST')).toBe(true);
    expect(h.logs.find((l) => l.level === 50)).toMatchObject({ status: 301, setting: 'alarms.webhook.url' });
    expect(h.sink.stats().lastError).toContain('elsewhere.example');
    expect(h.reader.commits).toHaveLength(0);
  });
});
