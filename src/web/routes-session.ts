/**
 * Sign-in and sign-out for the nurse station:
 *
 *   POST   /api/session   {username, password, next?}   sign in: sets the session cookie (HttpOnly, SameSite=Strict);
 *                                                    answers the same-origin path to go to in `next`;
 *                                                    an account at web.sessionsPerAccount loses its
 *                                                    oldest session (its live streams closed, audited)
 *   GET    /api/session                          who is signed in, role, and the CSRF token for changes
 *   DELETE /api/session                          sign out
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Logger } from '../core/log.js';
import { principalOf, SESSION_COOKIE } from './access.js';
import { verifyPassword } from './passwords.js';
import type { SignInLimiter } from './signin-limiter.js';
import type { AuditLog } from './audit.js';
import type { SessionStore } from './sessions.js';
import type { UserDirectory } from './users.js';
import { PERMISSIONS } from './roles.js';
import { safeNextPath } from './redirect.js';
import { BusyError, type ConcurrencyGate } from '../core/gate.js';
import { markRefusal } from '../http/refusals.js';

const body = z
  .object({
    username: z.string().min(1).max(64),
    password: z.string().min(1).max(1024),
    /** Where the page wants to go next; the answer's `next` is what it may go to (redirect.ts). */
    next: z.string().optional(),
  })
  .strict();

export interface SessionRouteDeps {
  readonly users: UserDirectory;
  readonly sessions: SessionStore;
  readonly limiter: SignInLimiter;
  /** Bounds concurrent password checks (each a scrypt) and the queue behind them. */
  readonly checks: ConcurrencyGate;
  /** Counts for /metrics. */
  readonly stats: SignInStats;
  /** Ends the live streams of a session (by `sessionKey`); how many were open. */
  readonly closeStreams: (sessionKey: string) => number;
  readonly audit: AuditLog;
  readonly logger: Logger;
  /** Session lifetime, s (cookie Max-Age). */
  readonly maxAgeSeconds: number;
  readonly secureCookies: boolean;
}

/** Sign-in outcomes the limiter or the checker decided, for /metrics. */
export interface SignInStats {
  /** Refused by the limiter (429). */
  refused: number;
  /** Refused because the password checker's queue was full (503). */
  busy: number;
  /** Sessions ended because their account signed in once more at its cap (web.sessionsPerAccount). */
  sessionsEnded: number;
}

function cookie(value: string, maxAge: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure ? '; Secure' : ''}`;
}

export function sessionRoutes(deps: SessionRouteDeps): (app: FastifyInstance) => void {
  return (app) => {
    app.post('/api/session', async (req, reply) => {
      if (!(req.headers['content-type'] ?? '').startsWith('application/json')) return reply.code(415).send({ error: 'send JSON: {"username": …, "password": …}' });
      const parsed = body.safeParse(req.body ?? {});
      if (!parsed.success) return reply.code(400).send({ error: 'body must be {"username": …, "password": …}' });
      const { username, password } = parsed.data;
      // Counted before the password is checked: concurrent attempts cannot race past the limit.
      const admission = deps.limiter.begin(req.ip, username);
      if (!admission.ok) {
        const seconds = Math.ceil(admission.retryAfterMs / 1000);
        deps.stats.refused++;
        // One audit entry and log line per blocked address or username and block, not one per
        // attempt: a client hammering the sign-in cannot flood the audit log or the disk.
        if (admission.first) {
          const blocked = admission.key.startsWith('ip:') ? 'address' : 'username';
          await deps.audit.record({ who: username, role: '-', action: 'signin.refused', ip: req.ip, detail: { reason: 'too many failed attempts', blocked, retryAfterSeconds: seconds, note: 'further refusals in this block are counted in /metrics only' } });
          deps.logger.warn({ username, ip: req.ip, blocked, retryAfterSeconds: seconds }, `nurse station sign-in blocked by ${blocked} (web.signIn)`);
        }
        markRefusal(req, 'rate_limited', { limiter: 'sign-in (web.signIn)', retryAfterSeconds: seconds });
        return reply.code(429).header('retry-after', String(seconds)).send({ error: `too many failed sign-ins; try again in ${seconds} s` });
      }
      const user = deps.users.find(username);
      let ok: boolean;
      try {
        ok = await deps.checks.run(() => verifyPassword(password, user?.passwordHash));
      } catch (err) {
        if (!(err instanceof BusyError)) throw err;
        deps.limiter.cancel(admission.ticket);
        deps.stats.busy++;
        return reply.code(503).header('retry-after', '1').send({ error: 'sign-in is busy; try again in a moment' });
      }
      if (!ok || !user) {
        await deps.audit.record({ who: username, role: '-', action: 'signin.failed', ip: req.ip });
        deps.logger.warn({ username, ip: req.ip }, 'nurse station sign-in failed');
        markRefusal(req, 'bad_password');
        return reply.code(401).send({ error: 'wrong username or password' });
      }
      deps.limiter.succeed(admission.ticket, username);
      const { id, session, ended } = deps.sessions.create({ username: user.username, name: user.name ?? user.username, role: user.role });
      // The account was at web.sessionsPerAccount: its oldest session made room, and its live streams go with it.
      const endings = ended.map((e) => ({ reason: 'sessions per account (web.sessionsPerAccount)', signedInAt: new Date(e.session.createdAt).toISOString(), liveStreamsClosed: deps.closeStreams(e.key) }));
      deps.stats.sessionsEnded += ended.length;
      await deps.audit.record({ who: user.username, role: user.role, action: 'signin', ip: req.ip, ...(ended.length > 0 && { detail: { sessionsEnded: ended.length } }) });
      deps.logger.info({ username, role: user.role, ip: req.ip }, 'nurse station sign-in');
      for (const detail of endings) {
        await deps.audit.record({ who: user.username, role: user.role, action: 'session.ended', ip: req.ip, detail });
        deps.logger.warn({ username, ip: req.ip, ...detail }, 'nurse station sign-in ended the oldest session of the account');
      }
      return reply
        .header('set-cookie', cookie(id, deps.maxAgeSeconds, deps.secureCookies))
        .header('cache-control', 'no-store')
        .send({ username: session.username, name: session.name, role: session.role, csrf: session.csrf, expiresAt: session.expiresAt, permissions: PERMISSIONS[session.role], next: safeNextPath(parsed.data.next) });
    });

    app.get('/api/session', async (req, reply) => {
      const p = principalOf(req)!;
      reply.header('cache-control', 'no-store');
      if (!p.session) return { username: p.username, name: p.name, role: p.role, via: p.via };
      return { username: p.username, name: p.name, role: p.role, csrf: p.session.csrf, expiresAt: p.session.expiresAt, permissions: PERMISSIONS[p.session.role] };
    });

    app.delete('/api/session', async (req, reply) => {
      const p = principalOf(req)!;
      deps.sessions.destroy(p.sessionId);
      await deps.audit.record({ who: p.username, role: p.role, action: 'signout', ip: req.ip });
      return reply.header('set-cookie', cookie('', 0, deps.secureCookies)).send({ ok: true });
    });
  };
}
