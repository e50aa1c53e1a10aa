/**
 * The gateway's HTTP server: health, Prometheus metrics, and the census API. Feature routes
 * register themselves through `routes` so this file stays the composition point.
 */
import { createServer } from 'node:http';
import { ConnectionGuard } from './connections.js';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from '../core/log.js';
import type { Service } from '../core/types.js';
import type { Counters } from '../core/counters.js';
import { HttpRefusals } from './refusals.js';

export interface HttpOptions {
  readonly host: string;
  readonly port: number;
  readonly counters: Counters;
  readonly logger: Logger;
  /** Builds the /healthz body; `ok: false` answers 503. */
  readonly health: () => { ok: boolean } & Record<string, unknown>;
  /** Decides who may call what, before any route (web/access.ts: bearer token or nurse-station session). */
  readonly authHook: (req: FastifyRequest, reply: FastifyReply) => Promise<void>;
  /** Registers feature routes (census API, …) on the instance. */
  readonly routes: ReadonlyArray<(app: FastifyInstance) => void>;
  /**
   * Brings what the routes answer from up to date before each request (ingest hands over the
   * durable records still waiting for their turn), so an answer given after a PUBACK includes
   * that message.
   */
  readonly settle?: () => void;
  /** Connections open at once; more are closed as they come (counted, logged). Default 256. */
  readonly maxConnections?: number;
  /** Connections open at once from one address (a proxy in `trustProxy` aside); more are closed as they come. Default 64. */
  readonly connectionsPerAddress?: number;
  /** A request's headers must all arrive within this, ms. Default 10 s. */
  readonly headersTimeoutMs?: number;
  /** A whole request (headers and body) must arrive within this, ms. Default 30 s. Responses, live streams among them, are not bound by it. */
  readonly requestTimeoutMs?: number;
  /** Proxies whose X-Forwarded-For names the client (addresses or CIDR ranges); none by default. */
  readonly trustProxy?: readonly string[];
  /** Epoch-ms clock (tests): paces the refusal log lines. */
  readonly clock?: () => number;
}

/** What a client that holds connections open without finishing a request is allowed, by default. */
export const HTTP_DEFAULTS = { maxConnections: 256, connectionsPerAddress: 64, headersTimeoutMs: 10_000, requestTimeoutMs: 30_000 } as const;

export class HttpServer implements Service {
  readonly name = 'http';
  private app: FastifyInstance | undefined;
  /** Bound port after start. */
  port = 0;

  /** Counts every refused request in /metrics and logs it, at most a line per address and reason a minute. */
  readonly refusals: HttpRefusals;

  constructor(private readonly opts: HttpOptions) {
    this.refusals = new HttpRefusals({ counters: opts.counters, logger: opts.logger, ...(opts.clock ? { clock: opts.clock } : {}) });
  }

  async start(): Promise<void> {
    const o = this.opts;
    const trustProxy = o.trustProxy !== undefined && o.trustProxy.length > 0 ? [...o.trustProxy] : false;
    // Bounded: a client that opens connections and never finishes a request must not take the
    // file descriptors the devices' connections need (the MQTT broker shares the process).
    const requestTimeout = o.requestTimeoutMs ?? HTTP_DEFAULTS.requestTimeoutMs;
    const headersTimeout = Math.min(o.headersTimeoutMs ?? HTTP_DEFAULTS.headersTimeoutMs, requestTimeout);
    const guard = new ConnectionGuard({ maxConnections: o.maxConnections ?? HTTP_DEFAULTS.maxConnections, connectionsPerAddress: o.connectionsPerAddress ?? HTTP_DEFAULTS.connectionsPerAddress, trusted: o.trustProxy ?? [] }, o.counters, this.refusals, o.logger);
    const app = Fastify({
      logger: false,
      bodyLimit: 64 * 1024,
      trustProxy,
      // The timeouts are looked at every `connectionsCheckingInterval` (30 s by default): often
      // enough here that a timeout means about what it says.
      clientErrorHandler: guard.clientError,
      serverFactory: (handler) => createServer({ headersTimeout, requestTimeout, connectionsCheckingInterval: Math.max(250, Math.min(5_000, headersTimeout / 2)) }, handler),
    });
    guard.attach(app.server);
    const settle = this.opts.settle;
    if (settle) {
      app.addHook('onRequest', (_req, _reply, done) => {
        settle();
        done();
      });
    }
    // Added before any other hook so that every answer, also one an onRequest hook gives, is seen.
    app.addHook('onResponse', (req, reply, done) => {
      this.refusals.observe(req, reply.statusCode);
      done();
    });
    app.addHook('onRequest', this.opts.authHook);
    app.setErrorHandler((err: { statusCode?: number; message: string }, req, reply) => {
      const status = err.statusCode ?? 500;
      if (status >= 500) this.opts.logger.error({ url: req.url, err: err.message }, 'HTTP handler failed');
      void reply.code(status).send({ error: err.message });
    });
    app.get('/healthz', async (_req, reply) => {
      const body = this.opts.health();
      return reply.code(body.ok ? 200 : 503).send(body);
    });
    app.get('/metrics', async (_req, reply) => {
      const text = await this.opts.counters.text();
      return reply.type(this.opts.counters.registry.contentType).send(text);
    });
    for (const register of this.opts.routes) register(app);
    try {
      await app.listen({ host: this.opts.host, port: this.opts.port });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new Error(code === 'EADDRINUSE' ? `http.port: ${this.opts.host}:${this.opts.port} is already in use` : `http: cannot listen on ${this.opts.host}:${this.opts.port}: ${(err as Error).message}`);
    }
    const addr = app.server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : this.opts.port;
    this.app = app;
    this.opts.logger.info({ host: this.opts.host, port: this.port }, 'HTTP listening (/healthz, /metrics, /api)');
  }

  async stop(): Promise<void> {
    const app = this.app;
    this.app = undefined;
    if (app) await app.close();
  }
}
