import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import { accessGuard, bearerToken, parseCookies, principalOf, tokenMatcher } from '../../../src/web/access.js';
import { SessionStore } from '../../../src/web/sessions.js';
import { TokenLimiter } from '../../../src/web/token-limiter.js';
import { refusalReason } from '../../../src/http/refusals.js';

const sessions = new SessionStore({ ttlMs: 60_000 });
const TOKEN = 'guard-test-token-0123456789';
let app: FastifyInstance;

beforeAll(async () => {
  app = Fastify();
  app.addHook('onRequest', accessGuard({ apiToken: TOKEN, sessions }));
  app.get('/healthz', async () => ({ ok: true }));
  app.get('/ward', async () => 'page');
  app.get('/api/ward', async (req) => ({ who: principalOf(req)?.username, via: principalOf(req)?.via }));
  app.post('/api/thing', async (req) => ({ who: principalOf(req)?.username }));
  app.post('/api/session', async () => ({ ok: true }));
  await app.ready();
});
afterAll(() => app.close());

describe('accessGuard', () => {
  const { id, session } = sessions.create({ username: 'nurse', name: 'N', role: 'nurse' });
  const cookie = `other=1; vigil_session=${id}`;

  it('leaves health open, answers 401 on the API and redirects pages without credentials', async () => {
    expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/api/ward' })).statusCode).toBe(401);
    const page = await app.inject({ url: '/ward?x=1' });
    expect(page.statusCode).toBe(303);
    expect(page.headers.location).toBe('/signin?next=%2Fward%3Fx%3D1');
  });

  it('accepts the bearer token or a session, and says which', async () => {
    expect((await app.inject({ url: '/api/ward', headers: { authorization: `Bearer ${TOKEN}` } })).json()).toEqual({ who: 'api-token', via: 'token' });
    expect((await app.inject({ url: '/api/ward', headers: { authorization: `Bearer ${TOKEN}x` } })).statusCode).toBe(401);
    expect((await app.inject({ url: '/api/ward', headers: { cookie } })).json()).toEqual({ who: 'nurse', via: 'session' });
    expect((await app.inject({ url: '/ward', headers: { cookie } })).statusCode).toBe(200);
  });

  it('needs the CSRF token and the same origin for a session change; not for the bearer token', async () => {
    const post = (headers: Record<string, string>) => app.inject({ method: 'POST', url: '/api/thing', headers: { host: 'ward.local:8080', ...headers } });
    expect((await post({ cookie })).statusCode).toBe(403);
    expect((await post({ cookie, 'x-csrf-token': 'nope' })).statusCode).toBe(403);
    expect((await post({ cookie, 'x-csrf-token': session.csrf, origin: 'http://evil.example' })).statusCode).toBe(403);
    expect((await post({ cookie, 'x-csrf-token': session.csrf, origin: 'http://ward.local:8080' })).json()).toEqual({ who: 'nurse' });
    expect((await post({ authorization: `Bearer ${TOKEN}` })).statusCode).toBe(200);
    expect((await post({})).statusCode).toBe(401);
  });

  it('lets sign-in through only from this origin', async () => {
    const signin = (origin?: string) => app.inject({ method: 'POST', url: '/api/session', headers: { host: 'ward.local:8080', ...(origin ? { origin } : {}) } });
    expect((await signin()).statusCode).toBe(200);
    expect((await signin('http://ward.local:8080')).statusCode).toBe(200);
    expect((await signin('http://evil.example')).statusCode).toBe(403);
  });

  it('parses cookies, ignoring malformed ones', () => {
    expect([...parseCookies('a=1; b = x%20y; bad; c=%E0%A4%A')]).toEqual([['a', '1'], ['b', 'x y']]);
    expect(parseCookies(undefined).size).toBe(0);
  });
});

