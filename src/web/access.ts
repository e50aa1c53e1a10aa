/**
 * Who may call what on the HTTP port. Every request passes `accessGuard` first:
 *
 * - `/healthz`, `/metrics`, `/static/*` and the sign-in page are open: they carry no patient data.
 * - `/api/*` needs either the bearer token (`http.apiToken`, for machine clients) or a
 *   nurse-station session cookie; without one it answers 401. A session's state change (any
 *   method but GET/HEAD) must carry the session's CSRF token in `x-csrf-token` and, when the
 *   browser sends an Origin, come from this same origin; otherwise 403.
 * - Pages answer a browser without a session with a redirect to `/signin`.
 * - `POST /api/session` (sign-in) is open but takes JSON only, which a cross-site form cannot
 *   send without a CORS preflight this server never grants.
 * - Wrong bearer tokens are counted per client address (token-limiter.ts): past the limit, a
 *   request from that address presenting a bearer token is answered 429, right token or not.
 *
 * Every refusal names its reason (http/refusals.ts), which counts it in /metrics and logs it.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { markRefusal } from '../http/refusals.js';
import { csrfMatches, type Role, type Session, type SessionStore } from './sessions.js';
import type { TokenLimiter } from './token-limiter.js';

/** Who made a request. */
export interface Principal {
  readonly username: string;
  readonly name: string;
  readonly role: Role | 'api';
  readonly via: 'session' | 'token';
  /** The session's cookie value, for sign-out. */
  readonly sessionId?: string;
  readonly session?: Session;
}

/** Name of the session cookie. */
export const SESSION_COOKIE = 'vigil_session';

const principals = new WeakMap<FastifyRequest, Principal>();

/** The authenticated caller of a request that passed the guard, if any. */
export function principalOf(req: FastifyRequest): Principal | undefined {
  return principals.get(req);
}

/** Parses a Cookie header into name → value. */
export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    try {
      out.set(name, decodeURIComponent(part.slice(eq + 1).trim()));
    } catch {
      /* a malformed cookie is ignored */
    }
  }
  return out;
}

export interface AccessGuardOptions {
  /** Bearer token for machine clients (`http.apiToken`). */
  readonly apiToken?: string;
  readonly sessions: SessionStore;
  /** Counts wrong bearer tokens per address and blocks guessing. */
  readonly tokens?: TokenLimiter;
  /** The first refusal of an address's block (for one audit entry per block). */
  readonly onTokenBlocked?: (ip: string, retryAfterSeconds: number) => Promise<void>;
}

const OPEN_PATHS = new Set(['/healthz', '/metrics', '/signin', '/favicon.ico']);
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** The token of an `Authorization: Bearer <token>` header; undefined for none or another scheme. */
export function bearerToken(header: string | undefined): string | undefined {
  const m = /^Bearer[ \t]+(.*)$/is.exec(header ?? '');
  return m ? m[1]!.trim() : undefined;
}

/**
 * Compares a presented token with the configured one in time independent of where they differ
 * and of their lengths: both are hashed to 32 bytes first, and the digests compared in constant time.
 */
export function tokenMatcher(token: string | undefined): (given: string) => boolean {
  if (token === undefined) return () => false;
  const want = digest(token);
  return (given) => timingSafeEqual(digest(given), want);
}

/** True when the request's Origin (if any) is this server's own. */
export function sameOrigin(req: FastifyRequest): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

/** Builds the onRequest hook that enforces the rules above. */
export function accessGuard(opts: AccessGuardOptions): (req: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const matches = tokenMatcher(opts.apiToken);
  return async (req, reply) => {
    const path = req.url.split('?')[0] ?? '/';
    if (OPEN_PATHS.has(path) || path.startsWith('/static/')) return;
    const isApi = path.startsWith('/api/');
    if (isApi && path === '/api/session' && req.method === 'POST') {
      if (!sameOrigin(req)) {
        markRefusal(req, 'origin');
        return void (await reply.code(403).send({ error: 'sign-in from another site is refused' }));
      }
      return;
    }
    const presented = isApi ? bearerToken(req.headers.authorization) : undefined;
    let wrongToken = false;
    if (presented !== undefined) {
      // Looked at before the token is compared: while the address is blocked the right token is refused too.
      const refusal = opts.tokens?.blocked(req.ip);
      if (refusal) {
        const seconds = Math.max(1, Math.ceil(refusal.retryAfterMs / 1000));
        markRefusal(req, 'rate_limited', { limiter: 'bearer token (web.signIn: 5 × maxFailures per address, windowSeconds)', retryAfterSeconds: seconds });
        if (refusal.first) await opts.onTokenBlocked?.(req.ip, seconds);
        return void (await reply.code(429).header('retry-after', String(seconds)).send({ error: `too many wrong bearer tokens from this address; try again in ${seconds} s` }));
      }
      if (matches(presented)) {
        principals.set(req, { username: 'api-token', name: 'API client (http.apiToken)', role: 'api', via: 'token' });
        return;
      }
      opts.tokens?.failed(req.ip);
      wrongToken = true;
    }
    const sessionId = parseCookies(req.headers.cookie).get(SESSION_COOKIE);
    const session = opts.sessions.get(sessionId);
    if (!session) {
      if (isApi) {
        markRefusal(req, wrongToken ? 'bad_token' : 'no_session');
        return void (await reply.code(401).send({ error: 'sign in at /signin, or send Authorization: Bearer <http.apiToken>' }));
      }
      return void (await reply.code(303).header('location', `/signin?next=${encodeURIComponent(req.url)}`).header('cache-control', 'no-store').send());
    }
    if (!SAFE_METHODS.has(req.method)) {
      if (!sameOrigin(req)) {
        markRefusal(req, 'origin');
        return void (await reply.code(403).send({ error: 'cross-origin request refused' }));
      }
      const csrf = req.headers['x-csrf-token'];
      if (!csrfMatches(session, typeof csrf === 'string' ? csrf : undefined)) {
        markRefusal(req, 'csrf');
        return void (await reply.code(403).send({ error: 'missing or wrong CSRF token (x-csrf-token)' }));
      }
    }
    principals.set(req, { username: session.username, name: session.name, role: session.role, via: 'session', sessionId: sessionId!, session });
  };
}
