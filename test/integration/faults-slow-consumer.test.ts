/**
 * Fault: a nurse-call consumer subscribed to the alarm topics stops reading its socket (a hung
 * integration) while alarms keep coming. Device data must still be acknowledged meanwhile, and
 * when the consumer wakes up and a backlog of thousands of messages drains at once, the broker
 * must survive it and deliver everything. (aedes' message emitter used to queue every publish
 * behind 100 stuck deliveries and then drain the queue recursively, overflowing the stack.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type Socket } from 'node:net';
import mqttPacket from 'mqtt-packet';
import pino from 'pino';
import { MqttBroker, type BrokerDevice } from '../../src/broker/broker.js';
import { Counters } from '../../src/core/counters.js';
import type { AcceptDone, Ingest } from '../../src/ingest/ingest.js';
import { findProfile } from '../../devices/registry.js';
import { LeanConnection } from '../../src/bench/lean-mqtt.js';
import { validateConfig } from '../../src/config/load.js';
import { until } from '../support/wait.js';

const BIG = 60_000;
const STUCK = 400;
const BURST = 20_000;

let broker: MqttBroker | undefined;
let sock: Socket | undefined;
let device: LeanConnection | undefined;
afterEach(async () => {
  device?.end(true);
  sock?.destroy();
  await broker?.stop();
  broker = sock = device = undefined;
});

describe('fault: an alarm consumer that stops reading', () => {
  it('does not hold up device data, and its backlog drains without harm', async () => {
    let stored = 0;
    const ingest = { acceptThen: (_f: unknown, _p: unknown, _t: unknown, done: AcceptDone) => setImmediate(() => done(null, { accepted: true, records: ++stored })) } as unknown as Ingest;
    const devices = new Map<string, BrokerDevice>([['wb-1', { id: 'wb-1', profile: findProfile('json-v1')!, secret: 'wb-1-secret-value', trustDeviceTime: false }]]);
    const consumers = new Map([['nurse-call', { id: 'nurse-call', secret: 'nurse-call-secret', topics: ['vigil/v1/alarms/#'] }]]);
    const b = (broker = new MqttBroker({ host: '127.0.0.1', port: 0, maxPacketBytes: 16_384, rate: { messagesPerSecond: 1000, burst: 1000 }, limits: validateConfig({}).mqtt.limits, devices, consumers, ingest, counters: new Counters(), logger: pino({ level: 'silent' }) }));
    await b.start();
    const port = b.addresses.tcp!;

    // The consumer: connect, subscribe at QoS 1, then stop reading.
    const s = (sock = connect({ host: '127.0.0.1', port }));
    let received = Buffer.alloc(0);
    const subscribed = new Promise<void>((resolve) => {
      s.on('data', (c: Buffer) => {
        received = Buffer.concat([received, c]);
        if (received.includes(Buffer.from([0x90, 0x03, 0x00, 0x01]))) resolve(); // SUBACK for id 1
      });
    });
    await new Promise<void>((r) => s.once('connect', () => r()));
    s.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: 'nurse-call', keepalive: 0, username: 'nurse-call', password: Buffer.from('nurse-call-secret') }));
    s.write(mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'vigil/v1/alarms/#', qos: 1 }] }));
    await subscribed;
    s.removeAllListeners('data');
    s.pause();
    let bytes = 0;

    // Enough large alarms to fill the socket buffers: the rest wait for a drain that does not come.
    const big = Array.from({ length: STUCK }, (_, i) => b.publish(`vigil/v1/alarms/w1/${i}`, Buffer.alloc(BIG, 0x61), { qos: 1 }));
    // Then a burst of small ones, as a busy ward would produce.
    const burst = Array.from({ length: BURST }, (_, i) => b.publish(`vigil/v1/alarms/w1/${i % 50}`, `{"n":${i}}`, { qos: 1 }));

    // Meanwhile a device's data is still acknowledged.
    device = new LeanConnection({ host: '127.0.0.1', port, clientId: 'wb-1', username: 'wb-1', password: 'wb-1-secret-value' });
    await device.connect();
    const acks = await Promise.all(Array.from({ length: 20 }, () => new Promise<boolean>((resolve) => device!.publish('vigil/v1/dev/wb-1/obs', Buffer.from('{"obs":{"hr":70}}'), (err) => resolve(!err)))));
    expect(acks.filter(Boolean)).toHaveLength(20);
    expect(stored).toBe(20);

    // The consumer wakes up: everything drains, and the broker is still there.
    s.on('data', (c: Buffer) => void (bytes += c.length));
    s.resume();
    await Promise.all([...big, ...burst]);
    // Handed to the consumer's connection; the last bytes may still be on their way.
    await until(() => bytes > STUCK * BIG, 'the backlog to reach the consumer');
    expect(b.connectedClients).toBe(2);
  }, 60_000);
});
