/**
 * A lean MQTT 3.1.1 publisher for load generation: one TCP connection, CONNECT, QoS 1 PUBLISH
 * and PUBACK, nothing else. Thousands of these fit in one process where full clients would not,
 * so the load generators take as little CPU as possible from the gateway they measure. Packets
 * are encoded and parsed by mqtt-packet, the codec aedes and MQTT.js use.
 */
import { connect as netConnect, type Socket } from 'node:net';
import mqttPacket, { type Packet } from 'mqtt-packet';

export interface LeanOptions {
  readonly host: string;
  readonly port: number;
  readonly clientId: string;
  readonly username?: string;
  readonly password?: string;
  /** Keep-alive, s; 0 switches it off (the broker then never times the connection out). */
  readonly keepaliveS?: number;
  /** Longest wait for CONNACK, ms. Default 10000. */
  readonly connectTimeoutMs?: number;
}

/** Called once per publish: no error on PUBACK, an error when the connection closed first. */
export type PublishCallback = (err: Error | undefined) => void;

/** CONNECT with a clean session ([MQTT-3.1]). */
function connectPacket(o: LeanOptions): Buffer {
  return mqttPacket.generate({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clean: true,
    clientId: o.clientId,
    keepalive: o.keepaliveS ?? 0,
    ...(o.username !== undefined && { username: o.username }),
    ...(o.password !== undefined && { password: Buffer.from(o.password) }),
  });
}

const PINGREQ = mqttPacket.generate({ cmd: 'pingreq' });
const DISCONNECT = mqttPacket.generate({ cmd: 'disconnect' });

export class LeanConnection {
  private socket: Socket | undefined;
  private nextId = 1;
  private readonly inflight = new Map<number, PublishCallback>();
  private onConnack: ((rc: number) => void) | undefined;
  private pinger: NodeJS.Timeout | undefined;
  /** True between CONNACK (accepted) and close. */
  connected = false;
  /** Called when an established connection closes (not for a refused one). */
  onClose: (() => void) | undefined;

  constructor(readonly options: LeanOptions) {}

  /** Publishes awaiting PUBACK. */
  get pending(): number {
    return this.inflight.size;
  }

  /** Connects; rejects when refused (return code), closed or timed out. */
  connect(): Promise<void> {
    const o = this.options;
    return new Promise((resolve, reject) => {
      const socket = netConnect({ host: o.host, port: o.port });
      this.socket = socket;
      const parser = mqttPacket.parser({ protocolVersion: 4 });
      parser.on('packet', (p) => this.received(p));
      parser.on('error', (err) => fail(err));
      socket.setNoDelay(true);
      let settled = false;
      const timer = setTimeout(() => fail(new Error('CONNACK timeout')), o.connectTimeoutMs ?? 10_000);
      const fail = (err: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      };
      this.onConnack = (rc) => {
        if (rc !== 0) return fail(new Error(`connection refused (return code ${rc})`));
        settled = true;
        clearTimeout(timer);
        this.connected = true;
        const ka = o.keepaliveS ?? 0;
        if (ka > 0) {
          this.pinger = setInterval(() => socket.write(PINGREQ), (ka * 1000) / 2);
          this.pinger.unref();
        }
        resolve();
      };
      socket.on('connect', () => socket.write(connectPacket(o)));
      socket.on('data', (chunk: Buffer) => parser.parse(chunk));
      socket.on('error', (err) => fail(err));
      socket.on('close', () => {
        fail(new Error('closed before CONNACK'));
        const was = this.connected;
        this.closed();
        if (was) this.onClose?.();
      });
    });
  }

  /** Sends a QoS 1 PUBLISH ([MQTT-3.3]); `cb` runs on PUBACK or with an error when the connection closes. */
  publish(topic: string, payload: Buffer, cb: PublishCallback): void {
    const socket = this.socket;
    if (!socket || !this.connected) return cb(new Error('not connected'));
    let id = this.nextId;
    // Packet ids are 1..65535 ([MQTT-2.3.1-1]); skip ones still in flight.
    while (this.inflight.has(id)) id = id === 65535 ? 1 : id + 1;
    this.nextId = id === 65535 ? 1 : id + 1;
    this.inflight.set(id, cb);
    socket.write(mqttPacket.generate({ cmd: 'publish', qos: 1, dup: false, retain: false, messageId: id, topic, payload }));
  }

  /** Closes the connection: politely (DISCONNECT) unless `force`. */
  end(force = false): void {
    const socket = this.socket;
    if (!socket) return;
    if (!force && this.connected) socket.end(DISCONNECT);
    else socket.destroy();
  }

  private closed(): void {
    this.connected = false;
    if (this.pinger) clearInterval(this.pinger);
    this.pinger = undefined;
    const err = new Error('connection closed');
    const cbs = [...this.inflight.values()];
    this.inflight.clear();
    for (const cb of cbs) cb(err);
  }

  private received(p: Packet): void {
    if (p.cmd === 'puback' && p.messageId !== undefined) {
      const cb = this.inflight.get(p.messageId);
      if (cb) {
        this.inflight.delete(p.messageId);
        cb(undefined);
      }
    } else if (p.cmd === 'connack') {
      this.onConnack?.(p.returnCode ?? 0);
    }
    // Anything else (PINGRESP) needs no action from a publisher.
  }
}
