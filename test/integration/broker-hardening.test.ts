/**
 * The broker against hostile clients, tried from outside: a real gateway process, real MQTT
 * clients over TCP (mqtt.js, and a bare client for what a library would not send). A session is
 * an account's and a client id: a session and its queued QoS 1 messages never pass to another
 * account, no client id held by one account locks another out of it, a client id that is an
 * account's name is that account's alone, and a session's queue is bounded, the oldest giving way;
 * rate and connection limits belong to the device, not the connection; a QoS 2 retransmission
 * is stored once; device timestamps are checked against the calendar; failed authentications
 * are throttled before they cost a scrypt each.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { RawMqtt } from '../support/raw-mqtt.js';
import mqttPacket from 'mqtt-packet';
import { until } from '../support/wait.js';
import { hashSecret } from '../../src/broker/secrets.js';

const secret = (id: string): string => `${id}-secret-value`;

/** Connects; resolves with the client and the CONNACK's session present flag, rejects on a refusal. */
function connectSession(url: string, o: mqtt.IClientOptions): Promise<{ client: mqtt.MqttClient; sessionPresent: boolean }> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, o);
    client.once('connect', (connack) => resolve({ client, sessionPresent: connack.sessionPresent }));
    client.once('error', (err) => {
      client.end(true);
      reject(err);
    });
  });
}

/** Publishes QoS 1; resolves with the PUBACK, or with the connection closing instead. */
function publishOrClose(c: mqtt.MqttClient, topic: string, payload: string): Promise<'acked' | 'closed'> {
  if (!c.connected) return Promise.resolve('closed');
  return new Promise((resolve) => {
    const closed = () => resolve('closed');
    c.once('close', closed);
    c.publish(topic, payload, { qos: 1 }, (err) => {
      c.off('close', closed);
      resolve(err ? 'closed' : 'acked');
    });
  });
}

