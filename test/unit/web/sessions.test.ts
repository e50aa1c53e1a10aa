import { describe, expect, it } from 'vitest';
import { csrfMatches, SessionStore } from '../../../src/web/sessions.js';
import { SignInLimiter } from '../../../src/http/auth-ratelimit.js';
import { hashPassword, verifyPassword } from '../../../src/http/auth-passwords.js';

describe('SessionStore', () => {
  it('finds a session by its cookie until it expires, and never by a wrong cookie', () => {
    let now = 1_000_000;
    const store = new SessionStore({ ttlMs: 60_000, clock: () => now });
    const { id, session } = store.create({ username: 'nurse.jones', name: 'Sam Jones', role: 'nurse' });
    expect(id).toMatch(/^[\w-]{43}$/);
    expect(store.get(id)).toBe(session);
    expect(store.get(id.slice(0, -1) + (id.endsWith('A') ? 'B' : 'A'))).toBeUndefined();
    expect(store.get(undefined)).toBeUndefined();
    now += 59_999;
    expect(store.get(id)).toBe(session);
    now += 1;
    expect(store.get(id)).toBeUndefined();
    expect(store.count()).toBe(0);
  });

  it('ends one session on sign-out and all of a user on removal', () => {
    const store = new SessionStore({ ttlMs: 60_000 });
    const a = store.create({ username: 'a', name: 'A', role: 'nurse' });
    const a2 = store.create({ username: 'a', name: 'A', role: 'nurse' });
    const b = store.create({ username: 'b', name: 'B', role: 'charge' });
    store.destroy(a.id);
    expect(store.get(a.id)).toBeUndefined();
    expect(store.get(a2.id)).toBeDefined();
    store.destroyUser('a');
    expect(store.get(a2.id)).toBeUndefined();
    expect(store.get(b.id)).toBeDefined();
  });

  it('matches the CSRF token exactly', () => {
    const { session } = new SessionStore({ ttlMs: 1000 }).create({ username: 'a', name: 'A', role: 'nurse' });
    expect(csrfMatches(session, session.csrf)).toBe(true);
    expect(csrfMatches(session, undefined)).toBe(false);
    expect(csrfMatches(session, '')).toBe(false);
    expect(csrfMatches(session, session.csrf + 'x')).toBe(false);
  });
});

describe('SignInLimiter', () => {
  it('refuses a username after maxFailures within the window, until the oldest failure ages out', () => {
    let now = 0;
    const limiter = new SignInLimiter({ maxFailures: 3, windowMs: 60_000, clock: () => now });
    const keys = ['ip:10.0.0.5', 'user:nurse'];
    for (let i = 0; i < 3; i++) {
      expect(limiter.retryAfterMs(keys)).toBe(0);
      limiter.fail(keys);
      now += 10_000;
    }
    // failures at 0, 10 s, 20 s; now 30 s: blocked until the first is 60 s old
    expect(limiter.retryAfterMs(keys)).toBe(30_000);
    expect(limiter.retryAfterMs(['user:other'])).toBe(0);
    now = 60_001;
    expect(limiter.retryAfterMs(keys)).toBe(0);
  });

  it('allows an address five times as many failures as a username (a ward behind one address)', () => {
    const limiter = new SignInLimiter({ maxFailures: 2, windowMs: 60_000, clock: () => 0 });
    for (let i = 0; i < 9; i++) limiter.fail([`ip:1.2.3.4`, `user:u${i}`]);
    expect(limiter.retryAfterMs(['ip:1.2.3.4', 'user:new'])).toBe(0);
    limiter.fail(['ip:1.2.3.4', 'user:new']);
    expect(limiter.retryAfterMs(['ip:1.2.3.4', 'user:fresh'])).toBe(60_000);
  });

  it('forgets a username after a successful sign-in', () => {
    const limiter = new SignInLimiter({ maxFailures: 1, windowMs: 60_000, clock: () => 0 });
    limiter.fail(['user:a']);
    expect(limiter.retryAfterMs(['user:a'])).toBeGreaterThan(0);
    limiter.reset('user:a');
    expect(limiter.retryAfterMs(['user:a'])).toBe(0);
  });
});

describe('passwords', () => {
  it('verifies the right password only; an unknown user costs a hash and fails', async () => {
    const hash = await hashPassword('correct horse battery');
    expect(hash).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(await verifyPassword('correct horse battery', hash)).toBe(true);
    expect(await verifyPassword('correct horse batterY', hash)).toBe(false);
    expect(await verifyPassword('anything', undefined)).toBe(false);
    expect(await verifyPassword('anything', 'not-a-hash')).toBe(false);
  });
});
