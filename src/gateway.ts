/**
 * Composes a gateway from a validated config: spool, census, ingest, InfluxDB writer, broker,
 * serial ports, HTTP. Starts them in that order and stops them in reverse, so sources stop
 * accepting before the writer flushes and the spool fsyncs.
 */
import { FAR_MS, SLEW, SteadyClock } from './core/steady-clock.js';
import { join, resolve } from 'node:path';
import type { VigilConfig } from './config/schema.js';
import { Counters } from './core/counters.js';
import { ProcessHealth } from './core/loop-monitor.js';
import { GcStats } from './core/gc-stats.js';
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
import { logSpoolState, raiseSpoolAlarms } from './alarms/spool-state.js';
import { STATE_FILE_IN_DATA_DIR } from './alarms/state-file.js';
import { influxHealth, registerInfluxMetrics } from './sinks/influx-report.js';
import { registerBridgeMetrics } from './bridge/report.js';

export interface GatewayOptions {
  readonly logger?: Logger;
  /** Epoch-ms clock (tests). */
  readonly clock?: () => number;
}

export class Gateway {
  readonly counters = new Counters();
  /** Memory and the event loop (health). */
  private readonly processHealth = new ProcessHealth();
  private readonly gc = new GcStats();
  private readonly logger: Logger;
  private readonly clock: () => number;
  /** The gateway's own clock, when no clock was given. */
  private readonly steady: SteadyClock | undefined;
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
    if (opts.clock) this.clock = opts.clock;
    else {
      const log = this.logger;
      this.steady = new SteadyClock({
        onStep: (ms, taken) =>
          taken
            ? log.warn({ aheadSeconds: Math.round(ms / 1000) }, `the wall clock is more than ${FAR_MS / 60_000} min ahead of the gateway's time line, and has stayed so: the time line takes it at once (a restart at another time, not a glitch)`)
            : log.warn(
                { [ms < 0 ? 'behindSeconds' : 'aheadSeconds']: Math.round(Math.abs(ms) / 1000) },
                `the wall clock stepped ${ms < 0 ? 'back' : 'forward'}: the gateway's time line runs on at real time, ${SLEW * 100} % ${ms < 0 ? 'slower' : 'faster'} until it meets the wall clock, so alarm delays and timers neither stand still nor leap`,
              ),
        onInStep: () => log.info("the wall clock is in step with the gateway's time line again"),
      });
      this.clock = this.steady.now;
    }
    this.dataDir = resolve(config.dataDir);
  }

  /** Starts every part; on failure stops what started and rethrows. */
  async start(): Promise<void> {
    const c = this.config;
    const log = this.logger;
    const { devices, consumers, ports } = resolveDevices(c, log);
    let brokerUp = false;
    try {
      await this.startService(this.gc);
      this.spool = await Spool.open({ dir: join(this.dataDir, 'spool'), maxBytes: c.spool.maxBytes, segmentBytes: c.spool.segmentBytes, commitIntervalMs: c.spool.commitIntervalMs, warnRatio: c.spool.warnRatio, holders: [STATE_READER], logger: log.child({ component: 'spool' }) });
      this.started.push({ name: 'spool', start: async () => {}, stop: () => this.spool.close() });
      logSpoolState(this.spool, log);

      this.census = await Census.open(c.census.wards, c.census.patients, join(this.dataDir, 'census.json'));
      this.rejected = new RejectedLog(join(this.dataDir, 'rejected', 'rejected.jsonl'));
      this.started.push({ name: 'rejected-log', start: async () => {}, stop: () => this.rejected.close() });
      this.ingest = new Ingest({ spool: this.spool, placementOf: (d) => this.census.placementOf(d), counters: this.counters, logger: log.child({ component: 'ingest' }), rejected: this.rejected, lateReadingMs: c.detectors.lateReadingSeconds * 1000, timeLineOffset: () => this.steady?.offsetFromWall() ?? 0 });

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
        stateFile: join(this.dataDir, STATE_FILE_IN_DATA_DIR), checkpointMs: c.alarms.checkpointSeconds * 1000,
        resumeTimeLine: (t) => this.steady?.notBefore(t),
        publisher: () => (brokerUp ? { publish: (topic, payload, o) => this.broker.publish(topic, payload, o) } : undefined),
      });
      // The station's views are restored with the detectors' state, so they start listening first.
      this.station = new NurseStation({ config: c, dataDir: this.dataDir, census: this.census, detectors: this.detectors, ingest: this.ingest, logger: log.child({ component: 'web' }), clock: this.clock, counters: this.counters });
      await this.startService(this.station);
      await this.startService(this.detectors);
      raiseSpoolAlarms(this.spool, this.detectors);
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

      this.http = new HttpServer({ host: c.http.host, port: c.http.port, maxConnections: c.http.maxConnections, connectionsPerAddress: c.http.connectionsPerAddress, headersTimeoutMs: c.http.headersTimeoutSeconds * 1000, requestTimeoutMs: c.http.requestTimeoutSeconds * 1000, trustProxy: c.http.trustProxy, counters: this.counters, logger: log.child({ component: 'http' }), health: () => this.health(), authHook: this.station.guard, settle: () => this.ingest.settle(), clock: this.clock, routes: [...this.station.routes(), censusRoutes(this.census, log.child({ component: 'census' }), this.clock, c.detectors), alarmRoutes(this.detectors, this.census, log.child({ component: 'alarms' }))] });
      await this.startService(this.http);
      this.registerMetrics();
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

  /**
   * The body of GET /healthz, collected from the parts. Not ok (503) while the spool is full, the
   * InfluxDB writer stopped, or the alarm state was lost at start and nobody has acknowledged the
   * notice yet: alarms from before the start may be missing from what is shown.
   */
  health(): { ok: boolean } & Record<string, unknown> {
    const influx = this.writer?.stats();
    const spool = this.spool.health(influx?.lagRecords);
    const alarmStateIncomplete = this.detectors.stateIncomplete();
    return {
      ok: !spool.full && (influx === undefined || influx.state !== 'stopped') && !alarmStateIncomplete,
      ...this.processHealth.health(),
      broker: this.broker?.health() ?? { clients: 0 },
      spool,
      detectors: this.detectors.health(),
      alarmState: { ...this.detectors.restore, incomplete: alarmStateIncomplete },
      serial: this.serial?.stats(),
      webhook: this.webhook?.stats(),
      // An upstream outage is not a local failure: it does not affect `ok`.
      bridge: this.bridge?.stats() ?? { configured: false },
      influx: influxHealth(influx),
    };
  }

  private async startService(s: Service): Promise<void> {
    await s.start();
    this.started.push(s);
  }

  /** Each part registers its own series; those of the writer and the bridge read 0 while they are not configured. */
  private registerMetrics(): void {
    const c = this.counters;
    const steady = this.steady;
    if (steady) c.gauge('vigil_clock_offset_from_wall_seconds', "How far the gateway's time line is off the wall clock after the wall clock stepped (ahead positive, behind negative), s", () => steady.offsetFromWall() / 1000);
    this.spool.registerMetrics(c, () => this.writer?.stats().lagRecords);
    this.broker.registerMetrics(c);
    registerInfluxMetrics(c, () => this.writer?.stats());
    registerBridgeMetrics(c, () => this.bridge?.stats());
    this.station.registerMetrics(c);
    this.gc.registerMetrics(c);
  }
}
