/**
 * What the InfluxDB writer reports: its section of /healthz and its series on /metrics, both
 * read from its `stats()` (undefined when no `influx.url` is configured).
 */
import type { Counters } from '../core/counters.js';
import type { WriterStats } from './forward-stats.js';

/** The writer's section of /healthz. */
export function influxHealth(w: WriterStats | undefined): Record<string, unknown> {
  if (!w) return { configured: false, note: 'no influx.url: data stays in the spool' };
  return { configured: true, state: w.state, lagRecords: w.lagRecords, lastSuccessAt: w.lastSuccessAt, lastError: w.lastError, batches: w.batches, pointsWritten: w.pointsWritten, retries: w.retries, deadLetters: w.deadLetters };
}

/** Registers the writer's series; they read 0 while no writer is configured. */
export function registerInfluxMetrics(c: Counters, stats: () => WriterStats | undefined): void {
  c.externalCounter('vigil_influx_batches_total', 'Batches written to InfluxDB', () => stats()?.batches ?? 0);
  c.externalCounter('vigil_influx_points_total', 'Points written to InfluxDB', () => stats()?.pointsWritten ?? 0);
  c.externalCounter('vigil_influx_retries_total', 'InfluxDB write retries', () => stats()?.retries ?? 0);
  c.externalCounter('vigil_influx_dead_letters_total', 'Records refused by InfluxDB and kept in the dead-letter file', () => stats()?.deadLetters ?? 0);
  c.externalHistogram('vigil_influx_write_seconds', 'InfluxDB batch write latency', () => stats()?.latency);
  c.gauge('vigil_influx_last_write_seconds', 'Latency of the last successful InfluxDB write', () => (stats()?.lastWriteLatencyMs ?? 0) / 1000);
}
