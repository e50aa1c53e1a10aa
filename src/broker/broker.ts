/**
 * The embedded MQTT broker (aedes over TCP, and TLS when configured) with Vigil's policy:
 * device authentication, per-device topic ACLs, packet-size and rate limits, and the durable
 * ingest hook. An observation is appended to the spool inside `authorizePublish`, which aedes
 * runs before it sends the QoS 1 PUBACK, so a PUBACK means the data is on disk.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { readFileSync } from 'node:fs';
import { Aedes, type AuthenticateError, type Client, type PublishPacket, type Subscription } from 'aedes';
import type { Logger } from '../core/log.js';
import type { Service } from '../core/types.js';
import type { DeviceProfile } from '../core/profile.js';
import { SpoolFullError } from '../core/errors.js';
import { PacketSizeGuard, TokenBucket } from './packet-guard.js';
import { SecretVerifier } from './secrets.js';
import { deviceTopicPrefix, filterCovers, parseDeviceTopic } from './topics.js';
import type { Ingest } from '../ingest/ingest.js';
import type { Counters } from '../core/counters.js';

export interface BrokerDevice {
  readonly id: string;
  readonly profile: DeviceProfile;
  readonly secretHash?: string;
  readonly secret?: string;
  readonly trustDeviceTime: boolean;
}

export interface BrokerOptions {
  readonly host: string;
  readonly port: number;
  readonly tls?: { readonly port: number; readonly cert: string; readonly key: string; readonly ca?: string };
  readonly maxPacketBytes: number;
  readonly rate: { readonly messagesPerSecond: number; readonly burst: number };
  readonly devices: ReadonlyMap<string, BrokerDevice>;
  readonly consumers?: ReadonlyMap<string, BrokerConsumer>;
  readonly ingest: Ingest;
  readonly counters: Counters;
  readonly logger: Logger;
  /** Epoch-ms clock for rate limiting and receive times. */
  readonly clock?: () => number;
}

/** A read-only account (nurse call, paging, integration) that may subscribe to `topics`. */
export interface BrokerConsumer {
  readonly id: string;
  readonly secretHash?: string;
  readonly secret?: string;
  /** Topic filters it may subscribe to, e.g. `vigil/v1/alarms/#`. */
  readonly topics: readonly string[];
}

interface Session {
  /** Set for devices; consumers have `consumer` instead. */
  readonly device?: BrokerDevice;
  readonly consumer?: BrokerConsumer;
  readonly bucket: TokenBucket;
  readonly remote: string;
}

const NOT_AUTHORIZED = 5;
const BAD_CREDENTIALS = 4;

export class MqttBroker implements Service {
  readonly name = 'mqtt';
  private aedes: Aedes | undefined;
  private readonly servers: Server[] = [];
  private readonly sessions = new WeakMap<Client, Session>();
  private readonly verifier: SecretVerifier;
  private readonly clock: () => number;
  /** Bound addresses after start, for logs and tests. */
  readonly addresses: { tcp?: number; tls?: number } = {};
  private readonly sockets = new Set<Socket>();
  private readonly delivered: Array<(topic: string, payload: Buffer, account: string) => void> = [];

  constructor(private readonly opts: BrokerOptions) {
    this.clock = opts.clock ?? Date.now;
    this.verifier = new SecretVerifier((id) => {
      const d = opts.devices.get(id) ?? opts.consumers?.get(id);
      if (!d) return undefined;
      return d.secretHash !== undefined ? { hash: d.secretHash } : { plain: d.secret ?? '' };
    });
  }

  /** Connected clients right now. */
  get connectedClients(): number {
    return this.aedes?.connectedClients ?? 0;
  }

