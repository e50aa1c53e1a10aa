/**
 * What slow and idle MQTT connections cost, measured on a real gateway process from outside:
 * N devices connect (keepalive 0, so nothing times them out) and each then sends a PUBLISH a
 * byte at a time; they hold at most the documented bytes (an idle connection's cost plus twice
 * the bytes received), where before they held one buffer per read (about 200× the bytes); the
 * gateway keeps serving another device meanwhile; connections per address are capped; all
 * connections together hold at most mqtt.limits.bufferedBytes. Default limits throughout.
 *
 * The gateway runs with a 1 MB young generation (`--max-semi-space-size=1`) so that the resident
 * size shows what is held, not garbage awaiting its next scavenge.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import mqtt from 'mqtt';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { until } from '../support/wait.js';
import { RawMqtt } from '../support/raw-mqtt.js';
import { deviceSecret, wardOf } from '../support/ward-config.js';

/** Slow connections (under the default 200 per address). */
const N = 150;
/** Bytes each sends, one at a time, of a PUBLISH declared 16,000 bytes long (under mqtt.maxPacketBytes). */
const SENT = 8000;
const ids = Array.from({ length: N }, (_, i) => `slow-${String(i).padStart(3, '0')}`);
/** The documented bound on what one idle connection costs (README, Security), bytes. */
const IDLE_CONNECTION_BYTES = 16 * 1024;
/** Room for the allocator and the process's own churn, bytes. */
const SLACK = 6 * 1024 * 1024;

function rss(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
}

/** An MQTT fixed header: `type` byte, then the remaining `length` as a varint ([MQTT-2.2.3]). */
function fixedHeader(type: number, length: number): Buffer {
  const bytes = [type];
  do {
    bytes.push((length % 128) | (length >= 128 ? 0x80 : 0));
    length = Math.floor(length / 128);
  } while (length > 0);
  return Buffer.from(bytes);
}

function open(port: number): Promise<Socket & { closedByServer: boolean }> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1') as Socket & { closedByServer: boolean };
    s.closedByServer = false;
    s.setNoDelay(true);
    s.on('close', () => (s.closedByServer = true));
    s.on('error', () => {});
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** Lets the event loop turn, so each byte leaves in its own segment. */
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('slow and idle connections', () => {
  let gw: GatewayProcess;
  const slow: RawMqtt[] = [];

  beforeAll(async () => {
    gw = await startGatewayProcess({
      config: { devices: [...wardOf(ids).devices, { id: 'wb-01', secret: deviceSecret('wb-01') }] },
      env: { NODE_OPTIONS: '--max-semi-space-size=1', VIGIL_LOG_LEVEL: 'warn' },
    });
  }, 60_000);

  afterAll(async () => {
    for (const c of slow) c.end();
    await gw?.stop();
    await gw?.cleanup();
  });

  it(`${N} connections sending a packet a byte at a time hold at most ${IDLE_CONNECTION_BYTES / 1024} KiB + 2 × the bytes received each, while a device is served`, async () => {
    const device = await mqtt.connectAsync(`mqtt://127.0.0.1:${gw.mqttPort}`, { username: 'wb-01', password: deviceSecret('wb-01'), reconnectPeriod: 0 });
    await device.publishAsync('vigil/v1/dev/wb-01/obs', JSON.stringify({ obs: { hr: 70 } }), { qos: 1 });
    const before = rss(gw.pid!);
    for (const id of ids) {
      const { client, returnCode } = await RawMqtt.connect(gw.mqttPort, { clientId: id, username: id, password: deviceSecret(id) });
      expect(returnCode).toBe(0);
      slow.push(client);
    }
    const bound = N * (IDLE_CONNECTION_BYTES + 2 * SENT) + SLACK;

    for (const c of slow) c.write(fixedHeader(0x32, 16_000));
    const one = Buffer.from([0x61]);
    let acked = 0;
    for (let b = 0; b < SENT; b++) {
      for (const c of slow) c.write(one);
      // The other device keeps publishing (well within its burst) and every message is acknowledged.
      if (b % 1000 === 0) {
        await device.publishAsync('vigil/v1/dev/wb-01/obs', JSON.stringify({ obs: { hr: 70 + (b % 20) } }), { qos: 1 });
        acked++;
      }
      await turn();
    }
    // Until every byte has arrived and is held (or the memory bound is passed, whichever is first).
    await expect
      .poll(async () => (await gw.metric('vigil_mqtt_buffered_bytes')) >= N * SENT || rss(gw.pid!) - before > bound, { timeout: 60_000, interval: 200 })
      .toBe(true);
    const grown = rss(gw.pid!) - before;
    const buffered = await gw.metric('vigil_mqtt_buffered_bytes');
    process.stdout.write(`${N} slow connections, ${SENT} bytes each: buffered ${buffered} B, resident size grew ${grown} B (${Math.round(grown / N)} B per connection)\n`);

    expect(grown).toBeLessThanOrEqual(bound);
    expect(buffered).toBeGreaterThanOrEqual(N * SENT);
    expect(buffered).toBeLessThanOrEqual(N * 2 * SENT);
    expect(acked).toBe(SENT / 1000);
    expect(slow.every((c) => !c.closed)).toBe(true);
    await device.endAsync();
  });

  it('connections from one address are capped (mqtt.limits.connectionsPerAddress, 200); closing them frees every byte', async () => {
    const extra: Array<Socket & { closedByServer: boolean }> = [];
    // N slow connections are open (the other device's is closed).
    await expect.poll(() => gw.metric('vigil_mqtt_connections_open'), { timeout: 20_000 }).toBe(N);
    for (let i = N; i < 200; i++) extra.push(await open(gw.mqttPort));
    const over = await open(gw.mqttPort);
    await until(() => over.closedByServer, 'the connection over the cap to be closed by the gateway');
    expect(extra.every((s) => !s.closedByServer)).toBe(true);
    expect(await gw.metric('vigil_mqtt_connections_refused_total', { reason: 'address_limit' })).toBe(1);
    for (const c of slow) c.end();
    for (const s of extra) s.destroy();
    await expect.poll(() => gw.metric('vigil_mqtt_connections_open'), { timeout: 20_000 }).toBe(0);
    expect(await gw.metric('vigil_mqtt_buffered_bytes')).toBe(0);
  });
});

