/**
 * What the spool's state means to people: a log line for whoever runs the box, and a technical
 * alarm for the ward. Nearing the bound (medium) means InfluxDB is not keeping up; full (high)
 * means devices' data is being refused, and stays with the devices.
 */
import type { Logger } from '../core/log.js';
import type { Spool } from '../spool/spool.js';
import type { LiveDetectors } from './live.js';

/** Logs each change of the spool's state with what to check. */
export function logSpoolState(spool: Spool, log: Logger): void {
  spool.on('nearFull', (s) => log.warn({ bytes: s.bytes, maxBytes: s.maxBytes }, 'spool nearing its size bound (spool.maxBytes): is InfluxDB reachable?'));
  spool.on('full', (s) => log.error({ bytes: s.bytes, maxBytes: s.maxBytes }, 'spool full: new data is refused and left with the devices until InfluxDB catches up'));
  spool.on('recovered', (s) => log.info({ bytes: s.bytes, maxBytes: s.maxBytes }, 'spool below its warning level again'));
}

/** Keeps the `spool_near_full` and `spool_full` technical alarms in step with the spool, from now on. */
export function raiseSpoolAlarms(spool: Spool, detectors: Pick<LiveDetectors, 'system'>): void {
  const sync = (): void => {
    const s = spool.stats();
    const pct = Math.round((s.bytes / s.maxBytes) * 100);
    detectors.system('spool_near_full', s.nearFull, 'medium', s.nearFull ? `Gateway storage ${pct}% full: is InfluxDB reachable?` : `Gateway storage back to ${pct}%`);
    detectors.system('spool_full', s.full, 'high', s.full ? 'Gateway storage full: new device data is refused' : 'Gateway storage accepts data again');
  };
  spool.on('nearFull', sync);
  spool.on('full', sync);
  spool.on('recovered', sync);
  if (spool.stats().nearFull || spool.stats().full) sync();
}
