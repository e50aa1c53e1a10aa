/**
 * The embedded MQTT broker (aedes over TCP, and TLS when configured) with Vigil's policy:
 * device authentication, per-device topic ACLs, packet-size and rate limits, and the durable
 * ingest hook. An observation is appended to the spool inside `authorizePublish`, which aedes
 * runs before it sends the QoS 1 PUBACK (QoS 2: PUBREC), so an acknowledgement means the data is
 * on disk. What a client can cost is bounded (see README, Security): connections in total and
 * per address (checked at accept), per account (accounts.ts), the bytes a connection holds
 * (framed-connection.ts), failed authentications (auth.ts) and messages per device (one token
 * bucket per device, shared by its connections).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { readFileSync } from 'node:fs';
import mqttPacket from 'mqtt-packet';
import { Aedes, type AuthenticateError, type Client, type PublishPacket, type Subscription } from 'aedes';
import type { Logger } from '../core/log.js';
import type { Counters } from '../core/counters.js';
import type { Reporting, Service } from '../core/types.js';
import { SpoolFullError } from '../core/errors.js';
import { TokenBucket } from './token-bucket.js';
import { SecretVerifier } from './secrets.js';
import { deviceTopicPrefix, filterCovers, parseDeviceTopic } from './topics.js';
import { AccountSessions, sessionId, sessionOf } from './accounts.js';
import { CredentialChecks } from './auth.js';
import { ByteBudget } from './framing.js';
import { FramedConnection } from './framed-connection.js';
import { ConnectionCounts } from './limits.js';
import { boundedSessionQueues } from './session-queues.js';
import type { BrokerConsumer, BrokerDevice, BrokerOptions } from './types.js';

export type { MqttLimits } from './limits.js';
export type { BrokerConsumer, BrokerDevice, BrokerOptions } from './types.js';

interface Session {
  /** Set for devices; consumers have `consumer` instead. */
  readonly device?: BrokerDevice;
  readonly consumer?: BrokerConsumer;
  readonly remote: string;
  /** The client id it presented (aedes knows the session as `{account}/{client id}`). */
  readonly clientId: string;
  /** Its publishes on their way to disk, and what waits for them (a refusal that closes the connection). */
  storing?: number;
  afterStored?: Array<() => void>;
}

const NOT_AUTHORIZED = 5;

/** QoS 2 messages one session may have stored and not yet released by PUBREL. */
export const MAX_QOS2_IN_FLIGHT = 32;

export class MqttBroker implements Service, Reporting {
  readonly name = 'mqtt';
  private aedes: Aedes | undefined;
  private readonly servers: Server[] = [];
  private readonly sessions = new WeakMap<Client, Session>();
  /** Per client, packet ids a PUBREL released before their PUBLISH was taken (see `released`). */
  private readonly releasedEarly = new WeakMap<Client, Set<number>>();
  private readonly connections = new Map<Client, FramedConnection>();
  /** Clients that sent an empty client id ([MQTT-3.1.3-6]: the broker assigned one). */
  private readonly generatedIds = new WeakSet<Client>();
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly accounts: AccountSessions;
  private readonly credentials: CredentialChecks;
  private readonly counts: ConnectionCounts;
  /** Bytes held by all connections in incomplete or not-yet-consumed packets. */
  readonly budget: ByteBudget;
  private readonly clock: () => number;
  /** Bound addresses after start, for logs and tests. */
  readonly addresses: { tcp?: number; tls?: number } = {};
  private readonly sockets = new Set<Socket>();
  private readonly delivered: Array<(topic: string, payload: Buffer, account: string) => void> = [];

  constructor(private readonly opts: BrokerOptions) {
    this.clock = opts.clock ?? Date.now;
    const l = opts.limits;
    const verifier = new SecretVerifier((id) => {
      const d = opts.devices.get(id) ?? opts.consumers?.get(id);
      if (!d) return undefined;
      return d.secretHash !== undefined ? { hash: d.secretHash } : { plain: d.secret ?? '' };
    });
    this.credentials = new CredentialChecks({ verifier, failuresPerAddress: l.authFailuresPerAddress, windowMs: l.authFailureWindowSeconds * 1000, maxConcurrent: l.maxConcurrentAuthChecks, maxQueued: l.maxConnections, clock: this.clock });
    this.accounts = new AccountSessions(l, (name) => opts.devices.has(name) || (opts.consumers?.has(name) ?? false));
    this.counts = new ConnectionCounts(l, opts.counters, opts.logger, this.clock);
    this.budget = new ByteBudget(l.bufferedBytes);
  }

