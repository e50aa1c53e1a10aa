/**
 * The upstream bridge against a real Eclipse Mosquitto and the real disk spool: alarms,
 * technical events and observations arrive upstream on their topics in order; an outage of the
 * broker loses nothing (the records wait in the spool, the cursor does not move) and the backlog
 * arrives in order once it is back; a restarted bridge resumes from its cursor; FHIR and HL7
 * payloads go out as such.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import type { AlarmTransition, Observation, SpoolRecord, TechnicalEvent } from '../../src/core/types.js';
import { Spool } from '../../src/spool/spool.js';
import { UpstreamBridge, type UpstreamBridgeOptions } from '../../src/bridge/bridge.js';
import { startMosquitto, type Mosquitto } from '../support/mosquitto.js';
import { until } from '../support/wait.js';

const silent = pino({ level: 'silent' });
const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);
const PREFIX = 'vigil/v1/ward/ward-7';

interface Received {
  readonly topic: string;
  readonly payload: string;
}

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});


function obs(i: number, extra: Partial<Observation> = {}): SpoolRecord {
  return { t: 'obs', o: { ts: T0 + i * 1000, deviceId: 'wb-01', patientId: 'P-1001', ward: 'ward-7', bed: '1', metric: 'hr', value: 60 + (i % 40), unit: '/min', quality: 'good', ...extra } };
}
function alarm(i: number, extra: Partial<AlarmTransition> = {}): SpoolRecord {
  return { t: 'alarm', a: { ts: T0 + i * 1000, id: `al-${i}`, kind: 'limit', priority: 'high', state: 'raised', metric: 'spo2', deviceId: 'wb-01', patientId: 'P-1001', ward: 'ward-7', bed: '1', reason: `SpO2 ${80 + (i % 10)} % below 88 % for 15 s`, value: 80 + (i % 10), ...extra } };
}
function tech(i: number, extra: Partial<TechnicalEvent> = {}): SpoolRecord {
  return { t: 'tech', e: { ts: T0 + i * 1000, deviceId: 'ox-02', kind: 'sensor_off', detail: 'SO', ...extra } };
}

async function openSpool(): Promise<{ spool: Spool; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'vigil-bridge-'));
  const spool = await Spool.open({ dir, maxBytes: 64 * 1024 * 1024, logger: silent });
  cleanups.push(async () => {
    await spool.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { spool, dir };
}

async function append(spool: Spool, records: SpoolRecord[]): Promise<void> {
  await spool.append(records.map((r) => Buffer.from(JSON.stringify(r))));
}

async function startBridge(spool: Spool, broker: Mosquitto, opts: Partial<UpstreamBridgeOptions> = {}): Promise<UpstreamBridge> {
  const bridge = new UpstreamBridge({
    url: broker.url,
    clientId: 'gw-ward-7',
    wardId: 'ward-7',
    reader: await spool.reader('bridge'),
    logger: silent,
    minBackoffMs: 50,
    maxBackoffMs: 300,
    publishTimeoutMs: 3000,
    connectTimeoutMs: 2000,
    ...opts,
  });
  cleanups.push(() => bridge.stop());
  await bridge.start();
  return bridge;
}

/** A hospital-side consumer: persistent session (clean=false, fixed id), QoS 1, auto-reconnect. */
async function subscribe(broker: Mosquitto, filter = `${PREFIX}/#`): Promise<{ client: MqttClient; got: Received[] }> {
  const got: Received[] = [];
  const client = mqtt.connect(broker.url, { clientId: 'hospital-consumer', clean: false, reconnectPeriod: 100, protocolVersion: 4 });
  client.on('error', () => undefined);
  client.on('message', (topic, payload) => got.push({ topic, payload: payload.toString('utf8') }));
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    setTimeout(() => reject(new Error('subscriber could not connect')), 5000).unref();
  });
  await client.subscribeAsync(filter, { qos: 1 });
  cleanups.push(() => client.endAsync(true));
  return { client, got };
}

