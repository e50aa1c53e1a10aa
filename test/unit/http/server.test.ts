import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Counters } from '../../../src/core/counters.js';
import { HttpServer } from '../../../src/http/server.js';

describe('HttpServer', () => {
  it('brings what it answers from up to date before each request, before the access check', async () => {
    const order: string[] = [];
    let state = 0;
    const server = new HttpServer({
      host: '127.0.0.1',
      port: 0,
      counters: new Counters(),
      logger: pino({ level: 'silent' }),
      health: () => ({ ok: true, state }),
      authHook: async () => void order.push('auth'),
      routes: [],
      settle: () => {
        order.push('settle');
        state++;
      },
    });
    await server.start();
    try {
      const body = (await (await fetch(`http://127.0.0.1:${server.port}/healthz`)).json()) as { state: number };
      expect(body.state).toBe(1);
      expect(order).toEqual(['settle', 'auth']);
    } finally {
      await server.stop();
    }
  });

  function server(opts: Partial<ConstructorParameters<typeof HttpServer>[0]> = {}) {
    const counters = new Counters();
    const warnings: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line).msg as string) });
    const s = new HttpServer({ host: '127.0.0.1', port: 0, counters, logger, health: () => ({ ok: true }), authHook: async () => {}, routes: [], ...opts });
    return { s, counters, warnings };
  }
  const open = (port: number): Promise<Socket> =>
    new Promise((resolve, reject) => {
      const c = connect(port, '127.0.0.1', () => resolve(c));
      c.once('error', reject);
    });
  const closed = (c: Socket): Promise<void> => new Promise((r) => (c.destroyed ? r() : c.once('close', () => r())));
  const refusedCount = async (counters: Counters): Promise<number> =>
    (await counters.registry.getSingleMetric('vigil_http_connections_refused_total')?.get())?.values.find((v) => v.labels.reason === 'max_connections')?.value ?? 0;

  it('closes connections past http.maxConnections as they come, counted and logged; a freed slot serves again', async () => {
    const { s, counters, warnings } = server({ maxConnections: 8 });
    await s.start();
    const held: Socket[] = [];
    try {
      // eight connections that never finish a request hold every slot
      for (let i = 0; i < 8; i++) {
        const c = await open(s.port);
        c.write('POST /api/session HTTP/1.1\r\nHost: x\r\n');
        held.push(c);
      }
      const extra = await open(s.port);
      await closed(extra);
      expect(await refusedCount(counters)).toBe(1);
      expect(warnings.some((w) => /http\.maxConnections/.test(w))).toBe(true);
      held.pop()!.destroy();
      // the freed slot is served (the server may see the close after the next connect: retry until it does)
      let status = 0;
      while (status !== 200) status = await fetch(`http://127.0.0.1:${s.port}/healthz`).then((r) => r.status, () => 0);
      expect(status).toBe(200);
    } finally {
      for (const c of held) c.destroy();
      await s.stop();
    }
  });

  it.each([
    ['request headers do not all arrive within the headers timeout', 'GET /healthz HTTP/1.1\r\nHost: x\r\n'], // never the blank line that ends them
    ['body does not all arrive within the request timeout', 'POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 60000\r\n\r\n{'],
  ])('answers 408 and closes a connection whose %s', async (_what, sent) => {
    const { s } = server({ headersTimeoutMs: 300, requestTimeoutMs: 600 });
    await s.start();
    try {
      const c = await open(s.port);
      let answer = '';
      c.on('data', (d) => (answer += d.toString()));
      c.write(sent);
      await closed(c);
      expect(answer).toMatch(/^HTTP\/1\.1 408/);
    } finally {
      await s.stop();
    }
  });

  it.each([
    [undefined, '127.0.0.1'],
    [['127.0.0.1'], '10.1.2.3'],
    [['10.0.0.0/8'], '127.0.0.1'],
  ])('reads the client address from X-Forwarded-For only from a proxy in http.trustProxy (%j: %s)', async (trustProxy, seen) => {
    const { s } = server({ trustProxy, routes: [(app) => app.get('/ip', async (req) => ({ ip: req.ip }))] });
    await s.start();
    try {
      const body = (await (await fetch(`http://127.0.0.1:${s.port}/ip`, { headers: { 'x-forwarded-for': '10.1.2.3' } })).json()) as { ip: string };
      expect(body.ip).toBe(seen);
    } finally {
      await s.stop();
    }
  });
});
