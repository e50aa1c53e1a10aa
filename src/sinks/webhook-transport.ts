/**
 * Posts one JSON body to the alarm webhook with the platform's `fetch` (one request, no retrying
 * here: the spool is the buffer and the sink owns the retry policy), and turns every failure into
 * a {@link SinkError} that says whether a retry can help.
 */
import { SinkError } from '../core/errors.js';
import { parseRetryAfter } from './backoff.js';

/** The `fetch` signature the sink needs; the global one by default. */
export type Fetch = typeof globalThis.fetch;

export interface WebhookTarget {
  /** Endpoint that receives `POST` requests with a JSON body. */
  readonly url: string;
  /** Extra request headers (e.g. `Authorization`). Sent as given, never logged. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Per-request timeout covering the response body too, in ms. */
  readonly timeoutMs: number;
  readonly fetch?: Fetch;
  /** Epoch ms, for a Retry-After given as an HTTP date. */
  readonly now?: () => number;
}

/** Delivers one JSON body; resolves on a 2xx. */
export interface JsonPoster {
  /**
   * @param signal aborts the request (the sink's stop bound).
   * @throws SinkError describing the failure and whether a retry can help.
   */
  post(body: string, signal: AbortSignal): Promise<void>;
}

/** Longest part of a response body kept in an error message, in characters. */
const MAX_BODY_CHARS = 500;

// 408, 429 and 5xx are worth retrying; so is anything that never produced a status.
const isRetryableStatus = (status: number): boolean => status === 408 || status === 429 || status >= 500;

/**
 * The setting an operator should check when the endpoint answers `status`, or undefined when the
 * status is about the alarms sent rather than the configuration. A redirect counts: `fetch` would
 * turn a redirected POST into a GET and report a success that delivered nothing.
 */
export function webhookSettingFor(status: number): string | undefined {
  if (status === 401 || status === 403) return 'alarms.webhook.headers';
  if (status === 404 || status === 405 || (status >= 300 && status < 400)) return 'alarms.webhook.url';
  return undefined;
}

/** Describes a failure that produced no HTTP status (refused connection, DNS, reset, timeout). */
function networkError(err: unknown, timedOut: boolean, timeoutMs: number): SinkError {
  if (timedOut) return new SinkError(`request timed out after ${timeoutMs} ms`, true);
  const e = err as { message?: unknown; cause?: { code?: unknown; message?: unknown } };
  const cause = e?.cause;
  const detail =
    cause && typeof cause.message === 'string'
      ? `${typeof cause.code === 'string' ? `${cause.code}: ` : ''}${cause.message}`
      : typeof e?.message === 'string'
        ? e.message
        : String(err);
  return new SinkError(detail, true);
}

/** A {@link JsonPoster} over `fetch`. Redirects are not followed (see {@link webhookSettingFor}). */
export function createWebhookPoster(target: WebhookTarget): JsonPoster {
  const doFetch = target.fetch ?? globalThis.fetch;
  const now = target.now ?? Date.now;
  const headers = { 'content-type': 'application/json', 'user-agent': 'vigil', ...target.headers };
  return {
    async post(body, signal) {
      const timeout = AbortSignal.timeout(target.timeoutMs);
      const combined = AbortSignal.any([signal, timeout]);
      let res: Response;
      try {
        res = await doFetch(target.url, { method: 'POST', headers, body, signal: combined, redirect: 'manual' });
      } catch (err) {
        throw networkError(err, timeout.aborted, target.timeoutMs);
      }
      if (res.status >= 200 && res.status < 300) {
        // Drain the body so the connection can be reused; the alarms are delivered either way.
        await res.arrayBuffer().catch(() => undefined);
        return;
      }
      const text = (await res.text().catch(() => '')).slice(0, MAX_BODY_CHARS).trim();
      const location = res.headers.get('location');
      const message =
        `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}` +
        `${location ? ` (redirects to ${location})` : ''}${text ? `: ${text}` : ''}`;
      const retryAfterMs = parseRetryAfter(res.headers.get('retry-after') ?? undefined, now());
      throw new SinkError(message, isRetryableStatus(res.status), retryAfterMs, res.status);
    },
  };
}
