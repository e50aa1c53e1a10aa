/**
 * Census HTTP API: admit, discharge, move, assign and unassign devices, patient settings.
 *
 *   GET    /api/census
 *   POST   /api/census/patients                    {id, ward, bed, name?, devices?, settings?}
 *   DELETE /api/census/patients/:id
 *   POST   /api/census/patients/:id/move           {ward, bed}
 *   POST   /api/census/patients/:id/devices        {deviceId}
 *   DELETE /api/census/patients/:id/devices/:deviceId
 *   PUT    /api/census/patients/:id/settings       {spo2Scale?, limits?}
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { Census, CensusError } from './census.js';
import { patientSchema, patientSettingsSchema } from '../config/schema.js';
import { formatPath } from '../config/load.js';
import type { Logger } from '../core/log.js';
import { idProblem, idSchema } from '../core/ids.js';
import type { PatientSettings } from '../core/types.js';
import { defaultDetectorConfig, type DetectorConfig } from '../detectors/config.js';
import { limitOrderProblems } from '../detectors/limits.js';

// Every id the API stores is checked against the id grammar (core/ids.ts), as in the config.
const admitBody = patientSchema.extend({ devices: z.array(idSchema).optional() });
const moveBody = z.object({ ward: idSchema, bed: idSchema }).strict();
const assignBody = z.object({ deviceId: idSchema }).strict();

/**
 * A patient id from the URL: an admitted patient's id as it is (a census kept from before ids
 * were checked can still be changed and discharged), anything else must be a well-formed id.
 */
function patientParam(census: Census, id: string): string {
  if (census.patient(id)) return id;
  const why = idProblem(id);
  if (why !== null) throw new CensusError(`id: ${why}`, 400);
  return id;
}

/**
 * Clinical settings as they will be, checked against the ward defaults they are merged with.
 * @throws CensusError 400 naming each limit out of order
 */
function checkSettings(detectors: DetectorConfig, settings: PatientSettings): void {
  const problems = limitOrderProblems(detectors, settings);
  if (problems.length > 0) throw new CensusError(problems.map((p) => `${formatPath(p.path)}: ${p.message}`).join('; '), 400);
}

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body ?? {});
  if (!r.success) throw new CensusError(r.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`).join('; '), 400);
  return r.data;
}

async function answer(reply: FastifyReply, log: Logger, action: string, fn: () => Promise<unknown>): Promise<unknown> {
  try {
    const result = await fn();
    log.info({ action, result }, 'census changed');
    return result ?? { ok: true };
  } catch (err) {
    if (err instanceof CensusError) return reply.code(err.status).send({ error: err.message });
    throw err;
  }
}

/**
 * @param detectors the detector settings: patients' limits are checked against their ward
 *   defaults (default: the built-in ones)
 */
export function censusRoutes(census: Census, log: Logger, now: () => number = Date.now, detectors: DetectorConfig = defaultDetectorConfig()): (app: FastifyInstance) => void {
  return (app) => {
    app.get('/api/census', async () => census.snapshot());
    app.post('/api/census/patients', async (req, reply) =>
      answer(reply, log, 'admit', async () => {
        const body = parse(admitBody, req.body);
        checkSettings(detectors, body.settings ?? {});
        return census.admit({ ...body, ...(body.settings ? { settings: body.settings } : {}) }, now());
      }),
    );
    app.delete<{ Params: { id: string } }>('/api/census/patients/:id', async (req, reply) =>
      answer(reply, log, 'discharge', async () => {
        const id = patientParam(census, req.params.id);
        await census.discharge(id);
        return { ok: true, discharged: id };
      }),
    );
    app.post<{ Params: { id: string } }>('/api/census/patients/:id/move', async (req, reply) =>
      answer(reply, log, 'move', async () => {
        const body = parse(moveBody, req.body);
        return census.move(patientParam(census, req.params.id), body.ward, body.bed);
      }),
    );
    app.post<{ Params: { id: string } }>('/api/census/patients/:id/devices', async (req, reply) =>
      answer(reply, log, 'assign', async () => census.assign(patientParam(census, req.params.id), parse(assignBody, req.body).deviceId)),
    );
    app.delete<{ Params: { id: string; deviceId: string } }>('/api/census/patients/:id/devices/:deviceId', async (req, reply) =>
      answer(reply, log, 'unassign', async () => census.unassign(patientParam(census, req.params.id), req.params.deviceId)),
    );
    app.put<{ Params: { id: string } }>('/api/census/patients/:id/settings', async (req, reply) =>
      answer(reply, log, 'settings', async () => {
        const id = patientParam(census, req.params.id);
        const settings = parse(patientSettingsSchema, req.body);
        // merged as the census merges them: each setting given replaces the patient's own
        checkSettings(detectors, { ...census.patient(id)?.settings, ...settings });
        return census.updateSettings(id, settings);
      }),
    );
  };
}
