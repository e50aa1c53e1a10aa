import net from 'node:net';
import { Aedes } from 'aedes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFleet } from '../../../firmware-sim/fleet.js';
import { parseScenario } from '../../../firmware-sim/scenario.js';
import { setLogLevel } from '../../../src/core/log.js';

describe('wearable fleet against a real broker', () => {
  let broker: Aedes;
  let server: net.Server;
  let url = '';
  const received = new Map<string, number>();
  const connects = new Map<string, number>();
  const disconnects = new Map<string, number>();
  const badLogins: string[] = [];
  const secrets = new Map<string, string>();

  beforeAll(async () => {
    setLogLevel('silent');
    broker = await Aedes.createBroker();
    broker.authenticate = (client, username, password, done) => {
      const ok = username !== undefined && password !== undefined && secrets.get(username) === password.toString() && client.id === username;
      if (!ok) badLogins.push(String(username));
      done(null, ok);
    };
    broker.authorizePublish = (client, packet, done) => {
      // Each device may publish only on its own topic, as the gateway enforces.
      if (packet.topic !== `vigil/v1/dev/${client?.id ?? ''}/obs`) return done(new Error('wrong topic'));
      JSON.parse(packet.payload.toString()); // throws on a malformed payload: fails the test below
      received.set(packet.topic, (received.get(packet.topic) ?? 0) + 1);
      done(null);
    };
    broker.on('client', (c) => connects.set(c.id, (connects.get(c.id) ?? 0) + 1));
    broker.on('clientDisconnect', (c) => disconnects.set(c.id, (disconnects.get(c.id) ?? 0) + 1));
    server = net.createServer(broker.handle);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `mqtt://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    await new Promise<void>((r) => broker.close(() => r()));
  });

  it('500 wearables publish at QoS 1 and every message is acknowledged', async () => {
    const n = 500;
    const perDevice = 3;
    const devices = Array.from({ length: n }, (_, i) => {
      const id = `wearable-${String(i).padStart(3, '0')}`;
      secrets.set(id, `secret-of-${id}`);
      return { id, secret: `secret-of-${id}`, scenario: i % 2 === 0 ? 'stable' : 'desaturation', seed: i + 1 };
    });
    const started = performance.now();
    const fleet = await startFleet({ url, devices, intervalMs: 200, qos: 1, maxMessages: perDevice });
    await fleet.done();
    const stats = fleet.stats();
    await fleet.stop();
    const elapsed = performance.now() - started;
    console.log(`fleet: ${n} devices × ${perDevice} messages in ${Math.round(elapsed)} ms`, stats);

    expect(badLogins).toEqual([]);
    expect(stats.published).toBe(n * perDevice);
    expect(stats.acked).toBe(n * perDevice);
    expect(stats.errors).toBe(0);
    expect(received.size).toBe(n);
    for (const d of devices) expect(received.get(`vigil/v1/dev/${d.id}/obs`)).toBe(perDevice);
  });

  it('counts a refused login as an error and acknowledges nothing', async () => {
    const fleet = await startFleet({
      url,
      devices: [{ id: 'intruder', secret: 'not-the-secret', scenario: 'stable', seed: 1 }],
      intervalMs: 50,
      qos: 1,
      maxMessages: 1,
    });
    const stats = fleet.stats();
    await fleet.stop();
    expect(stats.connected).toBe(0);
    expect(stats.errors).toBeGreaterThan(0);
    expect(stats.acked).toBe(0);
  });

  it('an unplugged wearable drops its connection, stays silent, and reconnects on replug', async () => {
    secrets.set('wearable-unplug', 'secret-unplug');
    // Device time runs with the wall clock; the cable is out from 0.45 s to 1.05 s.
    const scenario = parseScenario('name: short-unplug\nevents:\n  - { type: unplug, at: 0.45, duration: 0.6 }\n', 'short-unplug.yaml');
    const intervalMs = 100;
    const messages = 15;
    const fleet = await startFleet({ url, devices: [{ id: 'wearable-unplug', secret: 'secret-unplug', scenario, seed: 1 }], intervalMs, qos: 1, maxMessages: messages });
    await fleet.done();
    const stats = fleet.stats();
    await fleet.stop();
    const sim = fleet.devices.get('wearable-unplug');
    const silent = Array.from({ length: messages }, (_, k) => sim?.emissionTime(k) ?? 0).filter((t) => sim?.unpluggedAt(t)).length;
    expect(silent).toBeGreaterThan(3);
    expect(stats.published).toBe(messages - silent);
    expect(stats.acked).toBe(messages - silent);
    expect(received.get('vigil/v1/dev/wearable-unplug/obs')).toBe(messages - silent);
    expect(connects.get('wearable-unplug')).toBe(2);
    expect(disconnects.get('wearable-unplug')).toBe(2);
  });
});
