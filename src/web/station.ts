/**
 * The nurse station, composed: accounts, sessions, sign-in limits, the audit log, the in-memory
 * ward store fed by ingest and the detectors, the live event feed, who has the station open, the
 * delivery confirmation of escalation steps, and the HTTP routes. The gateway builds one, hands
 * `guard` to the HTTP server and `routes` to its route list, and tells `delivery` what the
 * webhook and the MQTT subscribers confirm.
 */
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Counter } from 'prom-client';
import type { VigilConfig } from '../config/schema.js';
import type { Census } from '../census/census.js';
import type { LiveDetectors } from '../alarms/live.js';
import type { Ingest } from '../ingest/ingest.js';
import type { Logger } from '../core/log.js';
import type { Counters } from '../core/counters.js';
import { DeliveryTracker } from '../alarms/delivery.js';
import { StationPresence } from './presence.js';
import { assignRoutes } from './routes-assign.js';
import type { Service } from '../core/types.js';
import { sortAlarms } from '../alarms/routes.js';
import { accessGuard } from './access.js';
import { SignInLimiter } from './signin-limiter.js';
import { TokenLimiter } from './token-limiter.js';
import { AuditLog } from './audit.js';
import { LiveFeed } from './live-feed.js';
import { apiPolicy } from './policy.js';
import { sessionRoutes, type SignInStats } from './routes-session.js';
import { ConcurrencyGate } from '../core/gate.js';
import { exportRoutes } from './routes-export.js';
import { wardRoutes } from './routes-ward.js';
import { SessionStore } from './sessions.js';
import { staticRoutes } from './static.js';
import { UserDirectory } from './users.js';
import { EMPTY_WARD, WardStore, type WardStoreState } from './ward-store.js';
import { staleAfterSeconds, wardSnapshot, type WardViewDeps } from './ward-view.js';

/** Sign-ins that may wait for a password check; more are answered 503 at once. */
const MAX_QUEUED_CHECKS = 32;

export interface NurseStationOptions {
  readonly config: VigilConfig;
  readonly dataDir: string;
  readonly census: Census;
  readonly detectors: LiveDetectors;
  readonly ingest: Ingest;
  readonly logger: Logger;
  readonly clock: () => number;
  /** Metrics registry (delivery results). */
  readonly counters: Counters;
}

