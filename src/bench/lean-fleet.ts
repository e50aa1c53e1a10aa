/**
 * Many lean MQTT devices in this process, for fault tests that need hundreds or thousands of
 * connections and exact counts of what each one sent and had acknowledged. Optionally each
 * device reconnects by itself after a random delay when its connection drops, as wearables do
 * after a gateway restart.
 */
import { LeanConnection } from './lean-mqtt.js';

export interface LeanDevice {
  readonly id: string;
  readonly secret: string;
}

export interface LeanFleetOptions {
  readonly host?: string;
  readonly port: number;
  readonly devices: readonly LeanDevice[];
  /** Connections opened at once. Default 100. */
  readonly concurrency?: number;
  /** Reconnect after a drop, waiting a random time in [minMs, maxMs] before each attempt. */
  readonly reconnect?: { readonly minMs: number; readonly maxMs: number };
}

export class LeanFleet {
  readonly conns: LeanConnection[];
  /** Successful connections per device, the first included. */
  readonly connects: number[];
  private closing = false;
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(private readonly o: LeanFleetOptions) {
    this.conns = o.devices.map((d) => new LeanConnection({ host: o.host ?? '127.0.0.1', port: o.port, clientId: d.id, username: d.id, password: d.secret, keepaliveS: 0 }));
    this.connects = o.devices.map(() => 0);
  }

  /** Connects every device (a batch at a time); resolves when each has connected or failed once. */
  static async connect(o: LeanFleetOptions): Promise<LeanFleet> {
    const fleet = new LeanFleet(o);
    const step = o.concurrency ?? 100;
    for (let i = 0; i < fleet.conns.length; i += step) {
      await Promise.all(fleet.conns.slice(i, i + step).map((_, j) => fleet.attempt(i + j)));
    }
    return fleet;
  }

  /** Devices connected right now. */
  get connected(): number {
    return this.conns.filter((c) => c.connected).length;
  }

  /** Publishes QoS 1 from device i; resolves true on PUBACK, false when refused or disconnected. */
  publish(i: number, payload: string | Buffer, topic = `vigil/v1/dev/${this.o.devices[i]!.id}/obs`): Promise<boolean> {
    const conn = this.conns[i]!;
    return new Promise((resolve) => conn.publish(topic, Buffer.isBuffer(payload) ? payload : Buffer.from(payload), (err) => resolve(!err)));
  }

  /** Closes every connection and stops reconnecting. */
  close(): void {
    this.closing = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const c of this.conns) c.end(true);
  }

  private async attempt(i: number): Promise<void> {
    const conn = this.conns[i]!;
    try {
      await conn.connect();
      this.connects[i]! += 1;
      conn.onClose = () => this.scheduleReconnect(i);
    } catch {
      this.scheduleReconnect(i);
    }
  }

  private scheduleReconnect(i: number): void {
    const r = this.o.reconnect;
    if (!r || this.closing) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.closing) void this.attempt(i);
    }, r.minMs + Math.random() * (r.maxMs - r.minMs));
    this.timers.add(t);
  }
}
