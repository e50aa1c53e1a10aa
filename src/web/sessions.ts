/**
 * Signed-in browser sessions. The cookie carries only a random id; the store keys sessions by a
 * hash of it, so neither memory nor the saved file hands out live cookies. The CSRF token is a
 * second random value the page reads from `GET /api/session` and sends back in a header on every
 * change.
 *
 * An account holds at most `maxPerUser` sessions: signing in once more ends its oldest (the
 * caller closes that session's live streams and audits it), so one account signed in over and
 * over cannot pile up sessions, each with its own quota of live streams.
 *
 * With a `file`, sessions outlive the process (a restart in the night does not sign the ward
 * out): every change is written behind (atomically, readable by the gateway's user only), and
 * `load` reads them back, dropping the expired ones.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readJsonIfExists, writeJsonAtomic } from '../core/atomic-file.js';

/** Nurse-station roles, least to most administrative; `charge` is the charge nurse. */
export type Role = 'nurse' | 'charge' | 'admin';

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
  /** Sessions one account may hold at once; a sign-in beyond it ends the account's oldest (default: no bound). */
  readonly maxPerUser?: number;
  /** Epoch-ms clock (tests). */
  readonly clock?: () => number;
  /** Where sessions are kept across restarts; none: in memory only. */
  readonly file?: string;
  /** Told when the file cannot be written (sessions then live in memory until it can). */
  readonly onError?: (err: Error) => void;
}

interface SavedSessions {
  readonly version: 1;
  /** `[hash of the cookie, session]` */
  readonly sessions: Array<[string, Session]>;
}

/**
 * Sessions are keyed by a hash of the cookie, so a memory dump does not hand out live cookies. The
 * live feed keys a session's streams by the same hash.
 */
export const sessionKey = (id: string): string => createHash('sha256').update(id).digest('base64url');
const key = sessionKey;

/** A session `create` ended to keep its account within `maxPerUser`. */
export interface EndedSession {
  /** `sessionKey` of its cookie (the owner of its live streams). */
  readonly key: string;
  readonly session: Session;
}

export class SessionStore {
  private readonly sessions = new Map<string, Session>();
  private readonly clock: () => number;
  private saving: Promise<void> = Promise.resolve();

  constructor(private readonly opts: SessionStoreOptions) {
    this.clock = opts.clock ?? Date.now;
  }

  /** Reads the saved sessions back (the expired ones are dropped). */
  async load(): Promise<void> {
    if (this.opts.file === undefined) return;
    const saved = await readJsonIfExists<SavedSessions>(this.opts.file);
    const now = this.clock();
    for (const [k, s] of saved?.version === 1 ? saved.sessions : []) if (s.expiresAt > now) this.sessions.set(k, s);
  }

  /** Resolves once every change so far is on disk. */
  flushed(): Promise<void> {
    return this.saving;
  }

  /**
   * Starts a session; when the account then holds more than `maxPerUser`, its oldest are ended.
   * @returns the cookie value for the new session, and the sessions ended to make room (oldest first).
   */
  create(user: { username: string; name: string; role: Role }): { id: string; session: Session; ended: EndedSession[] } {
    this.sweep();
    const id = randomBytes(32).toString('base64url');
    const now = this.clock();
    const session: Session = { ...user, csrf: randomBytes(24).toString('base64url'), createdAt: now, expiresAt: now + this.opts.ttlMs };
    const ended: EndedSession[] = [];
    const max = this.opts.maxPerUser;
    if (max !== undefined) {
      // the account's sessions oldest first (a stable sort keeps sign-in order within one ms)
      const held = [...this.sessions].filter(([, s]) => s.username === user.username).sort(([, a], [, b]) => a.createdAt - b.createdAt);
      for (const [k, s] of held.slice(0, Math.max(0, held.length + 1 - max))) {
        this.sessions.delete(k);
        ended.push({ key: k, session: s });
      }
    }
    this.sessions.set(key(id), session);
    this.save();
    return { id, session, ended };
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
    if (id !== undefined && this.sessions.delete(key(id))) this.save();
  }

  /** Ends every session of a user (account removed or role changed). */
  destroyUser(username: string): void {
    let n = 0;
    for (const [k, s] of this.sessions) if (s.username === username && this.sessions.delete(k)) n++;
    if (n > 0) this.save();
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

  /** Writes the sessions behind the change, one write at a time, the latest state each time. */
  private save(): void {
    const file = this.opts.file;
    if (file === undefined) return;
    this.saving = this.saving.then(() =>
      writeJsonAtomic(file, { version: 1, sessions: [...this.sessions] } satisfies SavedSessions, 0o600).catch((err: Error) => this.opts.onError?.(err)),
    );
  }
}

/** Constant-time comparison of a presented CSRF token with the session's. */
export function csrfMatches(session: Session, presented: string | undefined): boolean {
  if (presented === undefined) return false;
  const a = Buffer.from(presented);
  const b = Buffer.from(session.csrf);
  return a.length === b.length && timingSafeEqual(a, b);
}
