import { describe, expect, it } from 'vitest';
import { daysInMonth, parseDeviceTime, parseIsoInstant } from '../../../src/core/time.js';

describe('parseIsoInstant', () => {
  it.each([
    ['2026-03-02T08:00:01Z', Date.UTC(2026, 2, 2, 8, 0, 1)],
    ['2026-03-02T08:00Z', Date.UTC(2026, 2, 2, 8, 0)],
    ['2026-03-02T08:00:01.5Z', Date.UTC(2026, 2, 2, 8, 0, 1, 500)],
    ['2026-03-02T08:00:01.123456789Z', Date.UTC(2026, 2, 2, 8, 0, 1, 123)],
    ['2026-03-02T09:00:01+01:00', Date.UTC(2026, 2, 2, 8, 0, 1)],
    ['2026-03-02T03:30:01-0430', Date.UTC(2026, 2, 2, 8, 0, 1)],
    ['2028-02-29T00:00:00Z', Date.UTC(2028, 1, 29)], // leap year
    ['2000-02-29T00:00:00Z', Date.UTC(2000, 1, 29)], // divisible by 400
    ['2000-01-01T00:00:00Z', Date.UTC(2000, 0, 1)], // first accepted instant
    ['2099-12-31T23:59:59.999Z', Date.UTC(2099, 11, 31, 23, 59, 59, 999)],
  ])('%s', (text, ms) => {
    expect(parseIsoInstant(text)).toBe(ms);
  });

  it.each([
    ['2026-02-30T10:00:00Z', /has no day 30/], // would roll over to 2 March
    ['2026-02-29T10:00:00Z', /has no day 29/], // not a leap year
    ['2100-02-29T10:00:00Z', /has no day 29/], // century, not divisible by 400
    ['2026-04-31T10:00:00Z', /has no day 31/],
    ['2026-13-01T10:00:00Z', /no month 13/],
    ['2026-00-01T10:00:00Z', /no month 00/],
    ['2026-01-00T10:00:00Z', /no day 00/],
    ['2026-01-01T24:00:00Z', /not a time of day/],
    ['2026-01-01T10:60:00Z', /not a time of day/],
    ['2026-01-01T10:00:60Z', /not a time of day/],
    ['2026-01-01T10:00:00+24:00', /zone offset/],
    ['2026-03-02T08:00:01', /with a zone/],
    ['2026-03-02', /with a zone/],
    ['+002026-03-02T08:00:01Z', /with a zone/],
    ['2026-03-02T08:00:01Z\n', /with a zone/],
    ['Mon, 02 Mar 2026 08:00:01 GMT', /with a zone/],
  ])('refuses %s', (text, why) => {
    const r = parseIsoInstant(text);
    expect(typeof r).toBe('object');
    expect((r as { problem: string }).problem).toMatch(why);
  });

  it('reads years below 100 as they are', () => {
    expect(parseIsoInstant('0001-01-01T00:00:00Z')).toBe(-62_135_596_800_000);
  });

  it('knows the length of every month', () => {
    expect(Array.from({ length: 12 }, (_, i) => daysInMonth(2026, i + 1))).toEqual([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]);
    expect(daysInMonth(2024, 2)).toBe(29);
  });
});

describe('parseDeviceTime', () => {
  it('takes epoch ms or ISO 8601 between 2000 and 2100', () => {
    expect(parseDeviceTime(1772438401000)).toBe(1772438401000);
    expect(parseDeviceTime('2026-03-02T08:00:01Z')).toBe(Date.UTC(2026, 2, 2, 8, 0, 1));
  });

  it.each([
    ['0001-01-01T00:00:00Z', /outside 2000–2100/],
    ['1999-12-31T23:59:59Z', /outside 2000–2100/],
    ['2100-01-01T00:00:00Z', /outside 2000–2100/],
    ['9999-12-31T23:59:59Z', /outside 2000–2100/],
    ['2026-02-30T10:00:00Z', /has no day 30/],
    [1772438401, /not epoch milliseconds/],
    [Number.NaN, /not epoch milliseconds/],
    [null, /got null/],
    [true, /got boolean/],
  ])('refuses %s', (ts, why) => {
    const r = parseDeviceTime(ts);
    expect((r as { problem: string }).problem).toMatch(why);
  });
});
