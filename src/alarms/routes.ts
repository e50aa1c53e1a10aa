/**
 * Alarm HTTP API, for the nurse station and for integration:
 *
 *   GET  /api/alarms                       active alarms across the ward: by priority, unacknowledged first, then age
 *   POST /api/alarms/:id/ack      {by}      acknowledge
 *   POST /api/alarms/:id/silence  {by, seconds}
 *   GET  /api/patients/:id/news2            NEWS2 now (score, band, parts, missing)
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Logger } from '../core/log.js';
import type { Census } from '../census/census.js';
import type { LiveDetectors } from './live.js';
import type { ActiveAlarm } from './manager.js';

const PRIORITY_ORDER = { high: 0, medium: 1, low: 2 } as const;

/**
 * Ward order for people: priority first; within a priority the alarms still waiting for someone
 * (unacknowledged) before those already taken; then the oldest first.
 */
export function sortAlarms(alarms: readonly ActiveAlarm[]): ActiveAlarm[] {
  return [...alarms].sort((a, b) => PRIORITY_ORDER[a.priority] - PRIORITY_ORDER[b.priority] || Number(a.acknowledged) - Number(b.acknowledged) || a.raisedAt - b.raisedAt);
}

const ackBody = z.object({ by: z.string().min(1).max(100) }).strict();
const silenceBody = z.object({ by: z.string().min(1).max(100), seconds: z.number().int().min(10).max(600) }).strict();

export function alarmRoutes(detectors: LiveDetectors, census: Census, log: Logger): (app: FastifyInstance) => void {
  return (app) => {
    app.get('/api/alarms', async () => ({ alarms: sortAlarms(detectors.activeAlarms()) }));
    app.post<{ Params: { id: string } }>('/api/alarms/:id/ack', async (req, reply) => {
      const body = ackBody.safeParse(req.body ?? {});
      if (!body.success) return reply.code(400).send({ error: 'body must be {"by": "<who acknowledges>"}' });
      if (!(await detectors.acknowledge(req.params.id, body.data.by))) return reply.code(409).send({ error: `alarm ${req.params.id} is not active or already acknowledged` });
      log.info({ alarm: req.params.id, by: body.data.by }, 'alarm acknowledged');
      return { ok: true };
    });
    app.post<{ Params: { id: string } }>('/api/alarms/:id/silence', async (req, reply) => {
      const body = silenceBody.safeParse(req.body ?? {});
      if (!body.success) return reply.code(400).send({ error: 'body must be {"by": "<who>", "seconds": 10..600}' });
      if (!(await detectors.silence(req.params.id, body.data.by, body.data.seconds))) return reply.code(409).send({ error: `alarm ${req.params.id} is not active` });
      log.info({ alarm: req.params.id, by: body.data.by, seconds: body.data.seconds }, 'alarm silenced');
      return { ok: true };
    });
    app.get<{ Params: { id: string } }>('/api/patients/:id/news2', async (req, reply) => {
      if (!census.patient(req.params.id)) return reply.code(404).send({ error: `no admitted patient ${req.params.id}` });
      return detectors.latestNews2(req.params.id) ?? { patientId: req.params.id, score: null, note: 'no observations yet' };
    });
  };
}