describe('all connections together', () => {
  let gw: GatewayProcess;
  /** mqtt.maxPacketBytes here; mqtt.limits.bufferedBytes keeps its default of 8 MiB. */
  const MAX_PACKET = 1_000_000;

  beforeAll(async () => {
    gw = await startGatewayProcess({ config: { mqtt: { maxPacketBytes: MAX_PACKET } } });
  }, 60_000);

  afterAll(async () => {
    await gw?.stop();
    await gw?.cleanup();
  });

  it('hold at most mqtt.limits.bufferedBytes in unfinished packets: connections past it are closed and counted', async () => {
    const sockets: Array<Socket & { closedByServer: boolean }> = [];
    try {
      // Each sends 900 kB of a 1 MB PUBLISH before CONNECT and stops: 12 of them are 10.8 MB.
      for (let i = 0; i < 12; i++) {
        const s = await open(gw.mqttPort);
        s.write(Buffer.concat([fixedHeader(0x30, MAX_PACKET), Buffer.alloc(900_000, 0x61)]));
        sockets.push(s);
      }
      await until(() => sockets.some((s) => s.closedByServer), 'connections over the budget to be closed');
      await expect.poll(async () => (await gw.metric('vigil_messages_rejected_total', { reason: 'buffer_limit' })) + (await gw.metric('vigil_mqtt_connections_open')), { timeout: 20_000 }).toBe(12);
      const buffered = await gw.metric('vigil_mqtt_buffered_bytes');
      expect(buffered).toBeGreaterThan(0);
      expect(buffered).toBeLessThanOrEqual(8 * 1024 * 1024);
      await gw.waitForLog((l) => /mqtt\.limits\.bufferedBytes/.test(l.msg));
    } finally {
      for (const s of sockets) s.destroy();
    }
    await expect.poll(() => gw.metric('vigil_mqtt_buffered_bytes'), { timeout: 20_000 }).toBe(0);
  });
});
