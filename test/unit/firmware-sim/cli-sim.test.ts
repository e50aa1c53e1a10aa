import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { Aedes } from 'aedes';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { builtinScenarioNames } from '../../../firmware-sim/scenario.js';
import { parseSerialSpec, simCommand } from '../../../src/cli/sim.js';
import { setLogLevel } from '../../../src/core/log.js';

function capture(): { out: () => string; err: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
  return { out: () => out.join(''), err: () => err.join('') };
}

describe('vigil sim', () => {
  beforeAll(() => setLogLevel('silent'));
  afterEach(() => vi.restoreAllMocks());

  it('--help shows usage and examples', async () => {
    const io = capture();
    expect(await simCommand.run(['--help'])).toBe(0);
    expect(io.out()).toContain('Examples:');
    expect(io.out()).toContain('--serial PROFILE:SCENARIO[:PATH]');
    expect(simCommand.help).toBe(io.out());
  });

  it('--list-scenarios lists every built-in', async () => {
    const io = capture();
    expect(await simCommand.run(['--list-scenarios'])).toBe(0);
    const listed = io.out().trim().split('\n').map((l) => l.split(/\s+/)[0]);
    expect(listed).toEqual(builtinScenarioNames());
  });

  it.each([
    [['--bogus'], /bogus/],
    [['--wearables', '3', '--secret', 'x'], /--mqtt/],
    [['--mqtt', 'mqtt://127.0.0.1:1', '--wearables', '3'], /--secret-prefix or --secret/],
    [['--serial', 'acme-9000:stable'], /unknown profile "acme-9000"/],
    [['--serial', 'masimo-radical7'], /PROFILE:SCENARIO/],
    [['--serial', 'masimo-radical7:no-such'], /unknown scenario "no-such"/],
    [['--wearables', 'many'], /--wearables/],
    [[], /nothing to simulate/],
  ])('bad usage %j prints one line and returns 2', async (args, message) => {
    const io = capture();
    expect(await simCommand.run(args)).toBe(2);
    expect(io.err()).toMatch(message);
    expect(io.err().trim().split('\n')).toHaveLength(1);
  });

  it('a bad --devices file names the entry and setting', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-sim-cli-'));
    const file = join(dir, 'devices.yaml');
    writeFileSync(file, '- { id: w1, secret: abc }\n- { id: w2 }\n');
    try {
      const io = capture();
      expect(await simCommand.run(['--mqtt', 'mqtt://127.0.0.1:1', '--devices', file])).toBe(2);
      expect(io.err()).toContain(`--devices ${file}: [1].secret: `);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('parses serial specs whose path contains colons', () => {
    expect(parseSerialSpec('datex-s5:sepsis:/dev/serial/by-id/usb-FTDI:port0', 3)).toEqual({
      profile: 'datex-s5',
      scenario: 'sepsis',
      seed: 3,
      path: '/dev/serial/by-id/usb-FTDI:port0',
    });
  });

  it('runs a serial device on a socat pair it manages, prints the path, and cleans up', async () => {
    const io = capture();
    const code = await simCommand.run(['--serial', 'nellcor-n595:stable', '--duration', '1', '--stats-every', '0']);
    expect(code).toBe(0);
    const m = /serial nellcor-n595: gateway opens (\S+)/.exec(io.out());
    expect(m).not.toBeNull();
    expect(existsSync(m?.[1] ?? '/')).toBe(false);
  });

  it('says clearly when socat is missing and skips the serial device', async () => {
    const io = capture();
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      expect(await simCommand.run(['--serial', 'masimo-radical7:stable', '--duration', '1', '--stats-every', '0'])).toBe(1);
    } finally {
      process.env.PATH = path;
    }
    expect(io.err()).toMatch(/skipped serial device masimo-radical7: socat is not installed/);
    expect(io.out()).not.toMatch(/gateway opens/);
  });

  it('runs wearables against a broker with the given credentials', async () => {
    const broker = await Aedes.createBroker();
    const logins: string[] = [];
    const topics = new Set<string>();
    broker.authenticate = (_c, user, pass, done) => {
      logins.push(`${user}:${pass?.toString()}`);
      done(null, pass?.toString() === `pw-${user}`);
    };
    broker.authorizePublish = (_c, packet, done) => {
      topics.add(packet.topic);
      done(null);
    };
    const server = net.createServer(broker.handle);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `mqtt://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    try {
      const io = capture();
      const code = await simCommand.run(['--mqtt', url, '--wearables', '3', '--cuffs', '1', '--secret-prefix', 'pw-', '--interval', '0.2', '--nibp-interval', '0.5', '--duration', '1', '--stats-every', '0']);
      expect(code).toBe(0);
      expect(io.out()).toContain('mqtt: 4 devices');
      expect(logins.sort()).toEqual(['sim-cuff-01:pw-sim-cuff-01', 'sim-wearable-01:pw-sim-wearable-01', 'sim-wearable-02:pw-sim-wearable-02', 'sim-wearable-03:pw-sim-wearable-03']);
      expect([...topics].sort()).toEqual(['sim-cuff-01', 'sim-wearable-01', 'sim-wearable-02', 'sim-wearable-03'].map((id) => `vigil/v1/dev/${id}/obs`));
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
      await new Promise<void>((r) => broker.close(() => r()));
    }
  });
});
