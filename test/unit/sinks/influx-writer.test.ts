/**
 * What is InfluxDB's own in forwarding (the loop, retries, bisection and stop are the
 * forwarder's, tested in forwarder.test.ts): a batch is one body of lines, and the database's
 * answers mean retry, fix a setting, or refused for good. The HTTP transport itself is tested in
 * influx-transport.test.ts, the lines in line-protocol.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpError } from '@influxdata/influxdb-client';
import type { SpoolRecord } from '../../../src/core/types.js';
import { SinkError } from '../../../src/core/errors.js';
import { InfluxWriter, influxDestination } from '../../../src/sinks/influx-writer.js';
import { captureLogs } from './capture-log.js';
import { MemoryReader } from './memory-reader.js';
import { startScriptedInflux } from './scripted-influx.js';
import { until } from '../../support/wait.js';

const obs = (i: number, deviceId = 'ox-1'): SpoolRecord => ({
  t: 'obs',
  o: { ts: 1_700_000_000_000 + i, deviceId, patientId: 'p-1', ward: 'W1', bed: '4', metric: 'hr', value: 60 + i, unit: '/min', quality: 'good' },
});
const entry = (seq: number, r: SpoolRecord | string) => ({ seq, payload: Buffer.from(typeof r === 'string' ? r : JSON.stringify(r)) });

describe('InfluxDB as a destination', () => {
  it('sends a batch as one body of lines in spool order; a refused line is dead-lettered as the line', async () => {
    const bodies: string[] = [];
    const d = influxDestination({ send: async (body) => void bodies.push(body) }, () => 0);
    const { items, rejected } = d.encode([entry(1, obs(1)), entry(2, '{"t":"obs","o":'), entry(3, obs(3, 'ox 2'))]);
    expect(rejected).toMatchObject([{ seq: 2, reason: 'malformed JSON', raw: '{"t":"obs","o":' }]);
    await d.send(items, new AbortController().signal);
    expect(bodies).toEqual([
      'vitals,device=ox-1,patient=p-1,ward=W1,bed=4 hr=61 1700000000001\n' + 'vitals,device=ox\\ 2,patient=p-1,ward=W1,bed=4 hr=63 1700000000003',
    ]);
    expect(items.map((l) => d.letter(l))).toEqual(bodies[0]?.split('\n'));
  });

  const http = (status: number, headers: Record<string, string> = {}) => new HttpError(status, 'x', '{"code":"x","message":"why"}', undefined, undefined, undefined, headers);
  it.each([
    [http(401), { kind: 'config', setting: 'influx.token', status: 401 }],
    [http(403), { kind: 'config', setting: 'influx.token', status: 403 }],
    [http(404), { kind: 'config', setting: 'influx.bucket', status: 404 }],
    [http(405), { kind: 'config', setting: 'influx.url', status: 405 }],
    [http(429, { 'retry-after': '7' }), { kind: 'retry', status: 429, retryAfterMs: 7000 }],
    [http(500), { kind: 'retry', status: 500 }],
    [http(503), { kind: 'retry', status: 503 }],
    [http(400), { kind: 'refused', status: 400 }],
    [http(413), { kind: 'refused', status: 413 }],
    [http(422), { kind: 'refused', status: 422 }],
    [Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), { kind: 'retry', reason: 'ECONNRESET: socket hang up' }],
    [new SinkError('timed out', true), { kind: 'retry', reason: 'timed out' }],
  ])('classifies %s as %j', (err, expected) => {
    expect(influxDestination({ send: async () => undefined }, () => 0).classify(err)).toMatchObject(expected);
  });
});

describe('InfluxWriter', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('on a 401 keeps the data, names influx.token once and never logs the token; reports its stats under the writer names', async () => {
    let authorised = false;
    const server = await startScriptedInflux(() => (authorised ? { status: 204 } : { status: 401, body: '{"code":"unauthorized","message":"unauthorized access"}' }));
    const dir = await mkdtemp(join(tmpdir(), 'vigil-writer-'));
    const { logger, logs } = captureLogs();
    const reader = new MemoryReader();
    const sleeps: number[] = [];
    const writer = new InfluxWriter({
      url: server.url, token: 'secret-token', org: 'o', bucket: 'b', reader, deadLetterPath: join(dir, 'influx.jsonl'),
      flushIntervalMs: 0, maxBackoffMs: 5000, logger,
      sleep: async (ms) => void sleeps.push(ms),
    });
    cleanups.push(async () => {
      await writer.stop();
      await server.close();
      await rm(dir, { recursive: true, force: true });
    });
    reader.append(obs(1), obs(2));
    await writer.start();
    await until(() => sleeps.length >= 2, 'two retries');
    expect(writer.stats()).toMatchObject({ state: expect.stringMatching(/^(writing|backing_off)$/), pointsWritten: 0, lagRecords: 2 });
    authorised = true;
    await until(() => reader.committedSeq === 3, 'commit once the token is fixed');
    expect(sleeps.every((ms) => ms === 5000)).toBe(true);
    expect(logs.filter((l) => l.level === 50)).toMatchObject([{ status: 401, setting: 'influx.token', msg: 'InfluxDB refused the write (HTTP 401); check influx.token. Data stays in the spool and is retried' }]);
    expect(JSON.stringify(logs)).not.toContain('secret-token');
    expect(server.requests.at(-1)?.headers.authorization).toBe('Token secret-token');
    expect(writer.stats()).toMatchObject({ batches: 1, pointsWritten: 2, retries: sleeps.length, deadLetters: 0, lagRecords: 0, latency: { count: 1 } });
    await writer.stop();
    expect(writer.stats().state).toBe('stopped');
  });
});
