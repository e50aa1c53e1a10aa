/**
 * The gateway config the benchmark runs with: N wearables (plain secrets, trusted device time),
 * each assigned to a patient in a bed of 50-bed wards so every detector runs for every device,
 * a read-only consumer for the alarm topics, and the time-series server as the InfluxDB target.
 * Detector settings are the defaults.
 */
import { benchDeviceId, benchSecret } from './protocol.js';
import { benchPatientId } from './latency.js';

const BEDS_PER_WARD = 50;

/** The ward of the benchmark's device (and patient, and bed) `i`. */
export function benchWardId(i: number): string {
  return `w${Math.floor(i / BEDS_PER_WARD)}`;
}
export const CONSUMER = { id: 'bench-nurse-call', secret: 'bench-nurse-call-secret' } as const;

export interface BenchConfigOptions {
  readonly devices: number;
  readonly mqttPort: number;
  readonly httpPort: number;
  /** Time-series server base URL. */
  readonly influxUrl: string;
  /** `influx.batchSize` when not the default. */
  readonly influxBatchSize?: number;
}

export function benchGatewayConfig(o: BenchConfigOptions): Record<string, unknown> {
  const ids = Array.from({ length: o.devices }, (_, i) => i);
  const wards = new Map<string, string[]>();
  for (const i of ids) {
    const w = benchWardId(i);
    wards.set(w, [...(wards.get(w) ?? []), String(i)]);
  }
  return {
    log: { level: 'error' },
    mqtt: {
      host: '127.0.0.1',
      port: o.mqttPort,
      // The ceiling phase drives each device far above a wearable's rate on purpose.
      rate: { messagesPerSecond: 100_000, burst: 100_000 },
      // Every simulated device connects from this one machine.
      limits: { connectionsPerAddress: o.devices + 100, maxConnections: o.devices + 100 },
      consumers: [{ id: CONSUMER.id, secret: CONSUMER.secret, topics: ['vigil/v1/alarms/#'] }],
    },
    http: { host: '127.0.0.1', port: o.httpPort },
    influx: { url: o.influxUrl, token: 'bench', org: 'vigil', bucket: 'vigil', maxBackoffMs: 1000, ...(o.influxBatchSize ? { batchSize: o.influxBatchSize } : {}) },
    devices: ids.map((i) => ({ id: benchDeviceId(i), secret: benchSecret(i), trustDeviceTime: true })),
    census: {
      wards: [...wards].map(([id, beds]) => ({ id, beds })),
      patients: ids.map((i) => ({ id: benchPatientId(i), ward: benchWardId(i), bed: String(i), devices: [benchDeviceId(i)] })),
    },
  };
}
