import { describe, expect, it } from 'vitest';
import { csrfMatches, sessionKey, SessionStore } from '../../../src/web/sessions.js';
import { hashPassword, verifyPassword } from '../../../src/web/passwords.js';

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

  it('an account holds at most maxPerUser sessions: signing in once more ends its oldest, no one else\'s', () => {
    let now = 1_000_000;
    const store = new SessionStore({ ttlMs: 60_000, maxPerUser: 3, clock: () => now });
    const other = store.create({ username: 'b', name: 'B', role: 'charge' });
    const mine = [0, 1, 2].map(() => {
      now += 10;
      return store.create({ username: 'a', name: 'A', role: 'nurse' });
    });
    expect(mine.map((m) => m.ended)).toEqual([[], [], []]);
    now += 10;
    const fourth = store.create({ username: 'a', name: 'A', role: 'nurse' });
    expect(fourth.ended).toEqual([{ key: sessionKey(mine[0]!.id), session: mine[0]!.session }]);
    expect(store.get(mine[0]!.id)).toBeUndefined();
    for (const s of [mine[1]!, mine[2]!, fourth, other]) expect(store.get(s.id)).toBe(s.session);
    expect(store.count()).toBe(4);
    // 150 sign-ins of one account leave it 3 sessions
    for (let i = 0; i < 150; i++) store.create({ username: 'a', name: 'A', role: 'nurse' });
    expect(store.count()).toBe(4);
    // an expired session is not counted against the account, nor reported ended
    now += 60_000 - 30;
    const after = store.create({ username: 'b', name: 'B', role: 'charge' });
    expect(after.ended).toEqual([]);
  });

  it('matches the CSRF token exactly', () => {
    const { session } = new SessionStore({ ttlMs: 1000 }).create({ username: 'a', name: 'A', role: 'nurse' });
    expect(csrfMatches(session, session.csrf)).toBe(true);
    expect(csrfMatches(session, undefined)).toBe(false);
    expect(csrfMatches(session, '')).toBe(false);
    expect(csrfMatches(session, session.csrf + 'x')).toBe(false);
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
