/**
 * Composes a gateway from a validated config: spool, census, ingest, InfluxDB writer, broker,
 * serial ports, HTTP. Starts them in that order and stops them in reverse, so sources stop
 * accepting before the writer flushes and the spool fsyncs.
 */
import { join, resolve } from 'node:path';
import type { VigilConfig } from './config/schema.js';
import { Counters } from './core/counters.js';
import { LoopMonitor } from './core/loop-monitor.js';
import { log as rootLog, type Logger } from './core/log.js';
import type { Service } from './core/types.js';
import { Census } from './census/census.js';
import { censusRoutes } from './census/routes.js';
import { Ingest } from './ingest/ingest.js';
import { RejectedLog } from './ingest/rejected-log.js';
import { Spool } from './spool/spool.js';
import { InfluxWriter } from './sinks/influx-writer.js';
import { WebhookSink } from './sinks/webhook.js';
import { UpstreamBridge } from './bridge/bridge.js';
import { MqttBroker } from './broker/broker.js';
import { resolveDevices } from './config/resolve.js';
import { HttpServer } from './http/server.js';
import type { SerialSource } from './sources/serial.js';
import { createSerialSource } from './sources/serial-ingest.js';
import { LiveDetectors, STATE_READER } from './alarms/live.js';
import { alarmRoutes } from './alarms/routes.js';
import { NurseStation } from './web/station.js';

export interface GatewayOptions {
  readonly logger?: Logger;
  /** Epoch-ms clock (tests). */
  readonly clock?: () => number;
}

export class Gateway {
  readonly counters = new Counters();
  /** How busy and how late the event loop has been (health). */
  private readonly loop = new LoopMonitor();
  private readonly logger: Logger;
  private readonly clock: () => number;
  private readonly started: Service[] = [];
  private stopping: Promise<void> | undefined;
  readonly dataDir: string;

  spool!: Spool;
  census!: Census;
  ingest!: Ingest;
  broker!: MqttBroker;
  http!: HttpServer;
  writer: InfluxWriter | undefined;
  webhook: WebhookSink | undefined;
  bridge: UpstreamBridge | undefined;
  serial: SerialSource | undefined;
  detectors!: LiveDetectors;
  station!: NurseStation;
  private rejected!: RejectedLog;

  constructor(
    readonly config: VigilConfig,
    opts: GatewayOptions = {},
  ) {
    this.logger = opts.logger ?? rootLog();
    this.clock = opts.clock ?? Date.now;
    this.dataDir = resolve(config.dataDir);
  }

