/**
 * Caregiver assignment for the shift, set by the charge nurse at the station:
 *
 *   GET /api/assignments          every ward's beds and who looks after them; the staff who may be assigned
 *   PUT /api/assignments/:ward    {charge?, beds: {"3": {nurse?, buddy?}}}   the ward's assignment, in full
 *
 * An assignment goes to the detectors as a control input (stored in the spool, replayed after a
 * restart), so every escalation step names whoever was assigned when it was taken. Each change is
 * audited (`assignment.set`); the stations get it as a fresh ward snapshot once the detectors
 * take it (station.ts).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Census } from '../census/census.js';
import type { LiveDetectors } from '../alarms/live.js';
import type { Logger } from '../core/log.js';
import type { WardAssignment } from '../core/types.js';
import type { AuditLog } from './audit.js';
import { requirePermission } from './roles.js';
import type { UserDirectory } from './users.js';

const username = z.string().min(1).max(64);
const body = z
  .object({
    charge: username.optional(),
    beds: z.record(z.string(), z.object({ nurse: username.optional(), buddy: username.optional() }).strict()).default({}),
  })
  .strict();

export interface AssignRouteDeps {
  readonly census: Census;
  readonly detectors: LiveDetectors;
  readonly users: UserDirectory;
  readonly audit: AuditLog;
  readonly logger: Logger;
}

/** Roles that look after patients, and so may be assigned to beds or as the charge nurse. */
const CLINICAL: ReadonlySet<string> = new Set(['nurse', 'charge']);

export function assignRoutes(deps: AssignRouteDeps): (app: FastifyInstance) => void {
  return (app) => {
    app.get('/api/assignments', async (_req, reply) => {
      const held = deps.detectors.assignments();
      return reply.header('cache-control', 'no-store').send({
        wards: deps.census.snapshot().wards.map((w) => ({ id: w.id, name: w.name ?? w.id, beds: w.beds, assignment: held.get(w.id) ?? { beds: {} } })),
        staff: deps.users.list().filter((u) => CLINICAL.has(u.role)).map((u) => ({ username: u.username, name: u.name ?? u.username, role: u.role })),
      });
    });

    app.put<{ Params: { ward: string } }>('/api/assignments/:ward', async (req, reply) => {
      const who = await requirePermission(req, reply, 'assign');
      if (!who) return reply;
      const ward = deps.census.snapshot().wards.find((w) => w.id === req.params.ward);
      if (!ward) return reply.code(404).send({ error: `no ward ${req.params.ward}` });
      const parsed = body.safeParse(req.body ?? {});
      if (!parsed.success) return reply.code(400).send({ error: parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ') });
      const problems = check(parsed.data, ward.beds, (u) => {
        const user = deps.users.find(u);
        return user !== undefined && CLINICAL.has(user.role);
      });
      if (problems.length > 0) return reply.code(400).send({ error: problems.join('; ') });
      const assignment = clean(parsed.data);
      try {
        await deps.detectors.assign(ward.id, assignment, who.username);
      } catch (err) {
        deps.logger.error({ ward: ward.id, err: (err as Error).message }, 'caregiver assignment could not be stored');
        return reply.code(503).send({ error: `not stored: ${(err as Error).message}` });
      }
      await deps.audit.record({ who: who.username, role: who.role, action: 'assignment.set', ip: req.ip, detail: { ward: ward.id, ...assignment } });
      deps.logger.info({ ward: ward.id, by: who.username }, 'caregivers assigned');
      return { ok: true, ward: ward.id, assignment };
    });
  };
}

/** What is wrong with an assignment, each naming the field: unknown beds, unknown staff, a nurse who is their own buddy. */
export function check(a: z.infer<typeof body>, beds: readonly string[], isStaff: (username: string) => boolean): string[] {
  const problems: string[] = [];
  if (a.charge !== undefined && !isStaff(a.charge)) problems.push(`charge: no nurse or charge nurse "${a.charge}"`);
  for (const [bed, b] of Object.entries(a.beds)) {
    if (!beds.includes(bed)) problems.push(`beds.${bed}: the ward has no such bed`);
    for (const role of ['nurse', 'buddy'] as const) {
      const u = b[role];
      if (u !== undefined && !isStaff(u)) problems.push(`beds.${bed}.${role}: no nurse or charge nurse "${u}"`);
    }
    if (b.nurse !== undefined && b.nurse === b.buddy) problems.push(`beds.${bed}.buddy: the assigned nurse cannot be their own buddy`);
  }
  return problems;
}

/** The assignment as the detectors keep it: beds with nobody assigned left out. */
function clean(a: z.infer<typeof body>): WardAssignment {
  const beds: Record<string, { nurse?: string; buddy?: string }> = {};
  for (const [bed, b] of Object.entries(a.beds)) {
    if (b.nurse === undefined && b.buddy === undefined) continue;
    beds[bed] = { ...(b.nurse !== undefined && { nurse: b.nurse }), ...(b.buddy !== undefined && { buddy: b.buddy }) };
  }
  return { ...(a.charge !== undefined && { charge: a.charge }), beds };
}
