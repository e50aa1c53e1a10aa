/**
 * Signed-in browser sessions, held in memory: a restart signs everyone out, which is the safe
 * side for a ward box. The cookie carries only a random id; the CSRF token is a second random
 * value the page reads from `GET /api/session` and sends back in a header on every change.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Role } from '../http/auth.js';

export interface Session {
  readonly username: string;
  readonly name: string;
  readonly role: Role;
  /** Sent by the page as `x-csrf-token` on every state change. */
  readonly csrf: string;
  /** epoch ms */
  readonly createdAt: number;
  /** epoch ms */
  readonly expiresAt: number;
}

export interface SessionStoreOptions {
  /** ms a session lasts from sign-in. */
  readonly ttlMs: number;
  /** Epoch-ms clock (tests). */
  readonly clock?: () => number;
}

/** Sessions are keyed by a hash of the cookie, so a memory dump does not hand out live cookies. */
const key = (id: string): string => createHash('sha256').update(id).digest('base64url');

export class SessionStore {
  private readonly sessions = new Map<string, Session>();
  private readonly clock: () => number;

  constructor(private readonly opts: SessionStoreOptions) {
    this.clock = opts.clock ?? Date.now;
  }

  /** @returns the cookie value for a new session. */
  create(user: { username: string; name: string; role: Role }): { id: string; session: Session } {
    this.sweep();
    const id = randomBytes(32).toString('base64url');
    const now = this.clock();
    const session: Session = { ...user, csrf: randomBytes(24).toString('base64url'), createdAt: now, expiresAt: now + this.opts.ttlMs };
    this.sessions.set(key(id), session);
    return { id, session };
  }

  /** The live session for a cookie value, or undefined (unknown or expired). */
  get(id: string | undefined): Session | undefined {
    if (id === undefined || id === '') return undefined;
    const k = key(id);
    const s = this.sessions.get(k);
    if (!s) return undefined;
    if (s.expiresAt <= this.clock()) {
      this.sessions.delete(k);
      return undefined;
    }
    return s;
  }

  /** Ends a session (sign-out). */
  destroy(id: string | undefined): void {
    if (id !== undefined) this.sessions.delete(key(id));
  }

  /** Ends every session of a user (account removed or role changed). */
  destroyUser(username: string): void {
    for (const [k, s] of this.sessions) if (s.username === username) this.sessions.delete(k);
  }

  /** Live sessions, for the metrics page. */
  count(): number {
    this.sweep();
    return this.sessions.size;
  }

  private sweep(): void {
    const now = this.clock();
    for (const [k, s] of this.sessions) if (s.expiresAt <= now) this.sessions.delete(k);
  }
}

/** Constant-time comparison of a presented CSRF token with the session's. */
export function csrfMatches(session: Session, presented: string | undefined): boolean {
  if (presented === undefined) return false;
  const a = Buffer.from(presented);
  const b = Buffer.from(session.csrf);
  return a.length === b.length && timingSafeEqual(a, b);
}
