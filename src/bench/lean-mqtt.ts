/**
 * A lean MQTT 3.1.1 publisher for load generation: one TCP connection, CONNECT, QoS 1 PUBLISH
 * and PUBACK, nothing else. Thousands of these fit in one process where full clients would not,
 * so the load generators take as little CPU as possible from the gateway they measure.
 * Packets are encoded and parsed by hand ([MQTT-2.2] fixed header, [MQTT-3.1] CONNECT,
 * [MQTT-3.3] PUBLISH, [MQTT-3.4] PUBACK).
 */
import { connect as netConnect, type Socket } from 'node:net';

const CONNACK = 2;
const PUBACK = 4;

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

/** MQTT remaining-length varint ([MQTT-2.2.3]). */
export function varint(n: number): Buffer {
  const out: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return Buffer.from(out);
}

function str(s: string | Buffer): Buffer {
  const b = typeof s === 'string' ? Buffer.from(s) : s;
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
}

/** Encodes CONNECT (protocol level 4, clean session). */
export function encodeConnect(o: LeanOptions): Buffer {
  let flags = 0x02; // clean session
  const parts = [str('MQTT'), Buffer.from([4]), Buffer.alloc(1), Buffer.alloc(2), str(o.clientId)];
  if (o.username !== undefined) {
    flags |= 0x80;
    parts.push(str(o.username));
  }
  if (o.password !== undefined) {
    flags |= 0x40;
    parts.push(str(o.password));
  }
  parts[2]![0] = flags;
  parts[3]!.writeUInt16BE(o.keepaliveS ?? 0);
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([0x10]), varint(body.length), body]);
}

/** Encodes a QoS 1 PUBLISH. */
export function encodePublish(topic: Buffer, packetId: number, payload: Buffer): Buffer {
  const len = 2 + topic.length + 2 + payload.length;
  const head = varint(len);
  const out = Buffer.allocUnsafe(1 + head.length + len);
  out[0] = 0x32;
  head.copy(out, 1);
  let at = 1 + head.length;
  out.writeUInt16BE(topic.length, at);
  topic.copy(out, at + 2);
  at += 2 + topic.length;
  out.writeUInt16BE(packetId, at);
  payload.copy(out, at + 2);
  return out;
}

export class LeanConnection {
  private socket: Socket | undefined;
  private buf: Buffer = Buffer.alloc(0);
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
      this.buf = Buffer.alloc(0);
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
          this.pinger = setInterval(() => socket.write(Buffer.from([0xc0, 0])), (ka * 1000) / 2);
          this.pinger.unref();
        }
        resolve();
      };
      socket.on('connect', () => socket.write(encodeConnect(o)));
      socket.on('data', (chunk: Buffer) => this.read(chunk));
      socket.on('error', (err) => fail(err));
      socket.on('close', () => {
        fail(new Error('closed before CONNACK'));
        const was = this.connected;
        this.closed();
        if (was) this.onClose?.();
      });
    });
  }

  /** Sends a QoS 1 PUBLISH; `cb` runs on PUBACK or with an error when the connection closes. */
  publish(topic: Buffer, payload: Buffer, cb: PublishCallback): void {
    const socket = this.socket;
    if (!socket || !this.connected) return cb(new Error('not connected'));
    let id = this.nextId;
    // Packet ids are 1..65535 ([MQTT-2.3.1-1]); skip ones still in flight.
    while (this.inflight.has(id)) id = id === 65535 ? 1 : id + 1;
    this.nextId = id === 65535 ? 1 : id + 1;
    this.inflight.set(id, cb);
    socket.write(encodePublish(topic, id, payload));
  }

  /** Closes the connection: politely (DISCONNECT) unless `force`. */
  end(force = false): void {
    const socket = this.socket;
    if (!socket) return;
    if (!force && this.connected) socket.end(Buffer.from([0xe0, 0]));
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

  private read(chunk: Buffer): void {
    let buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    for (;;) {
      if (buf.length < 2) break;
      // Remaining length: up to 4 varint bytes after the first.
      let len = 0;
      let mul = 1;
      let i = 1;
      let complete = false;
      for (; i < Math.min(buf.length, 5); i++) {
        const b = buf[i]!;
        len += (b & 0x7f) * mul;
        mul *= 128;
        if ((b & 0x80) === 0) {
          complete = true;
          i++;
          break;
        }
      }
      if (!complete || buf.length < i + len) break;
      const type = buf[0]! >> 4;
      const body = buf.subarray(i, i + len);
      buf = buf.subarray(i + len);
      if (type === PUBACK && body.length >= 2) {
        const id = body.readUInt16BE(0);
        const cb = this.inflight.get(id);
        if (cb) {
          this.inflight.delete(id);
          cb(undefined);
        }
      } else if (type === CONNACK && body.length >= 2) {
        this.onConnack?.(body[1]!);
      }
      // Anything else (PINGRESP) needs no action from a publisher.
    }
    this.buf = buf.length === 0 ? Buffer.alloc(0) : Buffer.from(buf);
  }
}