  /** Connected clients right now. */
  get connectedClients(): number {
    return this.aedes?.connectedClients ?? 0;
  }

  /** Open TCP/TLS connections right now, authenticated or not. */
  get openConnections(): number {
    return this.sockets.size;
  }

  /** Most scrypt checks of device secrets that ever ran at once. */
  get authChecksPeak(): number {
    return this.credentials.peak;
  }

  /** The broker's section of /healthz: connected clients and the ports it listens on. */
  health(): { clients: number; port?: number; tlsPort?: number } {
    return { clients: this.connectedClients, port: this.addresses.tcp, tlsPort: this.addresses.tls };
  }

  registerMetrics(c: Counters): void {
    c.gauge('vigil_mqtt_clients', 'Connected MQTT clients', () => this.connectedClients);
    c.gauge('vigil_mqtt_connections_open', 'Open MQTT connections, authenticated or not (bound: mqtt.limits.maxConnections)', () => this.openConnections);
    c.gauge('vigil_mqtt_buffered_bytes', 'Bytes MQTT connections hold in unfinished or unprocessed packets (bound: mqtt.limits.bufferedBytes)', () => this.budget.used);
    c.gauge('vigil_mqtt_auth_checks_peak', 'Most device-secret checks that ever ran at once (bound: mqtt.limits.maxConcurrentAuthChecks)', () => this.authChecksPeak);
  }

