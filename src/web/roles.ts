/** What each nurse-station role may do. The bearer token (`api`) may do everything. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { markRefusal } from '../http/refusals.js';
import { principalOf, type Principal } from './access.js';
import type { Role } from './sessions.js';

export type Permission = 'view' | 'acknowledge' | 'observe' | 'limits' | 'census' | 'audit' | 'assign';

/**
 * nurse: sees the ward, acknowledges and silences alarms, enters observations.
 * charge (charge nurse): also sets per-patient alarm limits, changes the census, assigns nurses to
 * beds for the shift, reads the audit log.
 * admin: sees the ward, changes the census, reads the audit log; clinical settings stay with nurses.
 */
export const PERMISSIONS: Readonly<Record<Role, readonly Permission[]>> = {
  nurse: ['view', 'acknowledge', 'observe'],
  charge: ['view', 'acknowledge', 'observe', 'limits', 'census', 'audit', 'assign'],
  admin: ['view', 'census', 'audit'],
};

/** True when the principal holds the permission. */
export function may(p: Principal | undefined, what: Permission): boolean {
  if (!p) return false;
  if (p.role === 'api') return true;
  return PERMISSIONS[p.role].includes(what);
}

/**
 * Checks a permission for a request; answers 403 (or 401) itself when it is missing.
 * @returns the principal, or undefined when the request was answered.
 */
export async function requirePermission(req: FastifyRequest, reply: FastifyReply, what: Permission): Promise<Principal | undefined> {
  const p = principalOf(req);
  if (!p) {
    markRefusal(req, 'no_session');
    await reply.code(401).send({ error: 'sign in first' });
    return undefined;
  }
  if (!may(p, what)) {
    markRefusal(req, 'role', { needs: what, role: p.role });
    const roles = (Object.keys(PERMISSIONS) as Role[]).filter((r) => PERMISSIONS[r].includes(what));
    await reply.code(403).send({ error: `${what}: needs the ${roles.join(' or ')} role (you are ${p.role})` });
    return undefined;
  }
  return p;
}
