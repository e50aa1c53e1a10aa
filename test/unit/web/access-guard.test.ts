import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import { accessGuard, bearerToken, parseCookies, principalOf, tokenMatcher } from '../../../src/web/access.js';
import { SessionStore } from '../../../src/web/sessions.js';

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