  async start(): Promise<void> {
    const log = this.opts.logger;
    // The codec aedes writes packets with otherwise keeps a 2-byte buffer for each of the
    // 65,536 16-bit numbers once it first writes one (a packet id or topic length): 12 MB of
    // heap for a copy of two bytes a packet. Made as needed instead, as MQTT.js has it.
    mqttPacket.writeToStream.cacheNumbers = false;
    const aedes = await Aedes.createBroker({
      // No cap on deliveries in flight. With aedes' default (100), a subscriber that stops
      // reading holds 100 deliveries, every later publish (device data included) waits behind
      // them, and the queue is then drained recursively, overflowing the stack under load.
      // Deliveries in flight stay bounded without the cap: each connection hands aedes only
      // the packets of one read at a time, and a stuck subscriber is cut off by aedes'
      // drainTimeout.
      concurrency: 0,
      persistence: boundedSessionQueues(this.opts.limits.queuedPerSession, (id) => {
        this.opts.counters.reject('session_queue_full');
        const { account, clientId } = sessionOf(id);
        this.counts.warnOnce(`session_queue_full:${id}`, { account, clientId, limit: this.opts.limits.queuedPerSession }, "a persistent session's oldest queued message was dropped: mqtt.limits.queuedPerSession reached");
      }),
      connectTimeout: this.opts.limits.connectTimeoutSeconds * 1000,
      maxInflightInbound: MAX_QOS2_IN_FLIGHT,
      preConnect: (client, packet, done) => {
        if (packet.clientId === '') this.generatedIds.add(client);
        done(null, true);
      },
      authenticate: (client, username, password, done) => void this.authenticate(client, username, password, done),
      authorizePublish: (client, packet, done) => this.authorizePublish(client, packet, done),
      authorizeSubscribe: (client, sub, done) => this.authorizeSubscribe(client, sub, done),
    });
    this.aedes = aedes;
    // A connection aedes closes for what the client did (no CONNECT in time, a packet out of
    // order, a bad topic…) is counted and logged like every other refusal; a peer that went away
    // and the broker's own refusals (counted where they were made) are not counted again.
    const connectionError = (client: Client, err: Error) => {
      const s = this.sessions.get(client);
      const conn = this.connections.get(client);
      const fields = { device: s?.device?.id ?? s?.consumer?.id, clientId: s?.clientId ?? client.id, remote: s?.remote ?? (conn ? `${conn.remoteAddress}:${conn.remotePort ?? '?'}` : '?'), err: err.message };
      const reason = protocolErrorReason(err.message);
      if (reason === undefined) return log.debug(fields, 'client connection error');
      this.opts.counters.reject(reason);
      this.counts.warnOnce(reason, { ...fields, reason }, `MQTT connection closed: ${err.message}`);
    };
    aedes.on('clientError', connectionError);
    aedes.on('connectionError', connectionError);
    // [MQTT-4.3.2] a subscriber's PUBACK: the gateway's QoS 1 message reached it
    aedes.on('ack', (packet, client) => {
      if (!packet || !('topic' in packet) || !client) return;
      const s = this.sessions.get(client);
      for (const l of this.delivered) l(packet.topic, Buffer.from(packet.payload), s?.consumer?.id ?? s?.device?.id ?? client.id);
    });
    aedes.on('clientDisconnect', (client) => {
      const s = this.sessions.get(client);
      if (s) log.info({ device: s.device?.id, consumer: s.consumer?.id, clientId: s.clientId, remote: s.remote }, s.device ? 'device disconnected' : 'consumer disconnected');
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
    const address = socket.remoteAddress ?? '?';
    if (!this.counts.admit(address, this.sockets.size)) return void socket.destroy();
    const remote = `${address}:${socket.remotePort ?? '?'}`;
    this.sockets.add(socket);
    socket.setNoDelay(true);
    let client: Client | undefined;
    const conn = new FramedConnection(socket, {
      maxPacketBytes: this.opts.maxPacketBytes,
      budget: this.budget,
      onProblem: (p) => this.counts.framingProblem(p, remote, this.opts.maxPacketBytes),
      onPubrel: (id) => client && this.released(client, id),
    });
    socket.on('close', () => {
      this.sockets.delete(socket);
      this.counts.release(address);
      if (client) {
        this.accounts.release(client);
        this.connections.delete(client);
      }
    });
    client = aedes.handle(conn as unknown as Socket) as Client;
    this.connections.set(client, conn);
  }

  private async authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    done: (error: AuthenticateError | null, success: boolean | null) => void,
  ): Promise<void> {
    const conn = this.connections.get(client);
    const address = conn?.remoteAddress ?? '?';
    const remote = `${address}:${conn?.remotePort ?? '?'}`;
    const id = username ?? '';
    const refuse = (reason: string, returnCode: number, message: string, level: 'warn' | 'debug' = 'warn') => {
      this.opts.counters.refuseConnection(reason);
      this.opts.logger[level]({ device: id || '(no username)', account: id || '(no username)', clientId: client.id, remote, reason }, message);
      done(Object.assign(new Error(reason), { returnCode }) as AuthenticateError, false);
    };
    let verdict: Awaited<ReturnType<CredentialChecks['check']>>;
    try {
      verdict = await this.credentials.check(id, password, address);
    } catch (err) {
      this.opts.logger.error({ device: id, err: (err as Error).message }, 'secret verification failed');
      verdict = { ok: false, reason: 'bad_secret', returnCode: 4 };
    }
    if (!verdict.ok) {
      if (verdict.reason === 'throttled') return refuse('throttled', 3, 'connection refused without checking: too many failed authentications from this address (mqtt.limits.authFailuresPerAddress)', verdict.first ? 'warn' : 'debug');
      if (verdict.reason === 'busy') return refuse('busy', 3, 'connection refused: too many authentications waiting');
      return refuse(verdict.reason, verdict.returnCode, verdict.reason === 'unknown_device' ? 'connection refused: unknown device' : 'connection refused: wrong secret');
    }
    const clientId = client.id;
    const claim = this.accounts.claim(client, id, clientId, !client.clean, this.generatedIds.has(client));
    if (claim) return refuse(claim.reason, claim.returnCode, `connection refused: ${claim.message}`);
    // PUBRELs that came with the CONNECT, before the session was known, free their ids in it now
    const early = this.releasedEarly.get(client);
    const window = early && this.accounts.qos2(client);
    if (early && window) for (const m of early) if (window.delete(m)) early.delete(m);
    // aedes keys what it keeps of a session (the live connection it closes on a takeover,
    // subscriptions, queued messages) by client.id: the account's own, so two accounts never
    // share one. authenticate is the first step of aedes' CONNECT handling to use the id.
    client.id = sessionId(id, clientId);
    const device = this.opts.devices.get(id);
    const consumer = device ? undefined : this.opts.consumers?.get(id);
    if (device && !this.buckets.has(id)) this.buckets.set(id, new TokenBucket(this.opts.rate.messagesPerSecond, this.opts.rate.burst, this.clock()));
    this.sessions.set(client, device ? { device, remote, clientId } : { consumer: consumer!, remote, clientId });
    this.opts.counters.connection();
    this.opts.logger.info({ [device ? 'device' : 'consumer']: id, clientId, remote }, device ? 'device connected' : 'consumer connected');
    done(null, true);
  }

  private authorizePublish(client: Client | null, packet: PublishPacket, done: (error?: Error | null) => void): void {
    if (client === null) return done(); // the gateway's own publishes
    const session = this.sessions.get(client);
    if (!session) return done(new Error('not authenticated'));
    if (packet === (client as Client & { will?: unknown }).will) {
      // A will is what the client wrote when it connected, sent when it goes away: not a reading
      // of now, nor anything a nurse-call system should hear as one. Device loss is the
      // technical detector's to tell.
      this.opts.counters.reject('will_ignored');
      this.opts.logger.info({ device: session.device?.id, consumer: session.consumer?.id, topic: packet.topic }, 'connection lost: its will is not published (a will is no reading)');
      return done(new Error('will not published'));
    }
    if (!session.device) {
      this.opts.counters.reject('forbidden_topic');
      this.opts.logger.warn({ consumer: session.consumer?.id, topic: packet.topic }, 'publish refused: consumer accounts are read-only; disconnecting');
      return this.refuseAfterStored(session, done, Object.assign(new Error('read-only account'), { returnCode: NOT_AUTHORIZED }));
    }
    const device = session.device;
    const topic = parseDeviceTopic(packet.topic);
    if (!topic || topic.deviceId !== device.id || topic.kind !== 'obs') {
      this.opts.counters.reject('forbidden_topic');
      this.opts.logger.warn({ device: device.id, topic: packet.topic, allowed: `${deviceTopicPrefix(device.id)}obs` }, 'publish refused: topic not allowed for this device; disconnecting');
      return this.refuseAfterStored(session, done, Object.assign(new Error('forbidden topic'), { returnCode: NOT_AUTHORIZED }));
    }
    // [MQTT-4.3.3-2] Until PUBREL, a QoS 2 PUBLISH with a packet id already stored is the same
    // message: it is acknowledged again (aedes sends PUBREC) once the first copy is durable,
    // and not stored twice.
    const window = packet.qos === 2 ? this.accounts.qos2(client) : undefined;
    const stored = window?.get(packet.messageId!);
    if (stored) {
      this.opts.counters.reject('duplicate_qos2');
      return void stored.then(() => done(), (err: Error) => done(err));
    }
    if (window && window.size >= MAX_QOS2_IN_FLIGHT) {
      this.opts.counters.reject('qos2_window');
      this.opts.logger.warn({ device: device.id, limit: MAX_QOS2_IN_FLIGHT }, 'more QoS 2 messages awaiting PUBREL than allowed: disconnecting');
      return this.refuseAfterStored(session, done, new Error('too many QoS 2 messages in flight'));
    }
    const now = this.clock();
    if (!this.buckets.get(device.id)!.take(now)) {
      this.opts.counters.reject('rate_limited');
      this.opts.logger.warn({ device: device.id, limit: this.opts.rate }, 'device over its message rate (mqtt.rate, all its connections together): disconnecting');
      return this.refuseAfterStored(session, done, new Error('rate limit exceeded'));
    }
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    const frame = { transport: 'mqtt', deviceId: device.id, origin: packet.topic, receivedAt: now, payload } as const;
    session.storing = (session.storing ?? 0) + 1;
    // acknowledged once on disk; the detectors take it right after the PUBACK has gone out
    if (!window) {
      return this.opts.ingest.acceptThen(
        frame,
        device.profile,
        device.trustDeviceTime,
        (err) => {
          if (err) this.notStored(device.id, err, done);
          else done();
          this.stored(session);
        },
        'durable',
      );
    }
    const append = this.opts.ingest.accept(frame, device.profile, device.trustDeviceTime).then(() => {});
    window.set(packet.messageId!, append);
    // Not on disk: the packet id is free again, so the resend is stored.
    append.catch(() => window.delete(packet.messageId!));
    // Released before it came (see `released`): free once it is stored.
    if (this.releasedEarly.get(client)?.delete(packet.messageId!)) append.then(() => window.get(packet.messageId!) === append && window.delete(packet.messageId!), () => {});
    append.then(
      () => done(),
      (err: Error) => this.notStored(device.id, err, done),
    ).finally(() => this.stored(session));
  }

  /**
   * Refuses a publish and so closes the connection, once the publishes before it on their way to
   * disk are stored and acknowledged: aedes takes a read's packets at once, so a refusal among
   * them came before the earlier ones' PUBACKs, and closing then lost those (the device resent
   * messages already stored). Never before the PUBACKs written just now have left (a check-phase
   * callback).
   */
  private refuseAfterStored(session: Session, done: (error?: Error | null) => void, err: Error): void {
    const refuse = () => void setImmediate(() => done(err));
    if (!session.storing) return refuse();
    (session.afterStored ??= []).push(refuse);
  }

  /** One of the session's publishes is stored (or refused by the spool), and answered. */
  private stored(session: Session): void {
    session.storing = (session.storing ?? 1) - 1;
    if (session.storing === 0 && session.afterStored) for (const f of session.afterStored.splice(0)) f();
  }

  /**
   * A PUBREL went by (seen as it is framed, before aedes takes it): its packet id is free again.
   * A client that sends the PUBREL with its PUBLISH, before the PUBREC, releases an id the
   * PUBLISH has not taken yet: remembered, so that PUBLISH does not keep the id once it is stored,
   * or the next new message with it would be taken for a resend, acknowledged and not stored.
   */
  private released(client: Client, id: number): void {
    // before the CONNECT is authenticated (a PUBREL resent in the same write): kept for `authenticate`
    const window = this.accounts.qos2(client);
    if (window?.delete(id)) return;
    let early = this.releasedEarly.get(client);
    if (!early) this.releasedEarly.set(client, (early = new Set()));
    if (early.size < MAX_QOS2_IN_FLIGHT) early.add(id);
  }

  /** A publish that could not be made durable: no acknowledgement, and the connection closes, so the device keeps the message and resends. */
  private notStored(deviceId: string, err: Error, done: (error?: Error | null) => void): void {
    if (!(err instanceof SpoolFullError)) this.opts.logger.error({ device: deviceId, err: err.message }, 'ingest failed; message not acknowledged');
    done(err);
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

/**
 * Why aedes closed a connection for what the client sent or failed to send, as counted; undefined
 * for anything else: a peer that went away, and the broker's own refusals (CONNACK codes,
 * authorizePublish), which are counted where they are made.
 */
export function protocolErrorReason(message: string): string | undefined {
  if (message.startsWith('connect did not arrive in time')) return 'connect_timeout';
  if (message.startsWith('keep alive timeout')) return 'keepalive_timeout';
  // a packet before CONNECT, or a second CONNECT [MQTT-3.1.0-1, MQTT-3.1.0-2]
  if (message === 'Invalid protocol') return 'protocol_violation';
  if (message.startsWith('drain timeout')) return 'drain_timeout';
  if (/is not allowed in PUBLISH|is only allowed in |^empty topic|^topic has too many levels/.test(message)) return 'bad_topic';
  // more in flight to or from the client than it may have
  if (message.startsWith('Client queue limit reached') || message.startsWith('maxInflightInbound exceeded')) return 'inflight_limit';
  // the MQTT codec's refusals of a packet it cannot read (a reserved packet type among them)
  if (/^(Invalid |Cannot parse |Packet too short|Packet must not|Not supported|Malformed |Unknown property|Will (QoS|Retain)|Connect flag)/.test(message)) return 'malformed_packet';
  return undefined;
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