describe('accounts, sessions, rates and QoS 2', () => {
  let gw: GatewayProcess;
  let url: string;
  const opts = (account: string, extra: mqtt.IClientOptions = {}): mqtt.IClientOptions => ({ username: account, password: secret(account), reconnectPeriod: 0, connectTimeout: 10_000, ...extra });

  beforeAll(async () => {
    const ids = ['wb-01', 'wb-02', 'wb-03', 'wb-04', 'wb-06', 'wb-07', 'wb-08', 'wb-09', 'wb-10'];
    gw = await startGatewayProcess({
      config: {
        mqtt: {
          // A refill far slower than the test: what a device may send is exactly its burst.
          rate: { messagesPerSecond: 0.001, burst: 10 },
          // as many as the first test queues for its consumer; the queue test sends more
          limits: { queuedPerSession: 4 },
          consumers: [{ id: 'nurse-call', secret: secret('nurse-call'), topics: ['vigil/v1/dev/wb-01/obs', 'vigil/v1/dev/wb-07/obs', 'vigil/v1/alarms/#'] }],
        },
        devices: ids.map((id) => ({ id, secret: secret(id), ...(id === 'wb-06' ? { trustDeviceTime: true } : {}) })),
        census: { wards: [{ id: 'w1', beds: ids }], patients: ids.map((id) => ({ id: `P-${id}`, ward: 'w1', bed: id, devices: [id] })) },
      },
    });
    url = `mqtt://127.0.0.1:${gw.mqttPort}`;
  }, 60_000);

  afterAll(async () => {
    await gw?.stop();
    await gw?.cleanup();
  });

  /** Observations stored so far from MQTT. */
  const stored = () => gw.metric('vigil_observations_total', { transport: 'mqtt' });

  /** A QoS 2 PUBLISH that has had its PUBREC, taken through PUBREL to its PUBCOMP. */
  async function release(c: RawMqtt, messageId: number): Promise<void> {
    await c.next('pubrec', messageId);
    c.send({ cmd: 'pubrel', messageId });
    await c.next('pubcomp', messageId);
  }

  it("another account presenting a client id gets a session of its own: the owner is not kicked off and keeps its session and queued QoS 1 messages", async () => {
    const reserved = () => gw.metric('vigil_mqtt_connections_refused_total', { reason: 'client_id_reserved' });
    const before = await reserved();
    // The nurse-call consumer keeps a persistent session, then goes away.
    const consumer = await mqtt.connectAsync(url, opts('nurse-call', { clientId: 'nurse-call-1', clean: false }));
    await consumer.subscribeAsync('vigil/v1/dev/wb-01/obs', { qos: 1 });
    await consumer.endAsync();
    // Three QoS 1 messages are queued for it while it is away.
    const device = await mqtt.connectAsync(url, opts('wb-01', { clientId: 'wb-01' }));
    for (const hr of [61, 62, 63]) await device.publishAsync('vigil/v1/dev/wb-01/obs', JSON.stringify({ obs: { hr } }), { qos: 1 });

    // Another device presents the consumer's client id: it gets a new session, nothing of the consumer's.
    const other = await connectSession(url, opts('wb-02', { clientId: 'nurse-call-1', clean: false }));
    expect(other.sessionPresent).toBe(false);
    await other.client.endAsync();
    // The first device's own client id is the name of an account: refused, and the device stays connected.
    await expect(mqtt.connectAsync(url, opts('wb-02', { clientId: 'wb-01' }))).rejects.toThrow(/Identifier rejected/);
    expect(device.connected).toBe(true);
    await device.publishAsync('vigil/v1/dev/wb-01/obs', JSON.stringify({ obs: { hr: 64 } }), { qos: 1 });
    expect((await reserved()) - before).toBe(1);

    // The consumer comes back to its session: every queued message is there, in order.
    const got: number[] = [];
    const back = mqtt.connect(url, opts('nurse-call', { clientId: 'nurse-call-1', clean: false }));
    back.on('message', (_t, payload) => got.push((JSON.parse(payload.toString()) as { obs: { hr: number } }).obs.hr));
    await until(() => got.length >= 4, 'the queued messages and the new one');
    expect(got).toEqual([61, 62, 63, 64]);
    await back.endAsync();
    await device.endAsync();
  });

  it("a client id that is an account's name is refused to every other account, held or not, counted and logged; the account itself always gets it", async () => {
    const reserved = () => gw.metric('vigil_mqtt_connections_refused_total', { reason: 'client_id_reserved' });
    const before = await reserved();
    // The consumer's name, with a persistent session, before the consumer ever connected; a device's id with a clean one.
    await expect(mqtt.connectAsync(url, opts('wb-02', { clientId: 'nurse-call', clean: false }))).rejects.toThrow(/Identifier rejected/);
    await expect(mqtt.connectAsync(url, opts('nurse-call', { clientId: 'wb-07' }))).rejects.toThrow(/Identifier rejected/);
    expect((await reserved()) - before).toBe(2);
    const logged = await gw.waitForLog((l) => l.reason === 'client_id_reserved' && l.account === 'wb-02' && l.clientId === 'nurse-call');
    expect(logged.remote).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(logged.level).toBe(40); // warn

    // The nurse-call consumer connects with its own name and gets what is published.
    const consumer = await connectSession(url, opts('nurse-call', { clientId: 'nurse-call', clean: false }));
    expect(consumer.sessionPresent).toBe(false);
    await consumer.client.subscribeAsync('vigil/v1/dev/wb-01/obs', { qos: 1 });
    const got: number[] = [];
    consumer.client.on('message', (_t, payload) => got.push((JSON.parse(payload.toString()) as { obs: { hr: number } }).obs.hr));
    const device = await mqtt.connectAsync(url, opts('wb-01', { clientId: 'wb-01' }));
    await device.publishAsync('vigil/v1/dev/wb-01/obs', JSON.stringify({ obs: { hr: 65 } }), { qos: 1 });
    await until(() => got.length >= 1, 'the message, at the consumer');
    expect(got).toEqual([65]);
    await consumer.client.endAsync();
    await device.endAsync();
    // Away, the consumer's session is still its own; a squatter's attempt meanwhile changes nothing.
    await expect(mqtt.connectAsync(url, opts('wb-02', { clientId: 'nurse-call', clean: false }))).rejects.toThrow(/Identifier rejected/);
    const again = await connectSession(url, opts('nurse-call', { clientId: 'nurse-call', clean: false }));
    expect(again.sessionPresent).toBe(true);
    await again.client.endAsync();
  });

  it('no client id held by one account locks another out of it: a persistent session taken first, then the real client, then the first again', async () => {
    // A device takes a persistent session with the client id the pager will use, subscribes, and goes away.
    const squatter = await mqtt.connectAsync(url, opts('wb-02', { clientId: 'pager-7', clean: false }));
    await squatter.subscribeAsync('vigil/v1/dev/wb-02/#', { qos: 1 });
    await squatter.endAsync();
    // The pager (the nurse-call account) connects with that client id: accepted, with a session of its own.
    const pager = await connectSession(url, opts('nurse-call', { clientId: 'pager-7', clean: false }));
    expect(pager.sessionPresent).toBe(false);
    await pager.client.subscribeAsync('vigil/v1/dev/wb-01/obs', { qos: 1 });
    const got: number[] = [];
    pager.client.on('message', (_t, payload) => got.push((JSON.parse(payload.toString()) as { obs: { hr: number } }).obs.hr));
    // The device comes back to its own session, and does not take the pager's connection over.
    const back = await connectSession(url, opts('wb-02', { clientId: 'pager-7', clean: false }));
    expect(back.sessionPresent).toBe(true);
    const device = await mqtt.connectAsync(url, opts('wb-01', { clientId: 'wb-01' }));
    await device.publishAsync('vigil/v1/dev/wb-01/obs', JSON.stringify({ obs: { hr: 66 } }), { qos: 1 });
    await until(() => got.length >= 1, 'the message, at the pager');
    expect(got).toEqual([66]);
    expect(pager.client.connected).toBe(true);
    expect(await gw.metric('vigil_mqtt_connections_refused_total', { reason: 'client_id_taken' })).toBe(0);
    await Promise.all([pager.client.endAsync(), back.client.endAsync(), device.endAsync()]);
  });

  it("a persistent session's queue keeps the newest mqtt.limits.queuedPerSession messages, counting and logging each one dropped", async () => {
    const consumer = await mqtt.connectAsync(url, opts('nurse-call', { clientId: 'nurse-call-2', clean: false }));
    await consumer.subscribeAsync('vigil/v1/dev/wb-07/obs', { qos: 1 });
    await consumer.endAsync();
    // seven QoS 1 messages while it is away, where four may be kept
    const device = await mqtt.connectAsync(url, opts('wb-07', { clientId: 'wb-07' }));
    for (let hr = 71; hr <= 77; hr++) await device.publishAsync('vigil/v1/dev/wb-07/obs', JSON.stringify({ obs: { hr } }), { qos: 1 });
    expect(await gw.metric('vigil_messages_rejected_total', { reason: 'session_queue_full' })).toBe(3);
    await gw.waitForLog((l) => l.clientId === 'nurse-call-2' && l.limit === 4 && /mqtt.limits.queuedPerSession/.test(l.msg));

    // it comes back to the newest four, in order, and to what is sent after
    const got: number[] = [];
    const back = mqtt.connect(url, opts('nurse-call', { clientId: 'nurse-call-2', clean: false }));
    back.on('message', (_t, payload) => got.push((JSON.parse(payload.toString()) as { obs: { hr: number } }).obs.hr));
    await until(() => got.length >= 4, 'the queued messages');
    await device.publishAsync('vigil/v1/dev/wb-07/obs', JSON.stringify({ obs: { hr: 78 } }), { qos: 1 });
    await until(() => got.length >= 5, 'the message sent after');
    expect(got).toEqual([74, 75, 76, 77, 78]);
    expect(await gw.metric('vigil_messages_rejected_total', { reason: 'session_queue_full' })).toBe(3);
    await back.endAsync();
    await device.endAsync();
  });

  it("a device's rate budget and connection count are the device's, not each connection's", async () => {
    const conns: mqtt.MqttClient[] = [];
    for (let i = 0; i < 4; i++) conns.push(await mqtt.connectAsync(url, opts('wb-03', { clientId: `wb-03-${i}` })));
    // mqtt.limits.connectionsPerAccount (4): a fifth connection is refused.
    await expect(mqtt.connectAsync(url, opts('wb-03', { clientId: 'wb-03-4' }))).rejects.toThrow(/Server unavailable/);
    expect(await gw.metric('vigil_mqtt_connections_refused_total', { reason: 'account_connections' })).toBe(1);
    // Every connection tries twice the device's burst; together they get the burst once.
    const acked = await Promise.all(
      conns.map(async (c) => {
        let n = 0;
        while (n < 20 && (await publishOrClose(c, 'vigil/v1/dev/wb-03/obs', JSON.stringify({ obs: { hr: 70 } }))) === 'acked') n++;
        return n;
      }),
    );
    expect(acked.reduce((a, b) => a + b, 0)).toBe(10);
    expect(await gw.metric('vigil_messages_rejected_total', { reason: 'rate_limited' })).toBeGreaterThanOrEqual(1);
    await Promise.all(conns.map((c) => c.endAsync(true)));
  });

  it('a device disconnected for going over its rate first gets the PUBACK of every message stored before', async () => {
    const before = await stored();
    const { client, returnCode } = await RawMqtt.connect(gw.mqttPort, { clientId: 'wb-08', username: 'wb-08', password: secret('wb-08') });
    expect(returnCode).toBe(0);
    // twelve at once against a burst of ten: ten stored, the eleventh refused and the connection closed
    const burst = Array.from({ length: 12 }, (_, i) => mqttPacket.generate({ cmd: 'publish', topic: 'vigil/v1/dev/wb-08/obs', payload: JSON.stringify({ obs: { hr: 60 + i } }), qos: 1, messageId: i + 1, dup: false, retain: false }));
    client.write(Buffer.concat(burst));
    await client.waitClosed();
    expect((await stored()) - before).toBe(10);
    // every stored message was acknowledged: the device resends none of them
    expect(client.received.filter((p) => p.cmd === 'puback').map((p) => (p as { messageId: number }).messageId)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it.each([
    ['a PUBLISH before CONNECT', 'protocol_violation', async (c: RawMqtt) => c.send({ cmd: 'publish', topic: 'vigil/v1/dev/wb-07/obs', payload: Buffer.from('{"obs":{"hr":70}}'), qos: 0, retain: false, dup: false })],
    ['a second CONNECT', 'protocol_violation', async (c: RawMqtt) => {
      c.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: 'wb-07', keepalive: 0, username: 'wb-07', password: Buffer.from(secret('wb-07')) });
      await c.next('connack');
      c.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: 'wb-07', keepalive: 0, username: 'wb-07', password: Buffer.from(secret('wb-07')) });
    }],
    ['a packet of a reserved type (0)', 'malformed_packet', async (c: RawMqtt) => c.write(Buffer.from([0x00, 0x00]))],
  ])('%s: the connection is closed, counted and logged with its address', async (_what, reason, act) => {
    const before = await gw.metric('vigil_messages_rejected_total', { reason });
    const c = await RawMqtt.open(gw.mqttPort);
    await act(c);
    await c.waitClosed();
    await expect.poll(() => gw.metric('vigil_messages_rejected_total', { reason })).toBe(before + 1);
    await gw.waitForLog((l) => l.reason === reason && /^MQTT connection closed/.test(l.msg) && /^127\.0\.0\.1:\d+$/.test(String(l.remote)));
  });

  it('a QoS 2 message retransmitted before PUBREL is stored once, also across a reconnect of a persistent session', async () => {
    const topic = 'vigil/v1/dev/wb-04/obs';
    const publish = (messageId: number, dup: boolean, hr: number) => ({ cmd: 'publish' as const, topic, payload: JSON.stringify({ obs: { hr } }), qos: 2 as const, messageId, dup, retain: false });
    const before = await stored();

    const { client: a, returnCode } = await RawMqtt.connect(gw.mqttPort, { clientId: 'wb-04-a', username: 'wb-04', password: secret('wb-04') });
    expect(returnCode).toBe(0);
    a.send(publish(7, false, 71));
    await a.next('pubrec', 7);
    a.send(publish(7, true, 71));
    await release(a, 7);
    // After PUBREL the packet id is free: a new message with it is a new message.
    a.send(publish(7, false, 72));
    await release(a, 7);
    a.end();
    expect((await stored()) - before).toBe(2);

    // A persistent session: the PUBLISH is stored, the connection drops before PUBREL, the
    // device reconnects and resends it with DUP [MQTT-4.4.0-1].
    const first = await RawMqtt.connect(gw.mqttPort, { clientId: 'wb-04-b', username: 'wb-04', password: secret('wb-04'), clean: false });
    first.client.send(publish(9, false, 73));
    await first.client.next('pubrec', 9);
    first.client.end();
    await until(() => first.client.closed, 'the first connection closed');
    const again = await RawMqtt.connect(gw.mqttPort, { clientId: 'wb-04-b', username: 'wb-04', password: secret('wb-04'), clean: false });
    expect(again.returnCode).toBe(0);
    again.client.send(publish(9, true, 73));
    await release(again.client, 9);
    again.client.end();

    expect((await stored()) - before).toBe(3);
    expect(await gw.metric('vigil_messages_rejected_total', { reason: 'duplicate_qos2' })).toBe(2);
  });

  it('a PUBREL sent with its PUBLISH, before the PUBREC, does not leave the packet id taken: the next message with it is stored', async () => {
    const topic = 'vigil/v1/dev/wb-07/obs';
    const before = await stored();
    const { client, returnCode } = await RawMqtt.connect(gw.mqttPort, { clientId: 'wb-07-q2', username: 'wb-07', password: secret('wb-07') });
    expect(returnCode).toBe(0);
    const publish = mqttPacket.generate({ cmd: 'publish', topic, payload: JSON.stringify({ obs: { hr: 81 } }), qos: 2, messageId: 9, dup: false, retain: false });
    client.write(Buffer.concat([publish, mqttPacket.generate({ cmd: 'pubrel', messageId: 9 })]));
    await client.next('pubrec', 9);
    await client.next('pubcomp', 9);
    await expect.poll(async () => (await stored()) - before).toBe(1);
    // a new message with the same packet id, in order
    client.send({ cmd: 'publish', topic, payload: JSON.stringify({ obs: { hr: 82 } }), qos: 2, messageId: 9, dup: false, retain: false });
    await release(client, 9);
    client.end();
    expect((await stored()) - before).toBe(2);
  });

  it("a clean session starts without the QoS 2 packet ids the session before held: the device's next message with one is stored", async () => {
    const topic = 'vigil/v1/dev/wb-09/obs';
    const publish = (hr: number) => ({ cmd: 'publish' as const, topic, payload: JSON.stringify({ obs: { hr } }), qos: 2 as const, messageId: 7, dup: false, retain: false });
    const before = await stored();
    const first = await RawMqtt.connect(gw.mqttPort, { clientId: 'wb-09-fw', username: 'wb-09', password: secret('wb-09'), clean: false });
    first.client.send(publish(71));
    await first.client.next('pubrec', 7);
    first.client.end(); // rebooted before its PUBREL
    await first.client.waitClosed();
    const again = await RawMqtt.connect(gw.mqttPort, { clientId: 'wb-09-fw', username: 'wb-09', password: secret('wb-09'), clean: true });
    again.client.send(publish(133));
    await release(again.client, 7);
    again.client.end();
    expect((await stored()) - before).toBe(2);
  });

  it('a PUBREL resent in the same write as the CONNECT frees its packet id in the session: the next message with it is stored', async () => {
    const topic = 'vigil/v1/dev/wb-09/obs';
    const publish = (hr: number) => ({ cmd: 'publish' as const, topic, payload: JSON.stringify({ obs: { hr } }), qos: 2 as const, messageId: 9, dup: false, retain: false });
    const before = await stored();
    const first = await RawMqtt.connect(gw.mqttPort, { clientId: 'wb-09-b', username: 'wb-09', password: secret('wb-09'), clean: false });
    first.client.send(publish(72));
    await first.client.next('pubrec', 9);
    first.client.end();
    await first.client.waitClosed();
    const again = await RawMqtt.open(gw.mqttPort);
    again.write(
      Buffer.concat([
        mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: false, clientId: 'wb-09-b', keepalive: 0, username: 'wb-09', password: Buffer.from(secret('wb-09')) }),
        mqttPacket.generate({ cmd: 'pubrel', messageId: 9 }),
      ]),
    );
    await again.next('connack');
    await again.next('pubcomp', 9);
    again.send(publish(134));
    await release(again, 9);
    again.end();
    expect((await stored()) - before).toBe(2);
  });

  it("a device's will is not published when it goes away: not stored as a reading, not sent to subscribers", async () => {
    const before = await stored();
    const c = await mqtt.connectAsync(url, opts('wb-10', { clientId: 'wb-10', will: { topic: 'vigil/v1/dev/wb-10/obs', payload: Buffer.from('{"obs":{"hr":88,"spo2":99}}'), qos: 1, retain: false } }));
    await c.publishAsync('vigil/v1/dev/wb-10/obs', '{"obs":{"hr":55}}', { qos: 1 });
    c.stream.destroy(); // the connection is lost, not closed with a DISCONNECT
    await expect.poll(() => gw.metric('vigil_messages_rejected_total', { reason: 'will_ignored' })).toBe(1);
    expect((await stored()) - before).toBe(1);
    await c.endAsync(true);
  });

  it('device timestamps: impossible dates and years out of range are refused, not rolled over or stored', async () => {
    const client = await mqtt.connectAsync(url, opts('wb-06'));
    const before = await stored();
    for (const ts of ['2026-02-30T10:00:00Z', '0001-01-01T00:00:00Z', '2026-04-31T23:59:59+02:00']) {
      // Acknowledged (so the device does not resend it forever), dropped, counted.
      await client.publishAsync('vigil/v1/dev/wb-06/obs', JSON.stringify({ ts, obs: { hr: 70 } }), { qos: 1 });
    }
    await client.publishAsync('vigil/v1/dev/wb-06/obs', JSON.stringify({ ts: new Date().toISOString(), obs: { hr: 70 } }), { qos: 1 });
    await client.endAsync();
    expect(await gw.metric('vigil_messages_rejected_total', { reason: 'bad_timestamp' })).toBe(3);
    expect((await stored()) - before).toBe(1);
    await gw.waitForLog((l) => l.reason === 'bad_timestamp' && /has no day 30/.test(l.msg));
  });
});

