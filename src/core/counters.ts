/**
 * Self-metrics, exposed as Prometheus text on GET /metrics. One registry per gateway instance so
 * several gateways in one process (tests) do not share counts.
 */
import { Counter, Gauge, Registry } from 'prom-client';

export class Counters {
  readonly registry = new Registry();
  /**
   * What every message moves, by transport, kept as plain counts and handed to the registry when
   * it is read: a labelled counter hashes its labels at each increment, twice a message.
   */
  private readonly messageCounts = new Map<string, number>();
  private readonly observationCounts = new Map<string, number>();
  private readonly rejected = new Counter({ name: 'vigil_messages_rejected_total', help: 'Frames or packets refused or dropped, by reason', labelNames: ['reason'], registers: [this.registry] });
  private readonly droppedValues = new Counter({ name: 'vigil_values_dropped_total', help: 'Values dropped from frames whose other values were kept, by reason', labelNames: ['reason'], registers: [this.registry] });
  private readonly unassigned = new Counter({ name: 'vigil_unassigned_observations_total', help: 'Observations from devices not assigned to a patient (stored, not alarmed)', registers: [this.registry] });
  private readonly technical = new Counter({ name: 'vigil_technical_events_total', help: 'Technical events from devices and sources, by kind', labelNames: ['kind'], registers: [this.registry] });
  private readonly connections = new Counter({ name: 'vigil_mqtt_connections_total', help: 'Accepted MQTT device connections', registers: [this.registry] });
  private readonly alarms = new Counter({ name: 'vigil_alarm_transitions_total', help: 'Alarm transitions out of the alarm manager, by kind, priority and state', labelNames: ['kind', 'priority', 'state'], registers: [this.registry] });
  private readonly httpConnectionsRefused = new Counter({ name: 'vigil_http_connections_refused_total', help: 'HTTP connections closed as they came, by reason', labelNames: ['reason'], registers: [this.registry] });
  private readonly refused = new Counter({ name: 'vigil_mqtt_connections_refused_total', help: 'Refused MQTT connections, by reason', labelNames: ['reason'], registers: [this.registry] });
  private readonly httpRefused = new Counter({ name: 'vigil_http_refused_total', help: 'HTTP requests refused (400, 401, 403, 413, 415, 429), by reason', labelNames: ['reason'], registers: [this.registry] });
  /** Histograms owned elsewhere, rendered at scrape time. */
  private readonly histograms: Array<() => string> = [];

  constructor() {
    this.countsByLabel('vigil_messages_total', 'Frames received from devices, by transport', 'transport', this.messageCounts);
    this.countsByLabel('vigil_observations_total', 'Observations accepted into the spool, by transport', 'transport', this.observationCounts);
  }

  /** Registers a counter by one label whose counts are kept in `counts` (owned elsewhere) and read at scrape time. */
  countsByLabel(name: string, help: string, label: string, counts: ReadonlyMap<string, number>): void {
    new Counter({
      name,
      help,
      labelNames: [label],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [value, n] of counts) this.inc({ [label]: value }, n);
      },
    });
  }

  message(transport: string): void {
    this.messageCounts.set(transport, (this.messageCounts.get(transport) ?? 0) + 1);
  }
  reject(reason: string): void {
    this.rejected.inc({ reason });
  }
  valueDropped(reason: string, n: number): void {
    this.droppedValues.inc({ reason }, n);
  }
  observation(transport: string, n: number, unassigned: boolean): void {
    this.observationCounts.set(transport, (this.observationCounts.get(transport) ?? 0) + n);
    if (unassigned) this.unassigned.inc(n);
  }
  technicalEvent(kind: string): void {
    this.technical.inc({ kind });
  }
  connection(): void {
    this.connections.inc();
  }
  alarmTransition(kind: string, priority: string, state: string): void {
    this.alarms.inc({ kind, priority, state });
  }
  refuseHttpConnection(reason: string): void {
    this.httpConnectionsRefused.inc({ reason });
  }
  refuseConnection(reason: string): void {
    this.refused.inc({ reason });
  }
  /** Counts a refused HTTP request (`n` 0 makes the series exist). */
  refuseHttp(reason: string, n = 1): void {
    this.httpRefused.inc({ reason }, n);
  }

  /** Registers a gauge whose value is read at scrape time. */
  gauge(name: string, help: string, read: () => number): void {
    new Gauge({ name, help, registers: [this.registry], collect() { this.set(read()); } });
  }

  /** Registers a counter-like value owned elsewhere (e.g. the writer's stats), read at scrape time. */
  externalCounter(name: string, help: string, read: () => number): void {
    new Counter({ name, help, registers: [this.registry], collect() { this.reset(); this.inc(read()); } });
  }

  /**
   * Registers a histogram kept elsewhere as cumulative bucket counts in ms; exported in seconds.
   */
  externalHistogram(name: string, help: string, read: () => { bucketsMs: readonly number[]; counts: readonly number[]; sumMs: number; count: number } | undefined): void {
    this.histograms.push(() => {
      const h = read();
      if (!h) return '';
      const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} histogram`];
      h.bucketsMs.forEach((le, i) => lines.push(`${name}_bucket{le="${le / 1000}"} ${h.counts[i] ?? 0}`));
      lines.push(`${name}_bucket{le="+Inf"} ${h.count}`, `${name}_sum ${h.sumMs / 1000}`, `${name}_count ${h.count}`);
      return lines.join('\n') + '\n';
    });
  }

  /** The whole Prometheus exposition text. */
  async text(): Promise<string> {
    return (await this.registry.metrics()) + this.histograms.map((h) => h()).join('');
  }

  /** Current value of a labelled counter, for health and tests. */
  async value(name: string, labels: Record<string, string> = {}): Promise<number> {
    const metric = this.registry.getSingleMetric(name);
    if (!metric) return 0;
    const data = await metric.get();
    return data.values.filter((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val)).reduce((a, v) => a + v.value, 0);
  }
}

/**
 * The sum of the samples of `name` in Prometheus text (`/metrics`) whose labels include every
 * one of `labels` with its value: the sum over all of them when none are given.
 */
export function sumSamples(text: string, name: string, labels: Readonly<Record<string, string>> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(\{([^}]*)\})? ([-0-9.e+]+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[3] ?? '').matchAll(/([a-z_]+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) sum += Number(m[4]);
  }
  return sum;
}
