import { describe, expect, it } from 'vitest';
import { MAX_RETRY_AFTER_MS, backoffDelay, parseRetryAfter, retryDelay } from '../../../src/sinks/backoff.js';

const opts = { baseMs: 100, maxMs: 30_000 };

describe('backoffDelay (full jitter)', () => {
  it('draws uniformly below base·2^attempt', () => {
    const top = () => 0.999999;
    expect([0, 1, 2, 3, 4].map((a) => backoffDelay(a, opts, top))).toEqual([99, 199, 399, 799, 1599]);
    expect(backoffDelay(3, opts, () => 0.5)).toBe(400);
    expect(backoffDelay(3, opts, () => 0)).toBe(0);
  });

  it('never exceeds maxMs, even for huge attempt counts', () => {
    expect(backoffDelay(9, opts, () => 0.999999)).toBe(29_999);
    expect(backoffDelay(10_000, opts, () => 0.999999)).toBe(29_999);
    expect(backoffDelay(10_000, opts, () => 0.5)).toBe(15_000);
  });
});

describe('retryDelay', () => {
  it('waits at least what the server asked', () => {
    expect(retryDelay(0, opts, () => 0.5, 2000)).toBe(2000);
    expect(retryDelay(8, opts, () => 0.5, 2000)).toBe(12_800);
  });
  it('ignores absent or zero Retry-After and caps absurd ones', () => {
    expect(retryDelay(1, opts, () => 0.5)).toBe(100);
    expect(retryDelay(1, opts, () => 0.5, 0)).toBe(100);
    expect(retryDelay(0, opts, () => 0, 86_400_000)).toBe(MAX_RETRY_AFTER_MS);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it.each([
    ['7', 7000],
    [' 0 ', 0],
    [['3', '9'], 3000],
    ['Thu, 01 Jan 2026 00:00:05 GMT', 5000],
    ['Wed, 31 Dec 2025 23:59:00 GMT', 0],
    ['soon', undefined],
    [undefined, undefined],
  ] as const)('%j → %j ms', (header, expected) => {
    expect(parseRetryAfter(header as string | string[] | undefined, now)).toBe(expected);
  });
});
