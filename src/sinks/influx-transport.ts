/**
 * Sends a body of line protocol to InfluxDB's v2 write endpoint through the official client's
 * transport (one request, no client-side buffering or retrying: the spool is the buffer), and
 * turns every failure into a {@link SinkError} that says whether to retry.
 */
import { HttpError, InfluxDB } from '@influxdata/influxdb-client';
import { SinkError } from '../core/errors.js';
import { parseRetryAfter } from './backoff.js';

/** Writes one body of newline-separated lines; resolves on a 2xx. */
export interface LineSender {
  /** @throws SinkError describing the failure and whether a retry can help. */
  send(body: string, signal?: AbortSignal): Promise<void>;
}

export interface InfluxTarget {
  /** Base URL, e.g. `http://influx.example:8086`. */
  readonly url: string;
  /** API token; sent as `Authorization: Token …`, never logged. */
  readonly token: string;
  readonly org: string;
  readonly bucket: string;
  /** Per-request timeout, in ms. */
  readonly timeoutMs?: number;
}

const SETTING_FOR_STATUS: Readonly<Record<number, string>> = {
  401: 'influx.token',
  403: 'influx.token',
  404: 'influx.bucket',
  405: 'influx.url',
};

/**
 * The setting an operator should check when InfluxDB answers `status`, or undefined when the
 * status is about the data sent rather than the configuration (token, bucket, URL).
 */
export function influxSettingFor(status: number): string | undefined {
  return SETTING_FOR_STATUS[status];
}

// Network failures worth retrying. Anything not recognised is also retried: keeping data in the
// spool and trying again is the safe default when the cause is unknown.
const isRetryableStatus = (status: number): boolean => status === 408 || status === 429 || status >= 500;

/**
 * Classifies an error from a write request.
 * @param nowMs current time in epoch ms, for a Retry-After given as a date.
 */
export function classifyWriteError(err: unknown, nowMs: number): SinkError {
  if (err instanceof SinkError) return err;
  if (err instanceof HttpError) {
    const status = err.statusCode;
    const retryAfterMs = parseRetryAfter(err.headers?.['retry-after'], nowMs);
    const body = (err.body ?? '').slice(0, 500);
    const message = `HTTP ${status}${err.statusMessage ? ` ${err.statusMessage}` : ''}${body ? `: ${body}` : ''}`;
    return new SinkError(message, isRetryableStatus(status), retryAfterMs, status);
  }
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' ? `${e.code}: ` : '';
  const message = typeof e?.message === 'string' ? e.message : String(err);
  return new SinkError(`${code}${message}`, true);
}

/** A {@link LineSender} backed by `@influxdata/influxdb-client`'s transport. */
export function createInfluxSender(target: InfluxTarget, now: () => number = Date.now): LineSender {
  const client = new InfluxDB({ url: target.url, token: target.token, timeout: target.timeoutMs ?? 10_000 });
  const path =
    `/api/v2/write?org=${encodeURIComponent(target.org)}` +
    `&bucket=${encodeURIComponent(target.bucket)}&precision=ms`;
  return {
    async send(body, signal) {
      try {
        await client.transport.request(path, body, {
          method: 'POST',
          headers: { 'content-type': 'text/plain; charset=utf-8' },
          ...(signal ? { signal } : {}),
        });
      } catch (err) {
        throw classifyWriteError(err, now());
      }
    },
  };
}