  /** Starts every part; on failure stops what started and rethrows. */
  async start(): Promise<void> {
    const c = this.config;
    const log = this.logger;
    const { devices, consumers, ports } = resolveDevices(c, log);
    let brokerUp = false;
    try {
      this.spool = await Spool.open({ dir: join(this.dataDir, 'spool'), maxBytes: c.spool.maxBytes, segmentBytes: c.spool.segmentBytes, commitIntervalMs: c.spool.commitIntervalMs, warnRatio: c.spool.warnRatio, holders: [STATE_READER], logger: log.child({ component: 'spool' }) });
      this.started.push({ name: 'spool', start: async () => {}, stop: () => this.spool.close() });
      this.spool.on('nearFull', (s) => log.warn({ bytes: s.bytes, maxBytes: s.maxBytes }, 'spool nearing its size bound (spool.maxBytes): is InfluxDB reachable?'));
      this.spool.on('full', (s) => log.error({ bytes: s.bytes, maxBytes: s.maxBytes }, 'spool full: new data is refused and left with the devices until InfluxDB catches up'));
      this.spool.on('recovered', (s) => log.info({ bytes: s.bytes, maxBytes: s.maxBytes }, 'spool below its warning level again'));

      this.census = await Census.open(c.census.wards, c.census.patients, join(this.dataDir, 'census.json'));
      this.rejected = new RejectedLog(join(this.dataDir, 'rejected', 'rejected.jsonl'));
      this.started.push({ name: 'rejected-log', start: async () => {}, stop: () => this.rejected.close() });
      this.ingest = new Ingest({ spool: this.spool, placementOf: (d) => this.census.placementOf(d), counters: this.counters, logger: log.child({ component: 'ingest' }), rejected: this.rejected });

      if (c.influx.url !== undefined) {
        this.writer = new InfluxWriter({
          url: c.influx.url, token: c.influx.token, org: c.influx.org, bucket: c.influx.bucket,
          batchSize: c.influx.batchSize, flushIntervalMs: c.influx.flushIntervalMs, maxBackoffMs: c.influx.maxBackoffMs,
          reader: await this.spool.reader('influx'),
          deadLetterPath: join(this.dataDir, 'dead-letter', 'influx.jsonl'),
          logger: log.child({ component: 'influx' }),
        });
        await this.startService(this.writer);
      } else {
        log.warn({ dataDir: this.dataDir }, 'no InfluxDB configured (influx.url / VIGIL_INFLUX_URL): observations are kept in the spool until one is');
      }

      if (c.bridge) {
        const b = c.bridge;
        this.bridge = new UpstreamBridge({
          url: b.url, clientId: b.clientId, wardId: b.wardId, topicPrefix: b.topicPrefix,
          ...(b.username !== undefined ? { username: b.username } : {}),
          ...(b.password !== undefined ? { password: b.password } : {}),
          ...(b.tls ? { ca: b.tls.ca, cert: b.tls.cert, key: b.tls.key, rejectUnauthorized: b.tls.rejectUnauthorized } : {}),
          forward: b.forward, format: b.format, batchSize: b.batchSize,
          publishTimeoutMs: b.publishTimeoutMs, maxBackoffMs: b.maxBackoffMs,
          reader: await this.spool.reader('bridge'),
          logger: log,
        });
        await this.startService(this.bridge);
      } else if (await this.spool.removeReader('bridge')) {
        // An old cursor would keep every segment on disk.
        log.info('upstream bridge no longer configured: its spool cursor was retired');
      }

      if (c.alarms.webhook) {
        // The reader exists only when configured: an idle cursor would keep old segments on disk.
        this.webhook = new WebhookSink({ ...c.alarms.webhook, reader: await this.spool.reader('webhook'), deadLetterPath: join(this.dataDir, 'dead-letter', 'webhook.jsonl'), logger: log.child({ component: 'webhook' }), onResult: (alarms, outcome) => this.station?.delivery.webhookResult(alarms, outcome) });
        await this.startService(this.webhook);
      }

      this.detectors = new LiveDetectors({
        config: c.detectors, ingest: this.ingest, census: this.census, spool: this.spool, counters: this.counters,
        logger: log.child({ component: 'alarms' }), clock: this.clock,
        stateFile: join(this.dataDir, 'state', 'alarms.json'), checkpointMs: c.alarms.checkpointSeconds * 1000,
        publisher: () => (brokerUp ? { publish: (topic, payload, o) => this.broker.publish(topic, payload, o) } : undefined),
      });
      // The station's views are restored with the detectors' state, so they start listening first.
      this.station = new NurseStation({ config: c, dataDir: this.dataDir, census: this.census, detectors: this.detectors, ingest: this.ingest, logger: log.child({ component: 'web' }), clock: this.clock, counters: this.counters });
      await this.startService(this.station);
      await this.startService(this.detectors);
      this.watchSpool();
      // Stopped right after the sources: appends still in flight finish before detectors and writer stop.
      this.started.push({ name: 'ingest', start: async () => {}, stop: () => this.ingest.drain() });

      this.broker = new MqttBroker({ ...c.mqtt, devices, consumers, ingest: this.ingest, counters: this.counters, logger: log.child({ component: 'mqtt' }), clock: this.clock });
      await this.startService(this.broker);
      this.broker.onDelivered((topic, payload, account) => this.station.delivery.mqttAcknowledged(topic, payload, account));
      brokerUp = true;
      this.detectors.publishActive();

      if (ports.length > 0) {
        this.serial = createSerialSource(ports, this.ingest, this.counters, this.clock, log.child({ component: 'serial' }));
        await this.startService(this.serial);
      }

      this.http = new HttpServer({ host: c.http.host, port: c.http.port, ...(c.http.apiToken ? { apiToken: c.http.apiToken } : {}), counters: this.counters, logger: log.child({ component: 'http' }), health: () => this.health(), authHook: this.station.guard, routes: [...this.station.routes(), censusRoutes(this.census, log.child({ component: 'census' }), this.clock), alarmRoutes(this.detectors, this.census, log.child({ component: 'alarms' }))] });
      await this.startService(this.http);
      this.registerGauges();
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /** Stops in reverse order: sources first, then the writer's last flush, then the spool's fsync. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const s of this.started.splice(0).reverse()) {
        try {
          await s.stop();
        } catch (err) {
          this.logger.error({ service: s.name, err: (err as Error).message }, 'error while stopping');
        }
      }
    })();
    return this.stopping;
  }

  /** The body of GET /healthz. */
  health(): { ok: boolean } & Record<string, unknown> {
    const spool = this.spool.stats();
    const writer = this.writer?.stats();
    const ok = !spool.full && (writer === undefined || writer.state !== 'stopped');
    const mem = process.memoryUsage();
    return {
      ok,
      // bytes: resident, the JavaScript heap (allocated and in use), and buffers outside it
      memory: { rss: mem.rss, heapTotal: mem.heapTotal, heapUsed: mem.heapUsed, external: mem.external, arrayBuffers: mem.arrayBuffers },
      eventLoop: this.loop.stats(),
      broker: { clients: this.broker?.connectedClients ?? 0, port: this.broker?.addresses.tcp, tlsPort: this.broker?.addresses.tls },
      spool: { depth: writer?.lagRecords ?? spool.lastSeq, bytes: spool.bytes, maxBytes: spool.maxBytes, nearFull: spool.nearFull, full: spool.full, lastSeq: spool.lastSeq, refused: spool.refused },
      detectors: { failures: this.detectors.failures, ...(this.detectors.lastFailure ? { lastFailure: this.detectors.lastFailure } : {}) },
      alarmState: this.detectors.restore,
      serial: this.serial?.stats(),
      webhook: this.webhook?.stats(),
      // An upstream outage is not a local failure: it does not affect `ok`.
      bridge: this.bridge?.stats() ?? { configured: false },
      influx: writer
        ? { configured: true, state: writer.state, lagRecords: writer.lagRecords, lastSuccessAt: writer.lastSuccessAt, lastError: writer.lastError, batches: writer.batches, pointsWritten: writer.pointsWritten, retries: writer.retries, deadLetters: writer.deadLetters }
        : { configured: false, note: 'no influx.url: data stays in the spool' },
    };
  }

  /**
   * Turns the spool's state into technical alarms: nearing the bound (medium) means InfluxDB is
   * not keeping up; full (high) means devices' data is being refused.
   */
  private watchSpool(): void {
    const sync = () => {
      const s = this.spool.stats();
      const pct = Math.round((s.bytes / s.maxBytes) * 100);
      this.detectors.system('spool_near_full', s.nearFull, 'medium', s.nearFull ? `Gateway storage ${pct}% full: is InfluxDB reachable?` : `Gateway storage back to ${pct}%`);
      this.detectors.system('spool_full', s.full, 'high', s.full ? 'Gateway storage full: new device data is refused' : 'Gateway storage accepts data again');
    };
    this.spool.on('nearFull', sync);
    this.spool.on('full', sync);
    this.spool.on('recovered', sync);
    if (this.spool.stats().nearFull || this.spool.stats().full) sync();
  }

  private async startService(s: Service): Promise<void> {
    await s.start();
    this.started.push(s);
  }

  private registerGauges(): void {
    const c = this.counters;
    c.gauge('vigil_spool_bytes', 'Bytes of spool segments on disk', () => this.spool.stats().bytes);
    c.gauge('vigil_spool_max_bytes', 'Configured spool bound (spool.maxBytes)', () => this.spool.stats().maxBytes);
    c.gauge('vigil_spool_near_full', '1 when the spool passed its warning ratio', () => (this.spool.stats().nearFull ? 1 : 0));
    c.gauge('vigil_spool_full', '1 when the spool refuses new data', () => (this.spool.stats().full ? 1 : 0));
    c.gauge('vigil_spool_depth_records', 'Records not yet written to InfluxDB', () => this.writer?.stats().lagRecords ?? this.spool.stats().lastSeq);
    c.gauge('vigil_mqtt_clients', 'Connected MQTT clients', () => this.broker.connectedClients);
    c.gauge('vigil_mqtt_connections_open', 'Open MQTT connections, authenticated or not (bound: mqtt.limits.maxConnections)', () => this.broker.openConnections);
    c.gauge('vigil_mqtt_buffered_bytes', 'Bytes MQTT connections hold in unfinished or unprocessed packets (bound: mqtt.limits.bufferedBytes)', () => this.broker.budget.used);
    c.gauge('vigil_mqtt_auth_checks_peak', 'Most device-secret checks that ever ran at once (bound: mqtt.limits.maxConcurrentAuthChecks)', () => this.broker.authChecksPeak);
    const w = () => this.writer?.stats();
    c.externalCounter('vigil_influx_batches_total', 'Batches written to InfluxDB', () => w()?.batches ?? 0);
    c.externalCounter('vigil_influx_points_total', 'Points written to InfluxDB', () => w()?.pointsWritten ?? 0);
    c.externalCounter('vigil_influx_retries_total', 'InfluxDB write retries', () => w()?.retries ?? 0);
    c.externalCounter('vigil_influx_dead_letters_total', 'Records refused by InfluxDB and kept in the dead-letter file', () => w()?.deadLetters ?? 0);
    c.externalHistogram('vigil_influx_write_seconds', 'InfluxDB batch write latency', () => w()?.latency);
    const b = () => this.bridge?.stats();
    c.externalCounter('vigil_bridge_published_total', 'Messages acknowledged by the upstream broker', () => b()?.published ?? 0);
    c.externalCounter('vigil_bridge_failures_total', 'Failed or dropped upstream connections', () => b()?.failures ?? 0);
    c.gauge('vigil_bridge_lag_records', 'Records not yet forwarded upstream', () => b()?.lagRecords ?? 0);
    c.gauge('vigil_bridge_connected', '1 when connected to the upstream broker', () => (b()?.connected ? 1 : 0));
    c.gauge('vigil_influx_last_write_seconds', 'Latency of the last successful InfluxDB write', () => (w()?.lastWriteLatencyMs ?? 0) / 1000);
    const signIn = this.station.signIn;
    c.gauge('vigil_signin_limiter_keys', 'Addresses and usernames the sign-in limiter tracks (bound: web.signIn.maxTrackedKeys)', () => signIn.limiter.size());
    c.gauge('vigil_signin_checks_peak', 'Most password checks that ever ran at once (bound: web.signIn.maxConcurrentChecks)', () => signIn.checks.peak);
    c.externalCounter('vigil_signin_refused_total', 'Sign-ins refused by the limiter (429)', () => signIn.stats.refused);
    c.externalCounter('vigil_signin_busy_total', 'Sign-ins refused because the password checks were all busy (503)', () => signIn.stats.busy);
    c.gauge('vigil_live_streams', 'Open live-feed (server-sent events) streams', () => this.station.feed.size());
  }
}
