/**
 * Every HTTP refusal counted and logged. Whoever refuses a request (the access guard, a role
 * check, a route, the body parser) answers as before and may name why with
 * {@link markRefusal}; once the answer has gone out, {@link HttpRefusals.observe} counts each
 * 400, 401, 403, 413, 415 and 429 as `vigil_http_refused_total{reason}` (a refusal nobody named
 * gets its status's reason) and logs it with the method, the path (never the query), the client
 * address and the reason. The log holds at most one line per address and reason a minute, with
 * how many were left out since the last one, so a flood of refusals cannot flood the log; the
 * metric counts every one. Credentials (the bearer token, cookies, bodies, error messages that
 * may quote a body) never reach the log line.
 */
import type { FastifyRequest } from 'fastify';
import type { Counters } from '../core/counters.js';
import type { Logger } from '../core/log.js';

/** The stable `reason` label values of `vigil_http_refused_total`. */
export const REFUSAL_REASONS = [
  /** 401: an API call with a wrong bearer token. */
  'bad_token',
  /** 401: an API call with neither the bearer token nor a live session. */
  'no_session',
  /** 401: a sign-in with a wrong username or password. */
  'bad_password',
  /** 403: a session's change without its CSRF token, or with a wrong one. */
  'csrf',
  /** 403: a session's change or a sign-in from another origin. */
  'origin',
  /** 403: the signed-in role lacks the permission. */
  'role',
  /** 403 nobody named (none are expected). */
  'forbidden',
  /** 413: a body over the HTTP server's body limit. */
  'body_too_large',
  /** 400: a body that is not JSON or does not match its route's schema. */
  'bad_request',
  /** 415: a body of a type the route does not take. */
  'unsupported_media_type',
  /** 429: a limiter said no (wrong bearer tokens or sign-ins from one address, live streams). */
  'rate_limited',
  /** 408: a request whose headers, or whole, did not arrive in time (http.*TimeoutSeconds). */
  'request_timeout',
  /** 431: request headers over Node's bound. */
  'headers_too_large',
  /** 400: bytes Node's parser could not read as an HTTP request. */
  'malformed_request',
] as const;

export type RefusalReason = (typeof REFUSAL_REASONS)[number];

const BY_STATUS: Readonly<Record<number, RefusalReason>> = {
  400: 'bad_request',
  401: 'no_session',
  403: 'forbidden',
  413: 'body_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
};

interface Mark {
  readonly reason: RefusalReason;
  /** More for the log line: a setting's name, a retry time. Never a credential. */
  readonly detail?: Readonly<Record<string, unknown>>;
}

const marks = new WeakMap<FastifyRequest, Mark>();

/** Names why `req` is being refused, for the count and the log line of {@link HttpRefusals}. */
export function markRefusal(req: FastifyRequest, reason: RefusalReason, detail?: Record<string, unknown>): void {
  marks.set(req, detail ? { reason, detail } : { reason });
}

/** The reason a refusal with `status` is counted under, or undefined when `status` is no refusal. */
export function refusalReason(req: FastifyRequest, status: number): RefusalReason | undefined {
  const fallback = BY_STATUS[status];
  if (fallback === undefined) return undefined;
  return marks.get(req)?.reason ?? fallback;
}

export interface HttpRefusalsOptions {
  readonly counters: Counters;
  readonly logger: Logger;
  /** Epoch-ms clock (tests). */
  readonly clock?: () => number;
  /** ms between two log lines for the same address and reason (default 60 s). */
  readonly logEveryMs?: number;
  /** Address and reason pairs remembered for the interval at most (default 256); past it a new pair is counted, not logged. */
  readonly maxLogKeys?: number;
}

/** The longest path written to a log line; a longer one is cut. */
const MAX_PATH = 200;

interface Logged {
  at: number;
  /** Refusals of this pair since its last line that were not logged. */
  suppressed: number;
}

export class HttpRefusals {
  private readonly clock: () => number;
  private readonly logEveryMs: number;
  private readonly maxLogKeys: number;
  /** `address\0reason` → its last line, oldest first. */
  private readonly logged = new Map<string, Logged>();

  constructor(private readonly opts: HttpRefusalsOptions) {
    this.clock = opts.clock ?? Date.now;
    this.logEveryMs = opts.logEveryMs ?? 60_000;
    this.maxLogKeys = opts.maxLogKeys ?? 256;
    // Every reason has a series from the start, so a rate over it is defined before the first refusal.
    for (const reason of REFUSAL_REASONS) opts.counters.refuseHttp(reason, 0);
  }

  /** Counts and (rate-limited) logs the answer to `req` when `status` refuses it. */
  observe(req: FastifyRequest, status: number): void {
    const reason = refusalReason(req, status);
    if (reason === undefined) return;
    this.opts.counters.refuseHttp(reason);
    const rawPath = req.url.split('?')[0] ?? '/';
    const path = rawPath.length > MAX_PATH ? `${rawPath.slice(0, MAX_PATH)}…` : rawPath;
    this.line(req.ip, reason, { method: req.method, path, status, ...marks.get(req)?.detail });
  }

  /**
   * Counts and logs a request Node's parser refused before any route saw it (a timeout, headers
   * too large, bytes that are no request): there is no request to read a method or path from.
   */
  refusedBeforeRoute(remote: string, reason: RefusalReason, status: number, detail?: Readonly<Record<string, unknown>>): void {
    this.opts.counters.refuseHttp(reason);
    this.line(remote, reason, { status, ...detail });
  }

  /** The log line of a refusal, unless its address and reason had one within the interval. */
  private line(remote: string, reason: RefusalReason, fields: Readonly<Record<string, unknown>>): void {
    const suppressed = this.admitLine(`${remote}\0${reason}`);
    if (suppressed === undefined) return;
    this.opts.logger.warn(
      { ...fields, remote, reason, ...(suppressed > 0 ? { notLoggedSinceLast: suppressed } : {}) },
      `HTTP request refused (${reason}); at most one line per address and reason a minute, every one is counted in vigil_http_refused_total`,
    );
  }

  /** Address and reason pairs remembered now (bounded by `maxLogKeys`). */
  size(): number {
    return this.logged.size;
  }

  /**
   * Whether a line for `key` may be written now: the number of its refusals left out since its
   * last line, or undefined when this one is left out too.
   */
  private admitLine(key: string): number | undefined {
    const now = this.clock();
    const last = this.logged.get(key);
    if (last && now - last.at < this.logEveryMs) {
      last.suppressed++;
      return undefined;
    }
    if (last) this.logged.delete(key);
    else if (!this.makeRoom(now)) return undefined;
    this.logged.set(key, { at: now, suppressed: 0 });
    return last?.suppressed ?? 0;
  }

  /** Forgets pairs whose interval has passed, oldest first; false when all are still within theirs. */
  private makeRoom(now: number): boolean {
    for (const [k, v] of this.logged) {
      if (this.logged.size < this.maxLogKeys) return true;
      if (now - v.at < this.logEveryMs) return false;
      this.logged.delete(k);
    }
    return this.logged.size < this.maxLogKeys;
  }
}
