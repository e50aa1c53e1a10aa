/**
 * Where the sign-in page goes after a successful sign-in: the `next` path the access guard put
 * in `/signin?next=…`, but only when it is a path on this site. Browsers normalise what they
 * are given before they navigate ([WHATWG URL]: a backslash is a slash in http(s) URLs, tabs and
 * newlines are removed, `.` segments are resolved), so `/\evil.example`, `/<TAB>/evil.example`
 * and `/.//evil.example` all reach another host or a protocol-relative path. The check therefore
 * parses the value with the same URL parser against a placeholder origin and keeps it only
 * when it stays on that origin, then refuses anything whose normalised path starts with two
 * slashes; characters a browser would strip or rewrite are refused outright.
 */

/** Where to go when `next` is absent or refused. */
export const DEFAULT_NEXT = '/ward';

/** Longest `next` considered, characters. */
const MAX_NEXT = 2048;

/** Stands in for this server's origin while parsing; never appears in an answer. */
const BASE = 'http://station.invalid';

/**
 * @returns a same-origin path (`/…`, with its query and fragment) for `raw`, or {@link DEFAULT_NEXT}.
 */
export function safeNextPath(raw: unknown): string {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > MAX_NEXT) return DEFAULT_NEXT;
  // C0 controls (tab, newline, …), DEL and backslashes: a browser strips or rewrites them.
  if (/[\u0000-\u001f\u007f\\]/.test(raw)) return DEFAULT_NEXT;
  if (!raw.startsWith('/') || raw.startsWith('//')) return DEFAULT_NEXT;
  let url: URL;
  try {
    url = new URL(raw, BASE);
  } catch {
    return DEFAULT_NEXT;
  }
  if (url.origin !== BASE) return DEFAULT_NEXT;
  const path = `${url.pathname}${url.search}${url.hash}`;
  // After normalisation (`/.//x` → `//x`) the path must still be one that cannot name a host.
  return path.startsWith('/') && !path.startsWith('//') ? path : DEFAULT_NEXT;
}
