import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { SimDevice } from '../../../firmware-sim/device.js';
import { parseScenario } from '../../../firmware-sim/scenario.js';
import { runSerialDevice } from '../../../firmware-sim/serial-runner.js';
import { SocatPair } from '../../../firmware-sim/socat.js';
import { setLogLevel } from '../../../src/core/log.js';
import { until } from '../../support/wait.js';

/** Opens the gateway end with the real serialport binding and collects what arrives. */
async function openGatewayEnd(path: string): Promise<{ port: SerialPort; received: Buffer[] }> {
  const port = new SerialPort({ path, baudRate: 9600, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  const received: Buffer[] = [];
  port.on('data', (d: Buffer) => received.push(d));
  port.on('error', () => undefined); // the cable is pulled on purpose below
  return { port, received };
}

/** Closes a port whether or not it is still open (cleanup after a pass or a failure). */
function closePort(port: SerialPort): Promise<void> {
  return new Promise<void>((r) => (port.isOpen ? port.close(() => r()) : r()));
}

describe('serial runner over a socat virtual cable', () => {
  let dir = '';
  beforeAll(() => {
    setLogLevel('silent');
    dir = mkdtempSync(join(tmpdir(), 'vigil-sim-test-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('delivers the exact bytes generate() gives, paced in device time', async () => {
    const scenario = parseScenario('name: short\nartifacts: { ratePerHour: 0 }\n', 'short.yaml');
    const device = new SimDevice({ id: 'bed-1', profile: 'masimo-radical7', scenario, seed: 3 });
    const socat = new SocatPair(dir, 'bed-1');
    onTestFinished(() => socat.stop());
    await socat.start();
    const { port, received } = await openGatewayEnd(socat.gatewayPath);
    onTestFinished(() => closePort(port));
    // 20 device seconds per real second: 5 lines in about 250 ms.
    const started = performance.now();
    const runner = runSerialDevice(device, { path: socat.devicePath, durationS: 5, speed: 20 });
    onTestFinished(() => runner.stop());
    await runner.finished();
    const elapsed = performance.now() - started;
    const expected = Buffer.concat([...device.generate(0, 5)].flatMap((c) => (c.kind === 'data' ? [c.bytes] : [])));
    await until(() => Buffer.concat(received).length >= expected.length, 'every byte generated');
    expect(Buffer.concat(received).equals(expected)).toBe(true);
    expect(runner.stats()).toMatchObject({ chunks: 5, bytes: expected.length, dropped: 0 });
    // The last line is due at device second 4, i.e. 200 ms at this speed.
    expect(elapsed).toBeGreaterThanOrEqual(190);
  });

  it('unplug ends socat and replug recreates it at the same paths', async () => {
    const scenario = parseScenario(
      'name: pull\nartifacts: { ratePerHour: 0 }\nevents:\n  - { type: unplug, at: 2, duration: 3 }\n',
      'pull.yaml',
    );
    const device = new SimDevice({ id: 'bed-2', profile: 'masimo-radical7', scenario, seed: 4 });
    const socat = new SocatPair(dir, 'bed-2');
    onTestFinished(() => socat.stop());
    await socat.start();
    const first = await openGatewayEnd(socat.gatewayPath);
    onTestFinished(() => closePort(first.port));
    let closed = false;
    first.port.on('close', () => (closed = true));
    // Long enough that a late reopen on a loaded machine still finds lines to read.
    const runner = runSerialDevice(device, { path: socat.devicePath, socat, durationS: 30, speed: 10 });
    onTestFinished(() => runner.stop());
    // Unplugged at device second 2: the gateway's port closes when socat goes away.
    await until(() => closed, 'the gateway end closing on unplug');
    expect(first.received.length).toBeGreaterThan(0);
    // Replugged at device second 5: the link is back and a fresh open receives lines again.
    await until(() => socat.running, 'the cable replugged');
    const second = await openGatewayEnd(socat.gatewayPath);
    onTestFinished(() => closePort(second.port));
    await until(() => Buffer.concat(second.received).toString('latin1').includes('\r\n'), 'a line after the replug');
    await runner.finished();
    // Every line the fresh open reads was generated after the replug (device second 5 or later),
    // in order: nothing from before the unplug is replayed. Which second comes first depends on
    // how soon the port reopens, so only the bound is asserted.
    const seconds = [...Buffer.concat(second.received).toString('latin1').matchAll(/08:00:(\d\d) SN=/g)].map((m) => Number(m[1]));
    expect(seconds.length).toBeGreaterThan(0);
    expect(seconds.every((x, i) => x >= 5 && x < 30 && (i === 0 || x === seconds[i - 1]! + 1))).toBe(true);
    expect(runner.stats().unplugs).toBe(1);
  });
});
