import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { Counters } from '../../../src/core/counters.js';
import { HttpRefusals, markRefusal, REFUSAL_REASONS } from '../../../src/http/refusals.js';

let now = 1_000_000;
const lines: Array<Record<string, unknown>> = [];
const sink = new Writable({
  write(chunk: Buffer, _enc, done) {
    for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
    done();
  },
});
const counters = new Counters();
const refusals = new HttpRefusals({ counters, logger: pino({ level: 'info' }, sink), clock: () => now, logEveryMs: 60_000 });
let app: FastifyInstance;

beforeAll(async () => {
  app = Fastify();
  app.addHook('onResponse', (req, reply, done) => {
    refusals.observe(req, reply.statusCode);
    done();
  });
  app.get('/token', async (req, reply) => {
    markRefusal(req, 'bad_token');
    return reply.code(401).send({ error: 'no' });
  });
  app.get('/role', async (req, reply) => {
    markRefusal(req, 'role', { needs: 'limits' });
    return reply.code(403).send({ error: 'no' });
  });
  app.get('/bad', async (_req, reply) => reply.code(400).send({ error: 'no' }));
  app.get('/missing', async (_req, reply) => reply.code(404).send({ error: 'no' }));
  app.get('/ok', async () => ({ ok: true }));
  await app.ready();
});
afterAll(() => app.close());

const hit = (url: string, remoteAddress = '10.0.0.1', headers: Record<string, string> = {}) => app.inject({ url, remoteAddress, headers });
const count = (reason: string) => counters.value('vigil_http_refused_total', { reason });
const linesFor = (reason: string, remote = '10.0.0.1') => lines.filter((l) => l.reason === reason && l.remote === remote);

describe('HttpRefusals', () => {
  it('has a zero series for every reason before any refusal', async () => {
    const text = await counters.text();
    for (const reason of REFUSAL_REASONS) expect(text).toContain(`vigil_http_refused_total{reason="${reason}"} 0`);
  });

  it('counts every refusal by its reason (named, or its status’s), and nothing else', async () => {
    await hit('/token');
    await hit('/role');
    await hit('/bad');
    await hit('/missing');
    await hit('/ok');
    expect(await count('bad_token')).toBe(1);
    expect(await count('role')).toBe(1);
    expect(await count('bad_request')).toBe(1);
    expect(await counters.value('vigil_http_refused_total')).toBe(3);
  });

  it('logs method, path without the query, address and reason; never headers', async () => {
    await hit('/token?token=secret-in-query', '10.0.0.9', { authorization: 'Bearer guessed-token-value', cookie: 'vigil_session=cookie-value' });
    const line = linesFor('bad_token', '10.0.0.9')[0]!;
    expect(line).toMatchObject({ level: 40, method: 'GET', path: '/token', remote: '10.0.0.9', reason: 'bad_token', status: 401 });
    const text = JSON.stringify(lines);
    for (const secret of ['secret-in-query', 'guessed-token-value', 'cookie-value']) expect(text).not.toContain(secret);
    expect(linesFor('role')[0]).toMatchObject({ needs: 'limits', status: 403 });
  });

  it('logs at most one line per address and reason an interval, then says how many it left out', async () => {
    const before = await count('bad_token');
    for (let i = 0; i < 50; i++) await hit('/token', '10.0.0.2');
    expect(linesFor('bad_token', '10.0.0.2')).toHaveLength(1);
    // Another reason, or another address, has a line of its own.
    await hit('/bad', '10.0.0.2');
    expect(linesFor('bad_request', '10.0.0.2')).toHaveLength(1);
    now += 59_999;
    await hit('/token', '10.0.0.2');
    expect(linesFor('bad_token', '10.0.0.2')).toHaveLength(1);
    now += 1;
    await hit('/token', '10.0.0.2');
    const logged = linesFor('bad_token', '10.0.0.2');
    expect(logged).toHaveLength(2);
    expect(logged[1]!.notLoggedSinceLast).toBe(50);
    expect(await count('bad_token')).toBe(before + 52);
  });

  it('remembers a bounded number of address and reason pairs; past it a new pair is counted, not logged, until old ones age out', async () => {
    const mine = new Counters();
    const out: unknown[] = [];
    const small = new HttpRefusals({ counters: mine, logger: { warn: (fields: unknown) => out.push(fields) } as never, clock: () => now, logEveryMs: 60_000, maxLogKeys: 4 });
    const refuse = (ip: string) => small.observe({ ip, url: '/api/ward', method: 'GET' } as FastifyRequest, 400);
    for (let i = 0; i < 4; i++) refuse(`10.1.0.${i}`);
    expect(out).toHaveLength(4);
    expect(small.size()).toBe(4);
    refuse('10.1.0.200');
    expect(out).toHaveLength(4);
    expect(small.size()).toBe(4);
    expect(await mine.value('vigil_http_refused_total', { reason: 'bad_request' })).toBe(5);
    now += 60_000;
    refuse('10.1.0.201');
    expect(out).toHaveLength(5);
    expect(out[4]).toMatchObject({ remote: '10.1.0.201', reason: 'bad_request' });
    expect(small.size()).toBeLessThanOrEqual(4);
  });
});
