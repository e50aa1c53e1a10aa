/**
 * Publish-to-alarm latency: a nurse-call style consumer subscribed to the alarm topics pairs
 * each probe's breach publish (reported by the load clients) with the `raised` alarm that comes
 * back for that patient, on the same machine clock. MQTT delivery to the consumer is included.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { nowMs } from './protocol.js';

/** Bench patients are named after their device index. */
export function benchPatientId(i: number): string {
  return `P-${String(i).padStart(5, '0')}`;
}

export interface LatencySummary {
  readonly samples: number;
  /** ms */
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** Probe breaches with no alarm by the end of the phase. */
  readonly unmatched: number;
}

/** The q-quantile (0..1) of sorted values, nearest rank. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

export class LatencyProbe {
  private readonly published = new Map<number, number[]>();
  private readonly received = new Map<number, number[]>();
  private samples: number[] = [];
  private recording = false;

  private constructor(private readonly client: MqttClient) {}

  static async connect(port: number, id: string, secret: string): Promise<LatencyProbe> {
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { username: id, password: secret, clientId: id, reconnectPeriod: 1000 });
    const probe = new LatencyProbe(client);
    client.on('message', (topic, payload) => probe.onAlarm(topic, payload));
    await client.subscribeAsync('vigil/v1/alarms/+/+', { qos: 1 });
    return probe;
  }

  /** Starts a fresh measurement window (earlier pairs are discarded). */
  begin(): void {
    this.published.clear();
    this.received.clear();
    this.samples = [];
    this.recording = true;
  }

  /** A probe's breach left the device at `at` epoch ms. */
  onPublish(device: number, at: number): void {
    if (!this.recording) return;
    this.push(this.published, device, at);
    this.pair(device);
  }

  /** Ends the window and summarises it. */
  end(): LatencySummary {
    this.recording = false;
    const sorted = [...this.samples].sort((a, b) => a - b);
    let unmatched = 0;
    for (const q of this.published.values()) unmatched += q.length;
    return { samples: sorted.length, p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), max: sorted.at(-1) ?? NaN, unmatched };
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }

  private onAlarm(_topic: string, payload: Buffer): void {
    const at = nowMs();
    if (!this.recording) return;
    let a: { state?: string; kind?: string; metric?: string; patientId?: string };
    try {
      a = JSON.parse(payload.toString()) as typeof a;
    } catch {
      return;
    }
    if (a.state !== 'raised' || a.kind !== 'limit' || a.metric !== 'temp' || !a.patientId?.startsWith('P-')) return;
    const device = Number(a.patientId.slice(2));
    this.push(this.received, device, at);
    this.pair(device);
  }

  private push(m: Map<number, number[]>, k: number, v: number): void {
    const q = m.get(k);
    if (q) q.push(v);
    else m.set(k, [v]);
  }

  /** Pairs publishes and receipts of one device in order; an alarm before any publish (from before the window) is dropped. */
  private pair(device: number): void {
    const pub = this.published.get(device);
    const rec = this.received.get(device);
    while (pub?.length && rec?.length) {
      const p = pub[0]!;
      const r = rec.shift()!;
      if (r < p) continue;
      pub.shift();
      this.samples.push(r - p);
    }
  }
}