  async start(): Promise<void> {
    const log = this.opts.logger;
    const aedes = await Aedes.createBroker({
      // No cap on deliveries in flight. With aedes' default (100), a subscriber that stops
      // reading holds 100 deliveries, every later publish (device data included) waits behind
      // them, and the queue is then drained recursively, overflowing the stack under load.
      // Deliveries in flight stay bounded without the cap: each connection hands aedes only
      // the packets of one socket read at a time, and a stuck subscriber is cut off by
      // aedes' drainTimeout.
      concurrency: 0,
      authenticate: (client, username, password, done) => void this.authenticate(client, username, password, done),
      authorizePublish: (client, packet, done) => this.authorizePublish(client, packet, done),
      authorizeSubscribe: (client, sub, done) => this.authorizeSubscribe(client, sub, done),
    });
    this.aedes = aedes;
    aedes.on('clientError', (client, err) => {
      const s = this.sessions.get(client);
      log.debug({ device: s?.device?.id ?? s?.consumer?.id, clientId: client.id, err: err.message }, 'client connection error');
    });
    // [MQTT-4.3.2] a subscriber's PUBACK: the gateway's QoS 1 message reached it
    aedes.on('ack', (packet, client) => {
      if (!packet || !('topic' in packet) || !client) return;
      const s = this.sessions.get(client);
      for (const l of this.delivered) l(packet.topic, Buffer.from(packet.payload), s?.consumer?.id ?? s?.device?.id ?? client.id);
    });
    aedes.on('clientDisconnect', (client) => {
      const s = this.sessions.get(client);
      if (s) log.info({ device: s.device?.id, consumer: s.consumer?.id, remote: s.remote }, s.device ? 'device disconnected' : 'consumer disconnected');
    });

    const tcp = createServer((socket) => this.accept(socket));
    this.addresses.tcp = await listen(tcp, this.opts.port, this.opts.host, 'mqtt.port');
    this.servers.push(tcp);
    if (this.opts.tls) {
      const t = this.opts.tls;
      const server = createTlsServer(
        { cert: readFileSync(t.cert), key: readFileSync(t.key), ...(t.ca ? { ca: readFileSync(t.ca) } : {}) },
        (socket) => this.accept(socket),
      );
      this.addresses.tls = await listen(server, t.port, this.opts.host, 'mqtt.tls.port');
      this.servers.push(server);
    }
    log.info({ host: this.opts.host, port: this.addresses.tcp, tlsPort: this.addresses.tls, devices: this.opts.devices.size }, 'MQTT broker listening');
  }

  /**
   * Calls `listener` each time a subscriber acknowledges a QoS 1 message the gateway published,
   * with the account it signed in as. Only subscribers with a persistent session (clean session
   * off) count: aedes keeps the in-flight message, and so knows what was acknowledged, for them only.
   */
  onDelivered(listener: (topic: string, payload: Buffer, account: string) => void): void {
    this.delivered.push(listener);
  }

  /** Publishes from the gateway itself (alarm topics). Resolves once handed to subscribers. */
  publish(topic: string, payload: Buffer | string, opts: { qos?: 0 | 1; retain?: boolean } = {}): Promise<void> {
    const aedes = this.aedes;
    if (!aedes) return Promise.reject(new Error('broker is not started'));
    return new Promise((resolve, reject) =>
      aedes.publish(
        { cmd: 'publish', topic, payload: typeof payload === 'string' ? Buffer.from(payload) : payload, qos: opts.qos ?? 1, retain: opts.retain ?? false, dup: false },
        (err?: Error | null) => (err ? reject(err) : resolve()),
      ),
    );
  }

  async stop(): Promise<void> {
    for (const s of this.servers) s.close();
    for (const socket of this.sockets) socket.destroy();
    const aedes = this.aedes;
    this.aedes = undefined;
    if (aedes) await new Promise<void>((resolve) => aedes.close(() => resolve()));
    await Promise.all(this.servers.map((s) => new Promise<void>((resolve) => (s.listening ? s.close(() => resolve()) : resolve()))));
    this.servers.length = 0;
  }

  private accept(socket: Socket): void {
    const aedes = this.aedes;
    if (!aedes) return void socket.destroy();
    const remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    const guard = new PacketSizeGuard(this.opts.maxPacketBytes);
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.setNoDelay(true);
    // 'readable' (aedes) controls the flow; 'data' then fires for each chunk aedes reads.
    socket.on('data', (chunk: Buffer) => {
      const size = guard.check(chunk);
      if (size > 0) {
        this.opts.counters.reject('oversized');
        this.opts.logger.warn({ remote, size, limit: this.opts.maxPacketBytes }, 'MQTT packet over mqtt.maxPacketBytes: connection closed');
        socket.destroy();
      }
    });
    aedes.handle(socket);
  }

