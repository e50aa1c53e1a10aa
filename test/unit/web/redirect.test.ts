import { describe, expect, it } from 'vitest';
import { DEFAULT_NEXT, safeNextPath } from '../../../src/web/redirect.js';

describe('safeNextPath', () => {
  it.each([
    ['/ward', '/ward'],
    ['/patients/P1?hours=2#trend', '/patients/P1?hours=2#trend'],
    ['/census', '/census'],
    ['/a/../audit', '/audit'],
    ['/%2F%2Fevil.example', '/%2F%2Fevil.example'], // an encoded slash stays a path on this site
  ])('keeps %j as %j', (raw, want) => {
    expect(safeNextPath(raw)).toBe(want);
  });

  it.each([
    '/\\evil.example/',
    '/\\\\evil.example',
    '\\/evil.example',
    '/\t/evil.example',
    '\t//evil.example',
    '/\n/evil.example',
    '/\r/evil.example',
    '/\u0000/evil.example',
    '//evil.example',
    '///evil.example',
    '/.//evil.example',
    '/x/..//evil.example',
    'http://evil.example/',
    'https:evil.example',
    'javascript:alert(1)',
    'evil.example',
    '',
    `/${'a'.repeat(3000)}`,
    undefined,
    42,
  ])('refuses %j', (raw) => {
    expect(safeNextPath(raw)).toBe(DEFAULT_NEXT);
  });
});
