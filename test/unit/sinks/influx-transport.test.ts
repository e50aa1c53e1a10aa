import { afterEach, describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import { SinkError } from '../../../src/core/errors.js';
import { classifyWriteError, createInfluxSender } from '../../../src/sinks/influx-transport.js';
import { startScriptedInflux, type ScriptedInflux, type ScriptedReply } from './scripted-influx.js';

let server: ScriptedInflux | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function sendAgainst(reply: ScriptedReply): Promise<SinkError | undefined> {
  server = await startScriptedInflux(() => reply);
  const sender = createInfluxSender({ url: server.url, token: 't0k3n', org: 'ward org', bucket: 'vitals&more' });
  try {
    await sender.send('vitals,device=d hr=1 1');
    return undefined;
  } catch (err) {
    return err as SinkError;
  }
}

describe('createInfluxSender', () => {
  it('posts to the v2 write API with ms precision, the token and the escaped org and bucket', async () => {
    expect(await sendAgainst({ status: 204 })).toBeUndefined();
    const req = server!.requests[0]!;
    expect(req.url).toBe('/api/v2/write?org=ward%20org&bucket=vitals%26more&precision=ms');
    expect(req.headers.authorization).toBe('Token t0k3n');
    expect(req.lines).toEqual(['vitals,device=d hr=1 1']);
  });

  it('turns 429 with Retry-After seconds into a retryable error with the wait in ms', async () => {
    const err = await sendAgainst({ status: 429, headers: { 'retry-after': '7' } });
    expect(err).toBeInstanceOf(SinkError);
    expect([err?.retryable, err?.statusCode, err?.retryAfterMs]).toEqual([true, 429, 7000]);
  });

  it.each([
    [500, true],
    [503, true],
    [400, false],
    [401, false],
    [404, false],
    [413, false],
    [422, false],
  ])('status %i → retryable %s', async (status, retryable) => {
    const err = await sendAgainst({ status, body: JSON.stringify({ code: 'x', message: `failure ${status}` }) });
    expect(err?.statusCode).toBe(status);
    expect(err?.retryable).toBe(retryable);
    expect(err?.message).toContain(`HTTP ${status}`);
  });

  it('treats a dropped connection and a refused port as retryable network errors', async () => {
    const reset = await sendAgainst('reset');
    expect([reset?.retryable, reset?.statusCode]).toEqual([true, undefined]);

    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const sender = createInfluxSender({ url: `http://127.0.0.1:${port}`, token: 't', org: 'o', bucket: 'b' });
    const refused = await sender.send('m f=1 1').then(() => undefined, (e: SinkError) => e);
    expect(refused?.retryable).toBe(true);
    expect(refused?.message).toMatch(/ECONNREFUSED/);
  });
});

describe('classifyWriteError', () => {
  it('keeps a SinkError as it is and treats unknown errors as retryable', () => {
    const own = new SinkError('x', false, undefined, 400);
    expect(classifyWriteError(own, 0)).toBe(own);
    expect(classifyWriteError(new Error('boom'), 0).retryable).toBe(true);
    expect(classifyWriteError('weird', 0).message).toBe('weird');
  });
});