describe('failed authentications are throttled per address before they cost a scrypt each', () => {
  let gw: GatewayProcess;
  let url: string;

  beforeAll(async () => {
    gw = await startGatewayProcess({
      config: {
        // Defaults: mqtt.limits.authFailuresPerAddress 20 within 60 s, maxConcurrentAuthChecks 2.
        devices: await Promise.all(['wb-known', 'wb-target', 'wb-new'].map(async (id) => ({ id, secretHash: await hashSecret(secret(id)) }))),
      },
    });
    url = `mqtt://127.0.0.1:${gw.mqttPort}`;
  }, 60_000);

  afterAll(async () => {
    await gw?.stop();
    await gw?.cleanup();
  });

  it('40 concurrent wrong secrets from one address: at most the limit (plus the checks running at once) are hashed, the rest refused unchecked', async () => {
    const known = await mqtt.connectAsync(url, { username: 'wb-known', password: secret('wb-known'), reconnectPeriod: 0 });
    await known.endAsync();
    const results = await Promise.allSettled(Array.from({ length: 40 }, (_, i) => mqtt.connectAsync(url, { username: 'wb-target', password: `guess-${i}-of-the-secret`, reconnectPeriod: 0, connectTimeout: 30_000 })));
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    const hashed = await gw.metric('vigil_mqtt_connections_refused_total', { reason: 'bad_secret' });
    const throttled = await gw.metric('vigil_mqtt_connections_refused_total', { reason: 'throttled' });
    expect(hashed + throttled).toBe(40);
    expect(hashed).toBeGreaterThanOrEqual(20);
    // Each check sees the failures recorded before it started: overshoot is bounded by the checks at once.
    expect(hashed).toBeLessThanOrEqual(20 + 2 - 1);
    expect(await gw.metric('vigil_mqtt_auth_checks_peak')).toBeLessThanOrEqual(2);
    // A device whose secret was checked before costs no scrypt and is not refused.
    const again = await mqtt.connectAsync(url, { username: 'wb-known', password: secret('wb-known'), reconnectPeriod: 0 });
    await again.endAsync();
    // A device never seen from this address waits for the window, like the attacker.
    await expect(mqtt.connectAsync(url, { username: 'wb-new', password: secret('wb-new'), reconnectPeriod: 0 })).rejects.toThrow(/Server unavailable/);
    await gw.waitForLog((l) => l.reason === 'throttled' && /mqtt\.limits\.authFailuresPerAddress/.test(l.msg));
  });
});
