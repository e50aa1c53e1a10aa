import { describe, expect, it } from 'vitest';
import { ConfigError, SinkError } from '../../../src/core/errors.js';
import { WebhookSink, webhookConfigSchema, type Fetch } from '../../../src/sinks/webhook.js';
import { scanForAlarms } from '../../../src/sinks/webhook-records.js';
import { createWebhookPoster, webhookSettingFor } from '../../../src/sinks/webhook-transport.js';
import { MemoryReader } from './memory-reader.js';

describe('webhookConfigSchema', () => {
  it('fills the defaults', () => {
    expect(webhookConfigSchema.parse({ url: 'https://pager.example/hook' })).toEqual({
      url: 'https://pager.example/hook',
      headers: {},
      batchSize: 100,
      maxBackoffMs: 30_000,
      timeoutMs: 10_000,
    });
  });

  it.each([
    [{ url: 'ftp://pager.example/hook' }, 'url'],
    [{ url: 'not a url' }, 'url'],
    [{ url: 'https://p.example', headers: { authorization: 42 } }, 'headers.authorization'],
    [{ url: 'https://p.example', batchSize: 0 }, 'batchSize'],
    [{ url: 'https://p.example', maxBackoffMs: 10 }, 'maxBackoffMs'],
    [{ url: 'https://p.example', retries: 3 }, ''],
  ])('rejects %j at %s', (input, path) => {
    const result = webhookConfigSchema.safeParse(input);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path.join('.'))).toContain(path);
  });
});

describe('scanForAlarms', () => {
  const entry = (seq: number, text: string) => ({ seq, payload: Buffer.from(text) });
  const a = { ts: 1, id: 'x', kind: 'limit', priority: 'low', state: 'raised', reason: 'r' };

  it('keeps alarm transitions in order, passes over other kinds and rejects unreadable alarms', () => {
    const scan = scanForAlarms([
      entry(1, JSON.stringify({ t: 'obs', o: { deviceId: 'alarm' } })),
      entry(2, JSON.stringify({ t: 'alarm', a })),
      entry(3, 'garbage'),
      entry(4, '{"t":"alarm"'),
      entry(5, JSON.stringify({ t: 'alarm', a: { ...a, ts: 'soon' } })),
      entry(6, JSON.stringify({ t: 'alarm', a: { ...a, id: 'y' } })),
    ]);
    expect(scan.items.map((x) => [x.seq, x.transition.id])).toEqual([[2, 'x'], [6, 'y']]);
    expect(scan.rejected.map((r) => [r.seq, r.reason.split(':')[0]])).toEqual([[4, 'malformed JSON'], [5, 'malformed alarm record']]);
  });

  it('passes over escalation steps whose tier does not page through the webhook; every other transition goes', () => {
    const step = (tier: number, channels: string[]) => ({ tier, of: 3, name: `T${tier}`, recipients: ['nurse.kim'], channels });
    const scan = scanForAlarms([
      entry(1, JSON.stringify({ t: 'alarm', a: { ...a, escalation: step(1, ['station']) } })), // raised: always
      entry(2, JSON.stringify({ t: 'alarm', a: { ...a, state: 'escalated', escalation: step(2, ['station', 'mqtt']) } })),
      entry(3, JSON.stringify({ t: 'alarm', a: { ...a, state: 'escalated', escalation: step(3, ['mqtt', 'webhook']) } })),
      entry(4, JSON.stringify({ t: 'alarm', a: { ...a, state: 'escalated' } })), // stored before tiers existed
      entry(5, JSON.stringify({ t: 'alarm', a: { ...a, state: 'acknowledged' } })),
    ]);
    expect(scan.items.map((x) => x.seq)).toEqual([1, 3, 4, 5]);
    expect(scan.rejected).toEqual([]);
  });
});

describe('webhook transport', () => {
  const post = (fetch: Fetch) =>
    createWebhookPoster({ url: 'http://hook.invalid/x', timeoutMs: 1000, fetch, now: () => 0 }).post('{}', new AbortController().signal);
  const failure = async (fetch: Fetch): Promise<SinkError> => {
    const err: unknown = await post(fetch).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(SinkError);
    return err as SinkError;
  };

  it.each([
    [200, undefined],
    [301, 'alarms.webhook.url'],
    [400, undefined],
    [401, 'alarms.webhook.headers'],
    [403, 'alarms.webhook.headers'],
    [404, 'alarms.webhook.url'],
    [405, 'alarms.webhook.url'],
    [429, undefined],
  ])('HTTP %i points at setting %s', (status, setting) => {
    expect(webhookSettingFor(status)).toBe(setting);
  });

  it('resolves on a 2xx', async () => {
    await expect(post(async () => new Response('ok', { status: 202 }))).resolves.toBeUndefined();
  });

  it('marks 503 retryable with its Retry-After, and 400 final with the body', async () => {
    const busy = await failure(async () => new Response('busy', { status: 503, headers: { 'retry-after': '7' } }));
    expect([busy.retryable, busy.retryAfterMs, busy.statusCode]).toEqual([true, 7000, 503]);
    const bad = await failure(async () => new Response('missing field "id"', { status: 400 }));
    expect([bad.retryable, bad.statusCode]).toEqual([false, 400]);
    expect(bad.message).toBe('HTTP 400: missing field "id"');
  });

  it('turns a network failure into a retryable error naming its cause', async () => {
    const err = await failure(async () => {
      throw new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 10.0.0.9:443'), { code: 'ECONNREFUSED' }) });
    });
    expect(err.retryable).toBe(true);
    expect(err.statusCode).toBeUndefined();
    expect(err.message).toBe('ECONNREFUSED: connect ECONNREFUSED 10.0.0.9:443');
  });

  it('sends the JSON content type and the configured headers through the injected fetch', async () => {
    let seen: RequestInit | undefined;
    const poster = createWebhookPoster({
      url: 'http://hook.invalid/x',
      headers: { authorization: 'Bearer t' },
      timeoutMs: 1000,
      fetch: async (_url, init) => {
        seen = init;
        return new Response(null, { status: 204 });
      },
    });
    await poster.post('{"alarms":[]}', new AbortController().signal);
    expect(seen).toMatchObject({ method: 'POST', body: '{"alarms":[]}', redirect: 'manual', headers: { 'content-type': 'application/json', authorization: 'Bearer t' } });
  });
});

describe('WebhookSink construction', () => {
  it('names alarms.webhook.url when the URL cannot be parsed', () => {
    expect(() => new WebhookSink({ url: 'nope', reader: new MemoryReader(), deadLetterPath: '/tmp/unused.jsonl' })).toThrow(ConfigError);
    expect(() => new WebhookSink({ url: 'nope', reader: new MemoryReader(), deadLetterPath: '/tmp/unused.jsonl' })).toThrow('alarms.webhook.url');
  });
});
