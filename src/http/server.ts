/**
 * The gateway's HTTP server: health, Prometheus metrics, and the census API. Feature routes
 * register themselves through `routes` so this file stays the composition point.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from '../core/log.js';
import type { Service } from '../core/types.js';
import type { Counters } from '../core/counters.js';

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
}

export class HttpServer implements Service {
  readonly name = 'http';
  private app: FastifyInstance | undefined;
  /** Bound port after start. */
  port = 0;

  constructor(private readonly opts: HttpOptions) {}

  async start(): Promise<void> {
    const app = Fastify({ logger: false, bodyLimit: 64 * 1024 });
    const settle = this.opts.settle;
    if (settle) {
      app.addHook('onRequest', (_req, _reply, done) => {
        settle();
        done();
      });
    }
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
