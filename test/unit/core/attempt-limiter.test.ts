import { describe, expect, it } from 'vitest';
import { AttemptLimiter } from '../../../src/core/attempt-limiter.js';
import { SignInLimiter } from '../../../src/web/signin-limiter.js';

describe('AttemptLimiter', () => {
  it('counts an attempt when it is admitted, so concurrent attempts cannot pass the limit', () => {
    const l = new AttemptLimiter({ windowMs: 60_000, maxKeys: 100, clock: () => 0 });
    // Forty attempts begun before any finishes: only the limit's worth are admitted.
    const results = Array.from({ length: 40 }, () => l.begin([['user:nurse', 5]]));
    expect(results.filter((r) => r.ok)).toHaveLength(5);
    expect(results.filter((r) => !r.ok)).toHaveLength(35);
  });

  it('refuses until the attempt that started the block ages out, and reports each block once', () => {
    let now = 0;
    const l = new AttemptLimiter({ windowMs: 60_000, maxKeys: 100, clock: () => now });
    for (let i = 0; i < 3; i++) {
      expect(l.begin([['k', 3]]).ok).toBe(true);
      now += 10_000;
    }
    // attempts at 0, 10 s, 20 s; now 30 s: blocked until the first is 60 s old
    expect(l.begin([['k', 3]])).toEqual({ ok: false, retryAfterMs: 30_000, key: 'k', first: true });
    expect(l.begin([['k', 3]])).toMatchObject({ ok: false, first: false });
    now = 60_001;
    expect(l.begin([['k', 3]]).ok).toBe(true);
    // A new block (attempts at 10 s, 20 s, 60.001 s) is reported again.
    expect(l.begin([['k', 3]])).toMatchObject({ ok: false, first: true, retryAfterMs: 10_000 - 1 });
  });

  it('names the key that blocks longest', () => {
    const l = new AttemptLimiter({ windowMs: 60_000, maxKeys: 100, clock: () => 0 });
    l.begin([['ip:a', 1], ['user:u', 5]]);
    expect(l.begin([['ip:a', 1], ['user:u', 5]])).toMatchObject({ ok: false, key: 'ip:a' });
    expect(l.begin([['ip:b', 1], ['user:u', 5]]).ok).toBe(true);
  });

  it('a success takes its attempt back and forgets the keys asked; a cancel only takes it back', () => {
    const l = new AttemptLimiter({ windowMs: 60_000, maxKeys: 100, clock: () => 0 });
    const a = l.begin([['ip:a', 2], ['user:u', 2]]);
    const b = l.begin([['ip:a', 2], ['user:u', 2]]);
    if (!a.ok || !b.ok) throw new Error('admitted');
    l.cancel(a.ticket);
    l.succeed(b.ticket, ['user:u']);
    expect(l.size()).toBe(0);
  });

  it('keeps memory bounded: keys past their window are swept, and at most maxKeys are tracked', () => {
    let now = 0;
    const l = new AttemptLimiter({ windowMs: 1000, maxKeys: 50, clock: () => now });
    for (let i = 0; i < 1000; i++) l.begin([[`user:${i}`, 5]]);
    expect(l.size()).toBe(50);
    // The most recently used keys are the ones kept.
    expect(l.begin([['user:999', 1]]).ok).toBe(false);
    now = 1001;
    expect(l.size()).toBe(0);
  });
});

describe('SignInLimiter', () => {
  it('allows an address five times as many failures as a username (a ward behind one address)', () => {
    const limiter = new SignInLimiter({ maxFailures: 2, windowMs: 60_000, clock: () => 0 });
    for (let i = 0; i < 10; i++) expect(limiter.begin('1.2.3.4', `u${i}`).ok).toBe(true);
    expect(limiter.begin('1.2.3.4', 'fresh')).toMatchObject({ ok: false, key: 'ip:1.2.3.4' });
    expect(limiter.begin('5.6.7.8', 'u0').ok).toBe(true);
    expect(limiter.begin('5.6.7.8', 'u0')).toMatchObject({ ok: false, key: 'user:u0' });
  });

  it('forgets a username after a successful sign-in', () => {
    const limiter = new SignInLimiter({ maxFailures: 2, windowMs: 60_000, clock: () => 0 });
    limiter.begin('a', 'nurse');
    const ok = limiter.begin('a', 'nurse');
    if (!ok.ok) throw new Error('admitted');
    limiter.succeed(ok.ticket, 'nurse');
    expect(limiter.begin('a', 'nurse').ok).toBe(true);
    expect(limiter.begin('a', 'nurse').ok).toBe(true);
  });
});
