/**
 * Roles and the audit log for the alarm and census API (`src/alarms/routes.ts`,
 * `src/census/routes.ts`), which the nurse station calls as they are. Before the handler runs,
 * the caller's role is checked and, for a session, the acknowledging person (`by`) is the
 * signed-in user whatever the body says. Once the handler succeeded, the action is written to
 * the audit log before the answer leaves.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { LiveDetectors } from '../alarms/live.js';
import { principalOf } from './access.js';
import type { AuditLog } from './audit.js';
import { may, PERMISSIONS, requirePermission, type Permission } from './roles.js';
import type { Census } from '../census/census.js';
import type { PatientSettings } from '../core/types.js';

interface Rule {
  readonly permission: Permission;
  readonly action: string;
}

/** `METHOD route` → what it needs and how the audit log names it. */
const RULES: Readonly<Record<string, Rule>> = {
  'POST /api/alarms/:id/ack': { permission: 'acknowledge', action: 'alarm.ack' },
  'POST /api/alarms/:id/silence': { permission: 'acknowledge', action: 'alarm.silence' },
  'POST /api/census/patients': { permission: 'census', action: 'census.admit' },
  'DELETE /api/census/patients/:id': { permission: 'census', action: 'census.discharge' },
  'POST /api/census/patients/:id/move': { permission: 'census', action: 'census.move' },
  'POST /api/census/patients/:id/devices': { permission: 'census', action: 'census.assign' },
  'DELETE /api/census/patients/:id/devices/:deviceId': { permission: 'census', action: 'census.unassign' },
  'PUT /api/census/patients/:id/settings': { permission: 'limits', action: 'limits.set' },
};

interface Pending {
  readonly rule: Rule;
  readonly patientId?: string;
  readonly detail: Record<string, unknown>;
}

const pending = new WeakMap<FastifyRequest, Pending>();

export function apiPolicy(detectors: LiveDetectors, audit: AuditLog, census: Pick<Census, 'patient'>): (app: FastifyInstance) => void {
  return (app) => {
    app.addHook('preHandler', async (req, reply) => {
      const rule = RULES[`${req.method} ${req.routeOptions.url ?? ''}`];
      if (!rule) return;
      const p = await requirePermission(req, reply, rule.permission);
      if (!p) return reply;
      // Clinical settings belong to the clinical roles, by whatever path they come: an admission
      // that brings settings needs the right to set limits as well as the census right.
      if (rule.action === 'census.admit' && hasSettings(req.body) && !(await requirePermission(req, reply, 'limits'))) return reply;
      const params = (req.params ?? {}) as Record<string, string>;
      // So does discharging a patient with settings of their own: the same id admitted again is on
      // the ward defaults, so a discharge and a re-admission would be a way around the limits right.
      if (rule.action === 'census.discharge' && !may(p, 'limits')) {
        const own = params.id !== undefined ? census.patient(params.id)?.settings : undefined;
        if (own !== undefined && hasOwnSettings(own)) {
          return reply.code(403).send({ error: `limits: patient ${params.id} has alarm limits or an SpO2 scale of their own, which a discharge ends; discharging them needs the ${rolesWithLimits()} role (you are ${p.role})` });
        }
      }
      let body = (req.body ?? {}) as Record<string, unknown>;
      if (p.via === 'session' && rule.action.startsWith('alarm.') && typeof body === 'object') {
        body = { ...body, by: p.username };
        req.body = body;
      }
      let patientId = rule.action.startsWith('alarm.') ? undefined : (params.id ?? (typeof body.id === 'string' ? body.id : undefined));
      const detail: Record<string, unknown> = { ...params, ...body };
      if (rule.action.startsWith('alarm.') && params.id !== undefined) {
        const alarm = detectors.activeAlarms().find((a) => a.id === params.id);
        patientId = alarm?.patientId;
        if (alarm) Object.assign(detail, { priority: alarm.priority, kind: alarm.kind, metric: alarm.metric, ward: alarm.ward, bed: alarm.bed, reason: alarm.reason });
      }
      pending.set(req, { rule, detail, ...(patientId !== undefined ? { patientId } : {}) });
      return undefined;
    });
    app.addHook('onSend', async (req, reply, payload) => {
      const todo = pending.get(req);
      if (!todo || reply.statusCode >= 300) return payload;
      const p = principalOf(req)!;
      await audit.record({ who: p.username, role: p.role, action: todo.rule.action, ip: req.ip, detail: todo.detail, ...(todo.patientId !== undefined ? { patientId: todo.patientId } : {}) });
      return payload;
    });
  };
}

/** True when a patient's settings differ from the ward defaults: an SpO2 scale 2 or any limit of their own. */
function hasOwnSettings(s: PatientSettings): boolean {
  return s.spo2Scale === 2 || Object.values(s.limits ?? {}).some((o) => o !== undefined && Object.keys(o).length > 0);
}

function rolesWithLimits(): string {
  return Object.entries(PERMISSIONS)
    .filter(([, what]) => what.includes('limits'))
    .map(([role]) => role)
    .join(' or ');
}

/** True when an admission body carries clinical settings (anything but an empty object). */
function hasSettings(body: unknown): boolean {
  const s = (body as { settings?: unknown } | null)?.settings;
  return s !== undefined && s !== null && !(typeof s === 'object' && Object.keys(s).length === 0);
}