describe('bearer token', () => {
  it('reads only the Bearer scheme and compares the token whatever its length', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer   abc')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
    const matches = tokenMatcher(TOKEN);
    expect(matches(TOKEN)).toBe(true);
    for (const t of ['', 'x', TOKEN.slice(0, -1), `${TOKEN}x`, TOKEN.toUpperCase()]) expect(matches(t)).toBe(false);
    expect(tokenMatcher(undefined)(TOKEN)).toBe(false);
  });
});

describe('accessGuard: wrong bearer tokens', () => {
  let now = 5_000_000;
  const tokens = new TokenLimiter({ maxFailuresPerAddress: 3, windowMs: 60_000, maxTrackedKeys: 16, clock: () => now });
  const blocks: Array<[string, number]> = [];
  const reasons: Array<string | undefined> = [];
  let guarded: FastifyInstance;
  const { id } = sessions.create({ username: 'charge', name: 'C', role: 'charge' });

  beforeAll(async () => {
    guarded = Fastify();
    guarded.addHook('onResponse', (req, reply, done) => {
      reasons.push(refusalReason(req, reply.statusCode));
      done();
    });
    guarded.addHook('onRequest', accessGuard({ apiToken: TOKEN, sessions, tokens, onTokenBlocked: async (ip, s) => void blocks.push([ip, s]) }));
    guarded.get('/api/ward', async (req) => ({ via: principalOf(req)?.via }));
    await guarded.ready();
  });
  afterAll(() => guarded.close());

  const get = (remoteAddress: string, authorization?: string, cookie?: string) =>
    guarded.inject({ url: '/api/ward', remoteAddress, headers: { ...(authorization ? { authorization } : {}), ...(cookie ? { cookie } : {}) } });

  it('answers 429 past the per-address limit, the right token too, until the window has passed; other addresses and sessions are not affected', async () => {
    for (let i = 0; i < 3; i++) expect((await get('10.0.0.1', `Bearer wrong-${i}`)).statusCode).toBe(401);
    expect(reasons.splice(0)).toEqual(['bad_token', 'bad_token', 'bad_token']);
    const refused = await get('10.0.0.1', `Bearer ${TOKEN}`);
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['retry-after']).toBe('60');
    expect((await get('10.0.0.1', 'Bearer wrong-again')).statusCode).toBe(429);
    expect(reasons.splice(0)).toEqual(['rate_limited', 'rate_limited']);
    // One report per block.
    expect(blocks).toEqual([['10.0.0.1', 60]]);
    expect((await get('10.0.0.2', `Bearer ${TOKEN}`)).json()).toEqual({ via: 'token' });
    expect((await get('10.0.0.1', undefined, `vigil_session=${id}`)).json()).toEqual({ via: 'session' });
    now += 30_000;
    expect((await get('10.0.0.1', `Bearer ${TOKEN}`)).statusCode).toBe(429);
    now += 30_000;
    expect((await get('10.0.0.1', `Bearer ${TOKEN}`)).json()).toEqual({ via: 'token' });
    // The right token does not wipe the address's record: a failure now counts with the rest.
    expect((await get('10.0.0.1', 'Bearer wrong-later')).statusCode).toBe(401);
    expect(tokens.size()).toBe(1);
  });

  it('counts a missing token as no_session, and another scheme (a proxy’s Basic) as no token at all', async () => {
    reasons.splice(0);
    for (let i = 0; i < 5; i++) expect((await get('10.0.0.3', 'Basic dXNlcjpwYXNz')).statusCode).toBe(401);
    expect((await get('10.0.0.3')).statusCode).toBe(401);
    expect(reasons).toEqual(Array(6).fill('no_session'));
    expect((await get('10.0.0.3', `Bearer ${TOKEN}`)).statusCode).toBe(200);
  });

  it('keeps a bounded number of addresses', async () => {
    for (let i = 0; i < 40; i++) await get(`10.2.0.${i}`, 'Bearer wrong');
    expect(tokens.size()).toBeLessThanOrEqual(16);
  });
});