export class NurseStation implements Service {
  readonly name = 'nurse-station';
  readonly sessions: SessionStore;
  readonly users: UserDirectory;
  readonly audit: AuditLog;
  readonly store: WardStore;
  readonly feed: LiveFeed;
  /** Sign-in limiter, password-check gate and refusal counts (read by /metrics). */
  readonly signIn: { readonly limiter: SignInLimiter; readonly checks: ConcurrencyGate; readonly stats: SignInStats };
  /** Who has the station open (live streams per signed-in person). */
  readonly presence = new StationPresence();
  /** Confirms each escalation step on its channels; a failure raises a technical alarm. */
  readonly delivery: DeliveryTracker;
  /** Wrong bearer tokens per address (web.signIn's per-address limit and window). */
  readonly tokens: TokenLimiter;
  /** onRequest hook for the HTTP server (see access.ts). */
  readonly guard: ReturnType<typeof accessGuard>;
  private readonly view: WardViewDeps;
  private usersTimer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: NurseStationOptions) {
    const { config, logger, clock } = opts;
    this.store = new WardStore({ lateReadingMs: config.detectors.lateReadingSeconds * 1000 });
    const web = config.web;
    this.sessions = new SessionStore({
      ttlMs: web.sessionHours * 3600_000,
      maxPerUser: web.sessionsPerAccount,
      clock,
      file: join(opts.dataDir, 'web', 'sessions.json'),
      onError: (err) => logger.error({ err: err.message }, 'nurse sessions could not be saved: a restart would sign nurses out'),
    });
    const usersFile = web.usersFile !== undefined ? resolve(web.usersFile) : undefined;
    this.users = new UserDirectory(web.users, usersFile, (u) => this.sessions.destroyUser(u), (err) => logger.error({ file: usersFile, err: err.message }, 'users file unreadable; keeping the accounts read before'));
    this.audit = new AuditLog(join(opts.dataDir, 'audit', 'audit.jsonl'), clock);
    this.view = { census: opts.census, detectors: opts.detectors, store: this.store, staleSeconds: staleAfterSeconds(config.detectors, web.continuousStaleSeconds), clock, detectorConfig: config.detectors, nameOf: (u) => this.users.nameOf(u) };
    this.feed = new LiveFeed({
      snapshot: () => wardSnapshot(this.view),
      activeAlarms: () => this.store.withConditions(sortAlarms(opts.detectors.activeAlarms())),
      news2Of: (id) => opts.detectors.latestNews2(id),
      clock,
      maxStreamsPerOwner: web.liveStreamsPerSession,
      maxStreams: web.liveStreamsTotal,
    });
    // The ward view (trends, NEWS2 and alarm history) is built from the same records and outputs
    // as the detectors' state, so it is saved and restored with it.
    opts.detectors.keep('ward', { snapshot: (blobs) => this.store.snapshot(blobs), restore: (s, blobs) => this.store.restore((s as WardStoreState | undefined) ?? EMPTY_WARD, blobs) });
    const limits = web.signIn;
    this.signIn = {
      limiter: new SignInLimiter({ maxFailures: limits.maxFailures, windowMs: limits.windowSeconds * 1000, maxTrackedKeys: limits.maxTrackedKeys, clock }),
      checks: new ConcurrencyGate(limits.maxConcurrentChecks, MAX_QUEUED_CHECKS),
      stats: { refused: 0, busy: 0, sessionsEnded: 0 },
    };
    this.delivery = new DeliveryTracker({
      audit: (e) => this.audit.record(e),
      system: (condition, active, priority, reason) => opts.detectors.system(condition, active, priority, reason),
      stations: this.presence,
      activeAlarms: () => opts.detectors.activeAlarms(),
      registry: opts.counters.registry,
      logger,
      confirmMs: config.alarms.delivery.confirmSeconds * 1000,
    });
    // A wrong bearer token is a wrong password: the same per-address limit, window and bound.
    this.tokens = new TokenLimiter({ maxFailuresPerAddress: 5 * limits.maxFailures, windowMs: limits.windowSeconds * 1000, maxTrackedKeys: limits.maxTrackedKeys, clock });
    this.guard = accessGuard({
      ...(config.http.apiToken !== undefined ? { apiToken: config.http.apiToken } : {}),
      sessions: this.sessions,
      tokens: this.tokens,
      // One audit entry per blocked address and block, not one per attempt (as for sign-ins).
      onTokenBlocked: (ip, seconds) =>
        this.audit.record({ who: 'api-token', role: '-', action: 'token.refused', ip, detail: { reason: 'too many wrong bearer tokens', retryAfterSeconds: seconds, note: 'further refusals in this block are counted in /metrics only' } }).catch((err: Error) => logger.error({ err: err.message }, 'audit entry for a blocked bearer token could not be written')),
    });
    if (this.users.size() === 0) logger.warn({ usersFile }, 'no nurse-station accounts (web.users or web.usersFile): nobody can sign in; add one with `vigil user add`');
  }

  /** Subscribes to ingest, detectors and census. Call before data flows, and before the detectors start (they replay into it). */
  async start(): Promise<void> {
    const { ingest, detectors, census } = this.opts;
    await this.sessions.load();
    ingest.onRecords((records) => {
      const changed = this.store.addRecords(records);
      if (changed.size > 0) this.feed.vitalsChanged(changed);
    });
    detectors.onSent((a, mqtt) => this.delivery.sent(a, mqtt));
    detectors.onControl((c) => {
      if (c.type === 'silence') this.feed.refreshAlarms();
      else if (c.type === 'assign') this.feed.census();
    });
    detectors.onOutput((o) => {
      if (o.type === 'alarm') {
        this.store.addAlarm(o.alarm);
        this.feed.alarmChanged(o.alarm);
      } else {
        this.store.addNews2(o);
        this.feed.news2Changed(o);
      }
    });
    census.on('change', (s) => {
      this.store.retain(new Set(s.patients.map((p) => p.id)));
      this.feed.census();
    });
    this.feed.start();
    // Picks up accounts removed or changed from the command line even when nobody signs in.
    this.usersTimer = setInterval(() => this.users.reload(), 5000);
    this.usersTimer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.usersTimer);
    this.delivery.stop();
    this.feed.stop();
    await this.sessions.flushed();
    await this.audit.close();
  }

  /** The station's gauges and counters: the sign-in limiter and checks, and the live streams. */
  registerMetrics(c: Counters): void {
    const signIn = this.signIn;
    c.gauge('vigil_signin_limiter_keys', 'Addresses and usernames the sign-in limiter tracks (bound: web.signIn.maxTrackedKeys)', () => signIn.limiter.size());
    c.gauge('vigil_signin_checks_peak', 'Most password checks that ever ran at once (bound: web.signIn.maxConcurrentChecks)', () => signIn.checks.peak);
    c.externalCounter('vigil_signin_refused_total', 'Sign-ins refused by the limiter (429)', () => signIn.stats.refused);
    c.gauge('vigil_token_limiter_keys', 'Addresses the bearer-token limiter tracks (bound: web.signIn.maxTrackedKeys)', () => this.tokens.size());
    c.externalCounter('vigil_signin_busy_total', 'Sign-ins refused because the password checks were all busy (503)', () => signIn.stats.busy);
    c.externalCounter('vigil_signin_sessions_ended_total', 'Sessions ended because their account signed in once more at web.sessionsPerAccount (the oldest goes)', () => signIn.stats.sessionsEnded);
    c.gauge('vigil_web_sessions', 'Signed-in nurse-station sessions (bound: web.sessionsPerAccount per account)', () => this.sessions.count());
    c.gauge('vigil_live_streams', 'Open live-feed (server-sent events) streams (bound: web.liveStreamsTotal)', () => this.feed.size());
    const refused = this.feed.refused;
    new Counter({
      name: 'vigil_live_streams_refused_total',
      help: 'Live-feed streams refused, by bound: session (web.liveStreamsPerSession, 429), gateway (web.liveStreamsTotal, 503)',
      labelNames: ['bound'],
      registers: [c.registry],
      collect() {
        this.reset();
        this.inc({ bound: 'session' }, refused.session);
        this.inc({ bound: 'gateway' }, refused.gateway);
      },
    });
  }

  /** Route registrations, policy first so its hooks cover the alarm, census and export API. */
  routes(): Array<(app: FastifyInstance) => void> {
    const { config, logger } = this.opts;
    return [
      (app) => app.addHook('preClose', async () => this.feed.stop()),
      apiPolicy(this.opts.detectors, this.audit, this.opts.census),
      staticRoutes(),
      sessionRoutes({ users: this.users, sessions: this.sessions, ...this.signIn, closeStreams: (key) => this.feed.close(key), audit: this.audit, logger, maxAgeSeconds: config.web.sessionHours * 3600, secureCookies: config.web.secureCookies }),
      wardRoutes({ ...this.view, ingest: this.opts.ingest, audit: this.audit, feed: this.feed, sessions: this.sessions, presence: this.presence, detectorConfig: config.detectors, logger }),
      assignRoutes({ census: this.opts.census, detectors: this.opts.detectors, users: this.users, audit: this.audit, logger }),
      exportRoutes(this.opts.census, this.store, this.opts.clock),
    ];
  }
}
