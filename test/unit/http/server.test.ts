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
  const open = (port: number, localAddress = '127.0.0.1'): Promise<Socket> =>
    new Promise((resolve, reject) => {
      const c = connect({ port, host: '127.0.0.1', localAddress }, () => resolve(c));
      c.once('error', reject);
    });
  const closed = (c: Socket): Promise<void> => new Promise((r) => (c.destroyed ? r() : c.once('close', () => r())));
  const refusedCount = async (counters: Counters, reason = 'max_connections', metric = 'vigil_http_connections_refused_total'): Promise<number> =>
    (await counters.registry.getSingleMetric(metric)?.get())?.values.find((v) => v.labels.reason === reason)?.value ?? 0;

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

  it.each([
    [undefined, 'closed'],
    [['127.0.0.1'], 'served'],
  ])('closes connections past http.connectionsPerAddress from one address (trustProxy %j: %s); another address is served', async (trustProxy, fifth) => {
    const { s, counters, warnings } = server({ maxConnections: 64, connectionsPerAddress: 4, ...(trustProxy ? { trustProxy } : {}) });
    await s.start();
    const held: Socket[] = [];
    try {
      for (let i = 0; i < 4; i++) held.push(await open(s.port));
      const extra = await open(s.port);
      held.push(extra);
      if (fifth === 'closed') {
        await closed(extra);
        expect(await refusedCount(counters, 'per_address')).toBe(1);
        expect(warnings.some((w) => /http\.connectionsPerAddress/.test(w))).toBe(true);
      } else {
        extra.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
        const answer = await new Promise<string>((r) => extra.once('data', (d) => r(d.toString())));
        expect(answer).toMatch(/^HTTP\/1\.1 200/);
        expect(await refusedCount(counters, 'per_address')).toBe(0);
      }
      // another address is not held back by this one's connections
      const other = await open(s.port, '127.0.0.2');
      held.push(other);
      other.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      expect(await new Promise<string>((r) => other.once('data', (d) => r(d.toString())))).toMatch(/^HTTP\/1\.1 200/);
    } finally {
      for (const c of held) c.destroy();
      await s.stop();
    }
  });

  it.each([
    ['bytes that are no request', 'GARBAGE\r\n\r\n', 400, 'malformed_request'],
    ['headers over the bound', `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431, 'headers_too_large'],
    // never the blank line that ends the headers
    ['request headers that do not all arrive within the headers timeout', 'GET /healthz HTTP/1.1\r\nHost: x\r\n', 408, 'request_timeout'],
    ['a body that does not all arrive within the request timeout', 'POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 60000\r\n\r\n{', 408, 'request_timeout'],
  ])('answers %s before any route (%s), counted and logged, and closes the connection', async (_what, sent, status, reason) => {
    const { s, counters, warnings } = server({ headersTimeoutMs: 300, requestTimeoutMs: 600 });
    await s.start();
    try {
      const c = await open(s.port);
      let answer = '';
      c.on('data', (d) => (answer += d.toString()));
      c.write(sent);
      await closed(c);
      expect(answer).toMatch(new RegExp(`^HTTP/1\\.1 ${status}`));
      expect(await refusedCount(counters, reason, 'vigil_http_refused_total')).toBe(1);
      expect(warnings.some((w) => w.includes(`(${reason})`))).toBe(true);
    } finally {
      await s.stop();
    }
  });
});
