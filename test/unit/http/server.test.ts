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
});