/** A private CA and a server certificate for 127.0.0.1, made with openssl in `dir`. */
function makeCertificates(dir: string): { ca: string; cert: string; key: string } {
  const f = (name: string): string => join(dir, name);
  const openssl = (...args: string[]): void => void execFileSync('openssl', args, { stdio: 'ignore' });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=Test Hospital CA', '-keyout', f('ca.key'), '-out', f('ca.crt'));
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', f('server.key'), '-out', f('server.csr'));
  execFileSync('sh', ['-c', `printf 'subjectAltName=IP:127.0.0.1\n' > '${f('san.ext')}'`]);
  openssl('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', f('san.ext'), '-out', f('server.crt'));
  return { ca: f('ca.crt'), cert: f('server.crt'), key: f('server.key') };
}

const seqs = (got: Received[]): number[] => got.map((m) => (JSON.parse(m.payload) as { seq: number }).seq);

describe('upstream bridge (real Mosquitto, real spool)', () => {
  it('forwards alarms, technical events and observations on their topics, in order, and commits the cursor', async () => {
    const broker = await startMosquitto();
    cleanups.push(() => broker.dispose());
    const { got } = await subscribe(broker);
    const { spool } = await openSpool();
    await append(spool, [alarm(1), obs(2), tech(3), obs(4, { patientId: undefined, ward: undefined, bed: undefined, deviceId: 'ox/9+' }), alarm(5, { state: 'acknowledged', by: 'nurse-a' })]);
    const bridge = await startBridge(spool, broker, { forward: { observations: true } });
    await until(() => got.length >= 5, '5 messages upstream');
    await until(() => bridge.stats().lagRecords === 0, 'cursor committed');

    expect(got.map((m) => m.topic)).toEqual([
      `${PREFIX}/alarms/ward-7/1`,
      `${PREFIX}/obs/P-1001/hr`,
      `${PREFIX}/tech/device:ox-02/sensor_off`,
      `${PREFIX}/obs/device:ox%2F9%2B/hr`,
      `${PREFIX}/alarms/ward-7/1`,
    ]);
    expect(seqs(got)).toEqual([1, 2, 3, 4, 5]);
    const first = JSON.parse(got[0]!.payload) as Record<string, unknown>;
    expect(first).toEqual({ v: 1, gateway: 'gw-ward-7', seq: 1, type: 'alarm', alarm: (alarm(1) as { a: AlarmTransition }).a });
    expect((JSON.parse(got[4]!.payload) as { alarm: AlarmTransition }).alarm).toMatchObject({ state: 'acknowledged', by: 'nurse-a' });
    expect(bridge.stats()).toMatchObject({ connected: true, published: 5, skipped: 0, unencodable: 0, lagRecords: 0 });
  });

  it('leaves observations out by default but still moves the cursor past them', async () => {
    const broker = await startMosquitto();
    cleanups.push(() => broker.dispose());
    const { got } = await subscribe(broker);
    const { spool } = await openSpool();
    const bridge = await startBridge(spool, broker);
    await append(spool, [obs(1), obs(2), alarm(3), obs(4)]);
    await spool.append([Buffer.from('not json')]);
    await until(() => bridge.stats().lagRecords === 0 && got.length >= 1, 'cursor past every record');
    expect(got.map((m) => m.topic)).toEqual([`${PREFIX}/alarms/ward-7/1`]);
    expect(bridge.stats()).toMatchObject({ published: 1, skipped: 3, unencodable: 1 });
  });

  it('holds everything in the spool while the broker is down and delivers it in order when it is back', async () => {
    const broker = await startMosquitto({ persistence: true });
    cleanups.push(() => broker.dispose());
    const { got } = await subscribe(broker);
    const { spool } = await openSpool();
    const bridge = await startBridge(spool, broker, { forward: { observations: true }, batchSize: 7 });
    const record = (i: number): SpoolRecord => (i % 5 === 0 ? alarm(i) : i % 7 === 0 ? tech(i) : obs(i));

    // A steady stream of records (one every 2 ms) runs through the whole outage, so the broker
    // goes away with publishes in flight. `appended` counts a record once its append is durable.
    let appended = 0;
    let streaming = true;
    const stream = (async () => {
      while (streaming) {
        await append(spool, [record(appended + 1)]);
        appended += 1;
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    cleanups.push(async () => {
      streaming = false;
      await stream;
    });

    await until(() => got.length >= 20, 'first 20 upstream');
    await broker.stop();
    // What the subscriber gets from now on (some may still be on their way) the broker had before
    // it stopped, so the spool held it by then: every record after `lastAtStop` came in the outage.
    const lastAtStop = spool.stats().lastSeq;
    await until(() => bridge.stats().failures > 0 && spool.stats().lastSeq >= lastAtStop + 50, 'bridge to notice the outage while records keep coming');
    // Nothing appended during the outage is committed or delivered: it waits in the spool.
    expect(Math.max(...seqs(got))).toBeLessThanOrEqual(lastAtStop);
    expect(bridge.stats().lagRecords).toBeGreaterThanOrEqual(spool.stats().lastSeq - lastAtStop);

    const receivedBeforeRestart = got.length;
    await broker.start();
    await until(() => got.length > receivedBeforeRestart + 20, 'delivery to resume');
    streaming = false;
    await stream;
    await until(() => bridge.stats().lagRecords === 0, 'backlog committed after the broker is back');
    await until(() => new Set(seqs(got)).size >= appended, `all ${appended} upstream`);
    const order = seqs(got);
    const firsts = order.filter((s, i) => order.indexOf(s) === i);
    expect(firsts).toEqual(Array.from({ length: appended }, (_, i) => i + 1));
    expect(bridge.stats().reconnects).toBeGreaterThanOrEqual(1);
  });

  it('resends what a hung broker never acknowledged once it is replaced', async () => {
    const broker = await startMosquitto({ persistence: true });
    cleanups.push(() => broker.dispose());
    const { got } = await subscribe(broker);
    const { spool } = await openSpool();
    const bridge = await startBridge(spool, broker, { forward: { observations: true }, publishTimeoutMs: 300 });
    await append(spool, Array.from({ length: 10 }, (_, i) => obs(i + 1)));
    await until(() => got.length >= 10 && bridge.stats().lagRecords === 0, 'first 10 upstream');

    // The broker hangs: the next records go out on the socket but no PUBACK comes back.
    broker.freeze();
    await append(spool, Array.from({ length: 10 }, (_, i) => obs(i + 11)));
    await until(() => bridge.stats().failures > 0, 'the bridge to give up on the PUBACKs');
    expect(bridge.stats().lagRecords).toBe(10);
    // It crashes without having acknowledged them, and comes back empty-handed.
    await broker.kill();
    await broker.start();
    await until(() => bridge.stats().lagRecords === 0 && new Set(seqs(got)).size >= 20, 'the unacknowledged 10 to be resent');
    const order = seqs(got);
    expect(order.filter((s, i) => order.indexOf(s) === i)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it('forwards over TLS when it trusts the broker CA, and forwards nothing when it does not', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vigil-bridge-tls-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const pki = makeCertificates(dir);
    const broker = await startMosquitto({ tls: { cert: pki.cert, key: pki.key } });
    cleanups.push(() => broker.dispose());
    const { got } = await subscribe(broker);
    const { spool } = await openSpool();
    await append(spool, [alarm(1), alarm(2)]);

    const untrusting = await startBridge(spool, broker, { url: broker.tlsUrl!, clientId: 'gw-untrusting' });
    await until(() => untrusting.stats().failures >= 2, 'TLS refusals');
    expect(untrusting.stats().lastError).toMatch(/certificate/i);
    expect(untrusting.stats()).toMatchObject({ connected: false, published: 0, lagRecords: 2 });
    await untrusting.stop();

    const trusting = await startBridge(spool, broker, { url: broker.tlsUrl!, clientId: 'gw-trusting', ca: pki.ca });
    await until(() => got.length >= 2 && trusting.stats().lagRecords === 0, 'alarms over TLS');
    expect(seqs(got)).toEqual([1, 2]);
  });

  it('resumes from its cursor after a restart without resending what was acknowledged', async () => {
    const broker = await startMosquitto();
    cleanups.push(() => broker.dispose());
    const { got } = await subscribe(broker);
    const { spool } = await openSpool();
    const first = await startBridge(spool, broker);
    await append(spool, Array.from({ length: 10 }, (_, i) => alarm(i + 1)));
    await until(() => first.stats().lagRecords === 0, 'first 10 committed');
    await first.stop();

    await append(spool, Array.from({ length: 5 }, (_, i) => alarm(i + 11)));
    const second = await startBridge(spool, broker);
    await until(() => got.length >= 15 && second.stats().lagRecords === 0, '15 upstream');
    expect(seqs(got)).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
  });

  it('publishes FHIR and HL7 payloads when asked', async () => {
    const broker = await startMosquitto();
    cleanups.push(() => broker.dispose());
    const { got } = await subscribe(broker, 'fhir/#');
    const { got: hl7 } = await (async () => {
      const out: Received[] = [];
      const c = mqtt.connect(broker.url, { clientId: 'hl7-consumer', protocolVersion: 4, reconnectPeriod: 0 });
      c.on('message', (topic, payload) => out.push({ topic, payload: payload.toString('utf8') }));
      await new Promise<void>((r) => c.once('connect', () => r()));
      await c.subscribeAsync('hl7/#', { qos: 1 });
      cleanups.push(() => c.endAsync(true));
      return { got: out };
    })();
    const { spool } = await openSpool();
    await append(spool, [obs(1, { metric: 'spo2', value: 97, unit: '%' }), alarm(2)]);
    await startBridge(spool, broker, { clientId: 'gw-fhir', topicPrefix: 'fhir/{wardId}', format: 'fhir', forward: { observations: true } });
    const reader2 = await spool.reader('bridge-hl7');
    const hl7Bridge = new UpstreamBridge({ url: broker.url, clientId: 'gw-hl7', wardId: 'ward-7', topicPrefix: 'hl7/{wardId}', format: 'hl7', forward: { observations: true }, reader: reader2, logger: silent, minBackoffMs: 50 });
    cleanups.push(() => hl7Bridge.stop());
    await hl7Bridge.start();
    await until(() => got.length >= 2 && hl7.length >= 2, 'FHIR and HL7 messages');

    const observation = JSON.parse(got[0]!.payload) as { resourceType: string; code: { coding: Array<{ code: string }> }; valueQuantity: { value: number; code: string } };
    expect(got[0]!.topic).toBe('fhir/ward-7/obs/P-1001/spo2');
    expect(observation.resourceType).toBe('Observation');
    expect(observation.code.coding.map((c) => c.code)).toEqual(['2708-6', '59408-5', '150456']);
    expect(observation.valueQuantity).toMatchObject({ value: 97, code: '%' });
    expect((JSON.parse(got[1]!.payload) as { resourceType: string; status: string }).resourceType).toBe('Flag');

    const [msh, , , , obx] = hl7[0]!.payload.split('\r');
    expect(msh).toMatch(/^MSH\|\^~\\&\|VIGIL\|gw-hl7\|.*\|ORU\^R01\^ORU_R01\|gw-hl7-1\|P\|2\.6\|/);
    expect(obx).toMatch(/^OBX\|1\|NM\|150456\^MDC_PULS_OXIM_SAT_O2\^MDC\|1\.1\.1\.1\|97\|262688\^MDC_DIM_PERCENT\^MDC\^%\^%\^UCUM\|/);
    expect(hl7[1]!.payload).toMatch(/^MSH\|.*\|ORU\^R40\^ORU_R40\|gw-hl7-2\|/);
  });
});
