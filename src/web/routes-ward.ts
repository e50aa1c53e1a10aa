/**
 * The nurse station's data API (all need a session or the bearer token):
 *
 *   GET  /api/ward                          every bed: patient, latest vitals with times, NEWS2, trend; active alarms
 *   GET  /api/ward/events                   the same, live: server-sent events (see live-feed.ts)
 *   GET  /api/patients/:id/history?hours=N  trends, NEWS2 history, alarm history of the last N hours (1–6)
 *   POST /api/patients/:id/observations     manual observations {acvpu?, o2?, sbp?, dbp?, temp?}
 *   GET  /api/audit?limit=N&patientId=ID    the audit log, newest first (charge nurse, admin)
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Census } from '../census/census.js';
import type { LiveDetectors } from '../alarms/live.js';
import type { Ingest } from '../ingest/ingest.js';
import type { Logger } from '../core/log.js';
import type { Observation, PatientSettings } from '../core/types.js';
import { LIMIT_METRICS, type DetectorConfig } from '../detectors/config.js';
import { limitsInForce } from '../detectors/limits.js';
import { ACVPU_CODES, metricInfo, type MetricName } from '../core/metrics.js';
import { DecodeError } from '../core/errors.js';
import { markRefusal } from '../http/refusals.js';
import { principalOf } from './access.js';
import type { AuditLog } from './audit.js';
import type { LiveFeed } from './live-feed.js';
import { requirePermission } from './roles.js';
import { sessionKey, type SessionStore } from './sessions.js';
import type { StationPresence } from './presence.js';
import { TRENDED_METRICS, type WardStore } from './ward-store.js';
import { effectiveLimits, patientTile, wardSnapshot, type WardViewDeps } from './ward-view.js';

/** Manual observations a nurse may enter; continuous signals come from devices only. */
const manualBody = z
  .object({
    /** [NEWS2] consciousness, A, C, V, P or U. */
    acvpu: z.enum(ACVPU_CODES).optional(),
    /** [NEWS2] air or oxygen. */
    o2: z.enum(['air', 'oxygen']).optional(),
    /** mm[Hg] */
    sbp: z.number().min(20).max(300).optional(),
    /** mm[Hg] */
    dbp: z.number().min(10).max(250).optional(),
    /** Cel */
    temp: z.number().min(25).max(45).optional(),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'enter at least one observation')
  .refine((b) => (b.dbp === undefined || b.sbp !== undefined) && (b.sbp === undefined || b.dbp === undefined || b.dbp < b.sbp), 'diastolic needs a higher systolic');

export interface WardRouteDeps extends WardViewDeps {
  readonly ingest: Ingest;
  readonly audit: AuditLog;
  readonly feed: LiveFeed;
  readonly sessions: SessionStore;
  readonly presence: StationPresence;
  readonly logger: Logger;
}

export function wardRoutes(deps: WardRouteDeps): (app: FastifyInstance) => void {
  const { census, store, detectors } = deps;
  return (app) => {
    app.get('/api/ward', async (_req, reply) => reply.header('cache-control', 'no-store').send(wardSnapshot(deps)));

    app.get('/api/ward/events', (req, reply) => {
      const p = principalOf(req)!;
      reply.hijack();
      // Streams are capped per session (keyed by a hash of the cookie, never the cookie itself) and in all.
      const owner = p.via === 'token' ? 'api-token' : sessionKey(p.sessionId ?? '');
      const opened = deps.feed.attach(req.raw, reply.raw, () => p.via === 'token' || deps.sessions.get(p.sessionId) !== undefined, owner);
      if (!opened) markRefusal(req, 'rate_limited', { limiter: 'live streams (web.liveStreamsPerSession)' });
      // A stream opened (not one refused) by someone who may acknowledge alarms confirms escalation steps (presence.ts).
      if (opened && p.via === 'session') deps.presence.attach(p, req.raw);
    });

    app.get<{ Params: { id: string }; Querystring: { hours?: string } }>('/api/patients/:id/history', async (req, reply) => {
      const id = req.params.id;
      if (!census.patient(id)) return reply.code(404).send({ error: `no admitted patient ${id}` });
      const hours = Math.min(6, Math.max(1, Number(req.query.hours ?? 6) || 6));
      const now = deps.clock();
      const since = now - hours * 3600_000;
      return reply.header('cache-control', 'no-store').send({
        now,
        hours,
        patient: { ...census.patient(id), ...patientTile(deps, id, now) },
        staleSeconds: deps.staleSeconds,
        trends: Object.fromEntries(TRENDED_METRICS.map((m) => [m, store.trend(id, m, since).map((x) => [x.t, round(x.v), round(x.lo), round(x.hi)])])),
        news2: store.news2History(id, since),
        alarmHistory: store.alarmHistory(id, since),
        alarms: store.withConditions(detectors.activeAlarms({ patientId: id })),
        limits: effectiveLimits(deps.detectorConfig, census.patient(id)?.settings ?? {}),
      });
    });

    app.post<{ Params: { id: string } }>('/api/patients/:id/observations', async (req, reply) => {
      const who = await requirePermission(req, reply, 'observe');
      if (!who) return reply;
      const patient = census.patient(req.params.id);
      if (!patient) return reply.code(404).send({ error: `no admitted patient ${req.params.id}` });
      const parsed = manualBody.safeParse(req.body ?? {});
      if (!parsed.success) return reply.code(400).send({ error: parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ') });
      const b = parsed.data;
      const ts = deps.clock();
      const values: Partial<Record<MetricName, number>> = {
        ...(b.acvpu !== undefined ? { acvpu: ACVPU_CODES.indexOf(b.acvpu) } : {}),
        ...(b.o2 !== undefined ? { o2: b.o2 === 'oxygen' ? 1 : 0 } : {}),
        ...(b.sbp !== undefined ? { sbp: b.sbp } : {}),
        ...(b.dbp !== undefined ? { dbp: b.dbp } : {}),
        ...(b.temp !== undefined ? { temp: b.temp } : {}),
      };
      const deviceId = `manual:${who.username}`;
      const obs: Observation[] = Object.entries(values).map(([metric, value]) => ({
        ts, deviceId, metric: metric as MetricName, value: value!, unit: metricInfo(metric as MetricName).unit, quality: 'good',
        patientId: patient.id, ward: patient.ward, bed: patient.bed,
      }));
      try {
        await deps.ingest.manual(obs);
      } catch (err) {
        if (err instanceof DecodeError) return reply.code(400).send({ error: err.message });
        deps.logger.error({ patient: patient.id, err: (err as Error).message }, 'manual observation could not be stored');
        return reply.code(503).send({ error: `not stored: ${(err as Error).message}` });
      }
      await deps.audit.record({ who: who.username, role: who.role, action: 'obs.manual', patientId: patient.id, ip: req.ip, detail: { ...b, ward: patient.ward, bed: patient.bed } });
      return { ok: true, ts, stored: obs.length };
    });

    app.get<{ Querystring: { limit?: string; patientId?: string } }>('/api/audit', async (req, reply) => {
      if (!(await requirePermission(req, reply, 'audit'))) return reply;
      const limit = Math.min(5000, Math.max(1, Number(req.query.limit ?? 200) || 200));
      return reply.header('cache-control', 'no-store').send({ entries: await deps.audit.recent(limit, req.query.patientId ? { patientId: req.query.patientId } : {}) });
    });
  };
}

function round(v: number): number {
  return Math.round(v * 10) / 10;
}