  private async authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    done: (error: AuthenticateError | null, success: boolean | null) => void,
  ): Promise<void> {
    const remote = `${(client.conn as Socket).remoteAddress ?? '?'}`;
    const id = username ?? '';
    let verdict: Awaited<ReturnType<SecretVerifier['verify']>>;
    try {
      verdict = await this.verifier.verify(id, password);
    } catch (err) {
      this.opts.logger.error({ device: id, err: (err as Error).message }, 'secret verification failed');
      verdict = 'bad_secret';
    }
    if (verdict !== 'ok') {
      this.opts.counters.refuseConnection(verdict);
      this.opts.logger.warn({ device: id || '(no username)', clientId: client.id, remote, reason: verdict }, verdict === 'unknown_device' ? 'connection refused: unknown device' : 'connection refused: wrong secret');
      const err = Object.assign(new Error(verdict), { returnCode: BAD_CREDENTIALS }) as AuthenticateError;
      return done(err, false);
    }
    const device = this.opts.devices.get(id);
    const consumer = device ? undefined : this.opts.consumers?.get(id);
    const bucket = new TokenBucket(this.opts.rate.messagesPerSecond, this.opts.rate.burst, this.clock());
    this.sessions.set(client, device ? { device, bucket, remote } : { consumer: consumer!, bucket, remote });
    this.opts.counters.connection();
    this.opts.logger.info({ [device ? 'device' : 'consumer']: id, clientId: client.id, remote }, device ? 'device connected' : 'consumer connected');
    done(null, true);
  }

  private authorizePublish(client: Client | null, packet: PublishPacket, done: (error?: Error | null) => void): void {
    if (client === null) return done(); // the gateway's own publishes
    const session = this.sessions.get(client);
    if (!session) return done(new Error('not authenticated'));
    if (!session.device) {
      this.opts.counters.reject('forbidden_topic');
      this.opts.logger.warn({ consumer: session.consumer?.id, topic: packet.topic }, 'publish refused: consumer accounts are read-only; disconnecting');
      return done(Object.assign(new Error('read-only account'), { returnCode: NOT_AUTHORIZED }));
    }
    const s = { ...session, device: session.device };
    const topic = parseDeviceTopic(packet.topic);
    if (!topic || topic.deviceId !== s.device.id || topic.kind !== 'obs') {
      this.opts.counters.reject('forbidden_topic');
      this.opts.logger.warn({ device: s.device.id, topic: packet.topic, allowed: `${deviceTopicPrefix(s.device.id)}obs` }, 'publish refused: topic not allowed for this device; disconnecting');
      return done(Object.assign(new Error('forbidden topic'), { returnCode: NOT_AUTHORIZED }));
    }
    const now = this.clock();
    if (!s.bucket.take(now)) {
      this.opts.counters.reject('rate_limited');
      this.opts.logger.warn({ device: s.device.id, limit: this.opts.rate }, 'device over its message rate (mqtt.rate): disconnecting');
      return done(new Error('rate limit exceeded'));
    }
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    this.opts.ingest
      .accept({ transport: 'mqtt', deviceId: s.device.id, origin: packet.topic, receivedAt: now, payload }, s.device.profile, s.device.trustDeviceTime)
      .then(
        () => done(),
        (err: Error) => {
          // Not on disk: withhold the PUBACK and close, so the device keeps the message and resends.
          if (!(err instanceof SpoolFullError)) this.opts.logger.error({ device: s.device.id, err: err.message }, 'ingest failed; message not acknowledged');
          done(err);
        },
      );
  }

  private authorizeSubscribe(client: Client, sub: Subscription, done: (error: Error | null, subscription?: Subscription | null) => void): void {
    const s = this.sessions.get(client);
    // A device may subscribe only below its own prefix (commands, config); never to others' data.
    // A consumer may subscribe within the filters it was given.
    const allowed = s?.device ? [`${deviceTopicPrefix(s.device.id)}#`] : (s?.consumer?.topics ?? []);
    if (allowed.some((filter) => filterCovers(filter, sub.topic))) return done(null, sub);
    this.opts.counters.reject('forbidden_subscribe');
    this.opts.logger.warn({ device: s?.device?.id, consumer: s?.consumer?.id, topic: sub.topic }, 'subscription refused: outside the account\'s allowed topics');
    done(null, null);
  }
}

function listen(server: Server, port: number, host: string, setting: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(err.code === 'EADDRINUSE' ? `${setting}: ${host}:${port} is already in use` : `${setting}: cannot listen on ${host}:${port}: ${err.message}`)),
    );
    server.listen(port, host, () => {
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : port);
    });
  });
}
