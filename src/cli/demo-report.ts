/** The demo's periodic plain-text report: what was stored, and each bed's latest vitals. */
import type { Gateway } from '../gateway.js';
import { observationsOf, type MetricName, type SpoolRecord } from '../core/types.js';
import { sortAlarms } from '../alarms/routes.js';

const SHOWN: ReadonlyArray<[MetricName, string]> = [['hr', 'HR'], ['pr', 'PR'], ['spo2', 'SpO2'], ['rr', 'RR'], ['temp', 'T'], ['sbp', 'SBP']];

export class DemoReporter {
  private readonly latest = new Map<string, Map<MetricName, number>>();
  private readonly technical = new Map<string, string>();
  private readonly startedAt = Date.now();

  constructor(
    private readonly gateway: Gateway,
    private readonly out: (line: string) => void,
  ) {
    gateway.ingest.onRecords((records) => this.take(records));
  }

  private take(records: readonly SpoolRecord[]): void {
    for (const r of records) {
      for (const o of r.t === 'msg' ? observationsOf(r.m) : r.t === 'obs' ? [r.o] : []) {
        if (o.bed === undefined || o.quality !== 'good') continue;
        let m = this.latest.get(o.bed);
        if (!m) this.latest.set(o.bed, (m = new Map()));
        m.set(o.metric, o.value);
      }
      if (r.t === 'tech' && r.e.bed !== undefined) {
        if (r.e.kind.endsWith('_ok') || r.e.kind === 'device_online') this.technical.delete(r.e.bed);
        else this.technical.set(r.e.bed, r.e.kind);
      }
    }
  }

  async report(): Promise<void> {
    const h = this.gateway.health();
    const spool = h.spool as { bytes: number; lastSeq: number };
    const obs = await this.gateway.counters.value('vigil_observations_total');
    const rejected = await this.gateway.counters.value('vigil_messages_rejected_total');
    const secs = Math.round((Date.now() - this.startedAt) / 1000);
    this.out(`[${String(Math.floor(secs / 60)).padStart(2, '0')}:${String(secs % 60).padStart(2, '0')}] ${obs} observations stored, ${rejected} frames rejected, spool ${spool.lastSeq} records (${Math.round(spool.bytes / 1024)} KiB)`);
    const alarms = sortAlarms(this.gateway.detectors.activeAlarms());
    for (const bed of [...this.latest.keys()].sort()) {
      const m = this.latest.get(bed)!;
      const vitals = SHOWN.filter(([k]) => m.has(k)).map(([k, label]) => `${label} ${m.get(k)}`).join('  ');
      const tech = this.technical.get(bed);
      const patient = this.gateway.census.snapshot().patients.find((p) => p.bed === bed)?.id;
      const news2 = patient ? this.gateway.detectors.latestNews2(patient) : undefined;
      const score = news2 ? `  NEWS2 ${news2.score}${news2.complete ? '' : '?'} (${news2.band})` : '';
      this.out(`    bed ${bed.padEnd(3)} ${vitals}${score}${tech ? `  [${tech.replace('_', ' ')}]` : ''}`);
    }
    if (alarms.length === 0) this.out('    no active alarms');
    for (const a of alarms) {
      const flags = [a.acknowledged ? `acknowledged by ${a.acknowledgedBy}` : 'unacknowledged', a.escalated ? 'escalated' : '', a.conditionActive ? '' : a.latching && !a.acknowledged ? 'latched until acknowledged' : 'condition ended'].filter(Boolean).join(', ');
      // a gateway's own alarm (e.g. a step not delivered) is of no bed; its reason names the bed
      this.out(`    ALARM ${a.priority.toUpperCase().padEnd(6)} ${a.bed === undefined ? 'gateway' : `bed ${a.bed}`} ${a.reason} (${flags})`);
    }
  }
}
