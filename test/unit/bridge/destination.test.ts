/**
 * What is the upstream broker's own in forwarding, as far as it is pure: which records become
 * which messages, and that every failure is retried (MQTT 3.1.1 refuses nothing in a PUBACK).
 * Publishing, PUBACKs, drops and reconnection run against a real Mosquitto in
 * test/integration/bridge.test.ts; the loop itself is tested in test/unit/sinks/forwarder.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { DisconnectedError } from '../../../src/core/errors.js';
import type { SpoolRecord } from '../../../src/core/types.js';
import { UpstreamDestination } from '../../../src/bridge/destination.js';
import type { EncodeContext } from '../../../src/bridge/encode.js';

const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);
const PREFIX = 'vigil/v1/ward/ward-7';

function destination(forward: Partial<EncodeContext['forward']> = {}): UpstreamDestination {
  return new UpstreamDestination(
    { url: 'mqtt://127.0.0.1:1', clientId: 'gw-7', rejectUnauthorized: true, connectTimeoutMs: 1000, publishTimeoutMs: 1000 },
    { prefix: PREFIX, forward: { alarms: true, observations: false, technical: true, ...forward }, format: 'json', gatewayId: 'gw-7' },
    () => T0,
    pino({ level: 'silent' }),
  );
}
const entries = (...records: Array<SpoolRecord | string>) => records.map((r, i) => ({ seq: i + 1, payload: Buffer.from(typeof r === 'string' ? r : JSON.stringify(r)) }));
const msg: SpoolRecord = { t: 'msg', m: { ts: T0, deviceId: 'wb-1', patientId: 'P-1', ward: 'ward-7', bed: '1', v: { hr: 72, spo2: 97 } } };
const alarm: SpoolRecord = { t: 'alarm', a: { ts: T0, id: 'al-1', kind: 'limit', priority: 'high', state: 'raised', metric: 'spo2', deviceId: 'wb-1', ward: 'ward-7', bed: '1', reason: 'low' } };
const tech: SpoolRecord = { t: 'tech', e: { ts: T0, deviceId: 'ox-2', kind: 'sensor_off' } };

describe('the upstream broker as a destination', () => {
  it('turns records into messages in spool order, counts what it is not told to forward, and rejects what it cannot read', () => {
    const d = destination();
    const { items, rejected } = d.encode(entries(msg, alarm, 'not json', tech));
    expect(items.map((m) => [m.seq, m.topic])).toEqual([
      [2, `${PREFIX}/alarms/ward-7/1`],
      [4, `${PREFIX}/tech/device:ox-2/sensor_off`],
    ]);
    expect(rejected).toEqual([{ seq: 3, raw: 'not json', reason: 'malformed JSON' }]);
    expect(d.counts.skipped).toBe(1);
    expect(d.letter(items[0]!)).toBe(items[0]!.payload);
  });

  it('gives a device message a message per observation, each with its seq and part', () => {
    const { items } = destination({ observations: true }).encode(entries(msg));
    expect(items.map((m) => [m.seq, m.topic, (JSON.parse(m.payload) as { part: number }).part])).toEqual([
      [1, `${PREFIX}/obs/P-1/hr`, 0],
      [1, `${PREFIX}/obs/P-1/spo2`, 1],
    ]);
  });

  it('retries every failure: a refused connection, a drop, a missing PUBACK', () => {
    const d = destination();
    expect(d.classify(new DisconnectedError('connection closed'))).toEqual({ kind: 'retry', reason: 'connection closed' });
    expect(d.classify(new Error('no PUBACK within 1000 ms'))).toEqual({ kind: 'retry', reason: 'no PUBACK within 1000 ms' });
    expect(d.classify(undefined)).toEqual({ kind: 'retry', reason: 'connection lost' });
  });
});
