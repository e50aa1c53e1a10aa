/**
 * Timestamps from outside (devices' `ts`, recordings): epoch milliseconds or ISO 8601 instants,
 * both range-checked. `Date.parse` is not used on ISO text because it rolls impossible dates
 * over (`2026-02-30` becomes 2 March) and takes years like 0001; here every field is checked
 * against the calendar and an impossible date is refused.
 */

/** Earliest accepted instant: 2000-01-01T00:00:00Z, epoch ms (catches seconds sent as ms). */
export const MIN_TIMESTAMP_MS = 946_684_800_000;
/** Latest accepted instant: 2100-01-01T00:00:00Z, epoch ms. */
export const MAX_TIMESTAMP_MS = 4_102_444_800_000;

/** `YYYY-MM-DDTHH:MM[:SS[.fff…]](Z|±HH[:]MM)` ([RFC 3339] §5.6, with `:SS` optional). */
const ISO = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?([Zz]|([+-])(\d{2}):?(\d{2}))$/;

/** True for a leap year of the Gregorian calendar. */
function leap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Days in `month` (1–12) of `year`. */
export function daysInMonth(year: number, month: number): number {
  return month === 2 && leap(year) ? 29 : (DAYS[month - 1] ?? 0);
}

/**
 * Parses an ISO 8601 instant with a zone into epoch ms, refusing impossible dates and times.
 * No range check: see {@link parseDeviceTime} for time from devices.
 * @returns the instant, or a reason it is not one (wrong form, impossible date, time or offset).
 */
export function parseIsoInstant(text: string): number | { problem: string } {
  const quick = canonical(text);
  if (quick !== undefined) return quick;
  const m = ISO.exec(text);
  if (!m) return { problem: 'is not ISO 8601 with a zone (e.g. 2026-03-02T08:00:00Z)' };
  const [year, month, day, hour, minute] = [m[1], m[2], m[3], m[4], m[5]].map(Number) as [number, number, number, number, number];
  const second = m[6] === undefined ? 0 : Number(m[6]);
  // [RFC 3339] §5.7: month 01–12, day within the month, hour 00–23, minute 00–59. A leap
  // second (60) is refused: epoch ms cannot represent it.
  if (month < 1 || month > 12) return { problem: `has no month ${m[2]}` };
  if (day < 1 || day > daysInMonth(year, month)) return { problem: `is not a date: ${m[1]}-${m[2]} has no day ${m[3]}` };
  if (hour > 23 || minute > 59 || second > 59) return { problem: 'is not a time of day' };
  let offsetMin = 0;
  if (m[9] !== undefined) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return { problem: 'has an impossible zone offset' };
    offsetMin = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const fraction = m[7] === undefined ? 0 : Math.round(Number(`0${m[7]}`) * 1000);
  // setUTCFullYear, not Date.UTC, which reads years 0–99 as 1900–1999.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, fraction);
  return date.getTime() - offsetMin * 60_000;
}

/** The day of the last canonical instant read, and its start in epoch ms. */
let cachedDay = '';
let cachedDayMs = 0;

/** The digits at `at`…`at + n - 1` as a number, or NaN. */
function digits(text: string, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return Number.NaN;
    v = v * 10 + d;
  }
  return v;
}

/**
 * `YYYY-MM-DDTHH:MM:SS.mmmZ` exactly (what `toISOString` writes, so what recordings hold) read by
 * position, the date checked once per day seen: recordings hold hundreds of thousands of them.
 * undefined for anything else (the general parser decides).
 */
function canonical(text: string): number | undefined {
  if (text.length !== 24 || text[10] !== 'T' || text[13] !== ':' || text[16] !== ':' || text[19] !== '.' || text[23] !== 'Z') return undefined;
  const day = text.slice(0, 10);
  if (day !== cachedDay) {
    const start = parseIsoInstant(`${day}T00:00:00Z`);
    if (typeof start !== 'number') return undefined;
    cachedDay = day;
    cachedDayMs = start;
  }
  const hour = digits(text, 11, 2);
  const minute = digits(text, 14, 2);
  const second = digits(text, 17, 2);
  const ms = digits(text, 20, 3);
  // NaN fails every comparison below: the general parser then says what is wrong
  if (!(hour <= 23 && minute <= 59 && second <= 59 && ms >= 0)) return undefined;
  return cachedDayMs + ((hour * 60 + minute) * 60 + second) * 1000 + ms;
}

/**
 * A timestamp from a device: epoch ms (a number) or an ISO 8601 instant with a zone (a string),
 * between 2000 and 2100 either way (the range also catches seconds sent as milliseconds).
 * @returns epoch ms, or a reason the value is not a usable time.
 */
export function parseDeviceTime(ts: unknown): number | { problem: string } {
  if (typeof ts === 'number') return inRange(ts) ? Math.round(ts) : { problem: `${ts} is not epoch milliseconds between 2000 and 2100` };
  if (typeof ts !== 'string') return { problem: `must be epoch ms or an ISO 8601 string, got ${ts === null ? 'null' : typeof ts}` };
  const ms = parseIsoInstant(ts);
  const shown = JSON.stringify(ts.slice(0, 40));
  if (typeof ms !== 'number') return { problem: `${shown} ${ms.problem}` };
  return inRange(ms) ? ms : { problem: `${shown} is outside 2000–2100` };
}

/** True when `ms` lies within the accepted range. */
export function inRange(ms: number): boolean {
  return Number.isFinite(ms) && ms >= MIN_TIMESTAMP_MS && ms < MAX_TIMESTAMP_MS;
}
