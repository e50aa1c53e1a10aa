/**
 * Standard exports over HTTP:
 *
 *   GET /api/patients/:id/fhir   a FHIR R4 Bundle (type collection) of the patient's most recent
 *                                observation of each vital, on the vital-signs profile
 */
import type { FastifyInstance } from 'fastify';
import type { Census } from '../census/census.js';
import type { Observation } from '../core/types.js';
import { metricInfo } from '../core/metrics.js';
import { toFhirBundle } from '../export/fhir.js';
import { WARD_METRICS, type WardStore } from './ward-store.js';

export function exportRoutes(census: Census, store: WardStore, now: () => number): (app: FastifyInstance) => void {
  return (app) => {
    app.get<{ Params: { id: string } }>('/api/patients/:id/fhir', async (req, reply) => {
      const patient = census.patient(req.params.id);
      if (!patient) return reply.code(404).send({ error: `no admitted patient ${req.params.id}` });
      const latest = store.latest(patient.id);
      const observations: Observation[] = WARD_METRICS.flatMap((metric) => {
        const v = latest[metric];
        if (!v) return [];
        return [{ ts: v.ts, patientId: patient.id, ward: patient.ward, bed: patient.bed, deviceId: v.deviceId, metric, value: v.v, unit: metricInfo(metric).unit, quality: v.quality === 'poor' || v.quality === 'invalid' ? v.quality : 'good' }];
      });
      return reply.type('application/fhir+json').send(toFhirBundle(observations, now()));
    });
  };
}
