/**
 * The serial source over real virtual cables: socat pty pairs and the real serialport binding.
 * The device side (end A) is written with a SerialPort; the source reads end B.
 */
import { mkdtempSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { SerialPort } from 'serialport';
import { afterEach, describe, expect, it } from 'vitest';
import { createFlagFramer, datexS5Profile } from '../../devices/datex-s5/index.js';
import { masimoRadical7Profile } from '../../devices/masimo-radical7/index.js';
import { nellcorN595Profile } from '../../devices/nellcor-n595/index.js';
import { DecodeError } from '../../src/core/errors.js';
import type { SerialProfile } from '../../src/core/profile.js';
import { ConfigError } from '../../src/core/errors.js';
import { SerialSource, type SerialSourceOptions, reopenDelayMs } from '../../src/sources/serial.js';
import { createPtyPair, type PtyPair } from '../support/pty.js';
import { until } from '../support/wait.js';
import { type Outcome, loadCases, prng, randomChunks } from '../unit/devices/harness.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-serial-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function ptyPair(dir: string, names?: { a: string; b: string }): Promise<PtyPair> {
  const pair = await createPtyPair(dir, names ? { names } : {});
  cleanups.push(() => pair.close());
  return pair;
}

/**
 * Opens the device end of a cable with the profile's line settings. Without the exclusive lock
 * the gateway side takes, unless `lock` asks for it: the kernel hands a pty's number to the next
 * pty made once it is freed, and test files running beside this one make and free ptys of their
 * own (a gateway retrying a pulled cable's path is one), so only the lock a test is about is taken.
 */
async function devicePort(path: string, profile: SerialProfile, { lock = false } = {}): Promise<SerialPort> {
  const port = new SerialPort({ path, ...profile.serial, lock, autoOpen: false });
  // Writes fail once the cable is pulled; that is expected in the unplug test.
  port.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  cleanups.push(() => (port.isOpen ? new Promise<void>((resolve) => port.close(() => resolve())) : undefined));
  return port;
}

async function write(port: SerialPort, chunks: readonly Buffer[]): Promise<void> {
  for (const chunk of chunks) {
    await new Promise<void>((resolve, reject) => port.write(chunk, (err) => (err ? reject(err) : resolve())));
  }
  await new Promise<void>((resolve, reject) => port.drain((err) => (err ? reject(err) : resolve())));
}

/** Everything the source reported, decoded the way ingest will. */
class Recorder {
  readonly outcomes = new Map<string, Outcome[]>();
  readonly technical: { deviceId: string; kind: string; detail: string }[] = [];
  readonly origins = new Set<string>();
  readonly receivedAt: number[] = [];

  list(deviceId: string): Outcome[] {
    let list = this.outcomes.get(deviceId);
    if (!list) this.outcomes.set(deviceId, (list = []));
    return list;
  }

  events(deviceId: string): string[] {
    return this.technical.filter((t) => t.deviceId === deviceId).map((t) => t.kind);
  }

  readings(deviceId: string): number {
    return this.list(deviceId).filter((o) => 'decoded' in o && o.decoded.readings.length > 0).length;
  }

  options(): Pick<SerialSourceOptions, 'onFrame' | 'onTechnical' | 'onFramingError'> {
    return {
      onFrame: (deviceId, profile, frame, origin, receivedAt) => {
        this.origins.add(`${deviceId} ${origin}`);
        this.receivedAt.push(receivedAt);
        try {
          this.list(deviceId).push({ decoded: profile.decode(frame, { deviceId, receivedAt }) });
        } catch (err) {
          if (!(err instanceof DecodeError)) throw err;
          this.list(deviceId).push({ decodeError: err.reason });
        }
      },
      onTechnical: (deviceId, kind, detail) => {
        this.technical.push({ deviceId, kind, detail });
      },
      onFramingError: (deviceId, _origin, error, bytes) => {
        this.list(deviceId).push({ framingError: error, bytes });
      },
    };
  }
}

function startSource(options: SerialSourceOptions): SerialSource {
  const source = new SerialSource({ logger: pino({ level: 'silent' }), ...options });
  cleanups.push(() => source.stop());
  return source;
}

const fixtures = [
  { profile: masimoRadical7Profile, cases: loadCases(new URL('../../devices/masimo-radical7/fixtures/cases.json', import.meta.url), 'ascii') },
  { profile: nellcorN595Profile, cases: loadCases(new URL('../../devices/nellcor-n595/fixtures/cases.json', import.meta.url), 'ascii') },
  { profile: datexS5Profile, cases: loadCases(new URL('../../devices/datex-s5/fixtures/cases.json', import.meta.url), 'hex') },
];

/** A valid Radical-7 line whose pulse rate is `n` (so order and loss can be checked). */
const radical7Line = (n: number) =>
  Buffer.from(`03/02/26 08:${String(Math.floor(n / 60) % 60).padStart(2, '0')}:${String(n % 60).padStart(2, '0')} SN=0000001234 SPO2=097% BPM=${String(n % 300).padStart(3, '0')} PI=02.10% ALARM=0000 EXC=000000\r\n`);
const n595Line = (n: number) =>
  Buffer.from(`02-Mar-26 08:${String(Math.floor(n / 60) % 60).padStart(2, '0')}:${String(n % 60).padStart(2, '0')}    97   ${String(n % 300).padStart(3, ' ')}    45\r\n`);

const pulseRates = (outcomes: readonly Outcome[]) =>
  outcomes.flatMap((o) => ('decoded' in o ? o.decoded.readings.filter((r) => r.metric === 'pr').map((r) => r.value) : []));

describe('SerialSource over socat ptys', () => {
  it('passes up the frames of all three profiles, split and whole, with origin and receive time', async () => {
    const dir = tempDir();
    const pairs = await Promise.all(fixtures.map((_, i) => ptyPair(dir, { a: `dev${i}`, b: `gw${i}` })));
    const recorder = new Recorder();
    let now = 1_772_438_400_000;
    const source = startSource({
      ports: fixtures.map(({ profile }, i) => ({ path: pairs[i]!.b, deviceId: `bed-${i}`, profile })),
      ...recorder.options(),
      clock: () => now++,
    });
    await source.start();
    expect(source.stats().map((s) => s.state)).toEqual(['open', 'open', 'open']);

    const streams = fixtures.map(({ cases }) => Buffer.concat(cases.map((c) => c.wire)));
    await Promise.all(
      fixtures.map(async ({ profile }, i) => {
        const port = await devicePort(pairs[i]!.a, profile);
        await write(port, randomChunks(streams[i]!, prng(100 + i), 50));
      }),
    );

    const expected = fixtures.map(({ cases }) => cases.flatMap((c) => c.expect));
    await until(() => expected.every((e, i) => recorder.list(`bed-${i}`).length >= e.length), 'all fixture frames');
    fixtures.forEach((_, i) => {
      expect(recorder.list(`bed-${i}`)).toEqual(expected[i]);
      expect(recorder.events(`bed-${i}`)).toEqual(['device_online']);
      const stats = source.stats()[i]!;
      expect(stats).toMatchObject({ state: 'open', bytesIn: streams[i]!.length, reconnects: 0 });
      expect(stats.framingErrors).toBe(expected[i]!.filter((o) => 'framingError' in o).length);
      expect(stats.frames).toBe(expected[i]!.length - stats.framingErrors);
    });
    expect([...recorder.origins].sort()).toEqual(pairs.map((p, i) => `bed-${i} ${p.b}`).sort());
    // Receive times come from the injected clock.
    expect(recorder.receivedAt.every((t) => t >= 1_772_438_400_000 && t < now)).toBe(true);
  });

  it('reports an unplugged port offline once, reopens it at the same path, and never disturbs another port', async () => {
    const dir = tempDir();
    const names = { a: 'bed1-dev', b: 'bed1-gw' };
    let unplugged = await ptyPair(dir, names);
    const steady = await ptyPair(dir, { a: 'bed2-dev', b: 'bed2-gw' });
    const recorder = new Recorder();
    const source = startSource({
      ports: [
        { path: unplugged.b, deviceId: 'bed-1', profile: masimoRadical7Profile },
        { path: steady.b, deviceId: 'bed-2', profile: nellcorN595Profile },
      ],
      ...recorder.options(),
      reopenBackoffMs: { min: 50, max: 400 },
    });
    await source.start();

    let bed1 = await devicePort(unplugged.a, masimoRadical7Profile);
    const bed2 = await devicePort(steady.a, nellcorN595Profile);
    let sent1 = 0;
    let sent2 = 0;
    const ticker = setInterval(() => {
      if (bed1.isOpen) bed1.write(radical7Line(sent1++));
      bed2.write(n595Line(sent2++));
    }, 20);
    cleanups.push(() => clearInterval(ticker));

    await until(() => recorder.readings('bed-1') >= 10, 'bed-1 readings before the unplug');
    await unplugged.close();
    await until(() => recorder.events('bed-1').includes('device_offline'), 'device_offline');
    const bed2AtUnplug = recorder.readings('bed-2');
    const bed1AtUnplug = recorder.readings('bed-1');

    // Several reopen attempts fail while the cable is out; still one offline event.
    const attemptsAtUnplug = source.stats()[0]!.openAttempts;
    await until(() => source.stats()[0]!.openAttempts >= attemptsAtUnplug + 3, 'three failed reopen attempts');
    // Meanwhile the other port goes on reading.
    await until(() => recorder.readings('bed-2') > bed2AtUnplug + 10, 'bed-2 readings during the outage');
    expect(source.stats()[0]!.state).not.toBe('open');
    expect(recorder.events('bed-1')).toEqual(['device_online', 'device_offline']);
    expect(recorder.readings('bed-1')).toBe(bed1AtUnplug);

    unplugged = await ptyPair(dir, names);
    bed1 = await devicePort(unplugged.a, masimoRadical7Profile);
    await until(() => recorder.events('bed-1').length === 3, 'device_online after the replug');
    await until(() => recorder.readings('bed-1') >= bed1AtUnplug + 10, 'bed-1 readings after the replug');

    clearInterval(ticker);
    await until(() => recorder.readings('bed-2') === sent2, 'every bed-2 line');

    expect(recorder.events('bed-1')).toEqual(['device_online', 'device_offline', 'device_online']);
    expect(recorder.technical.find((t) => t.kind === 'device_offline')?.detail).toContain(unplugged.b);
    expect(recorder.events('bed-2')).toEqual(['device_online']);
    // bed-2: every line arrived once, in order, nothing else.
    expect(pulseRates(recorder.list('bed-2'))).toEqual(Array.from({ length: sent2 }, (_, n) => n % 300));
    // bed-1: readings resumed after the replug, still in order.
    const rates1 = pulseRates(recorder.list('bed-1'));
    expect(rates1.every((r, i) => i === 0 || r > rates1[i - 1]!)).toBe(true);
    expect(source.stats()).toMatchObject([
      { deviceId: 'bed-1', state: 'open', reconnects: 1 },
      { deviceId: 'bed-2', state: 'open', reconnects: 0, framingErrors: 0 },
    ]);
  });

  it('reports a port offline when its device path goes, though the binding is told nothing, and reopens it when the path is back', async () => {
    const dir = tempDir();
    const pair = await ptyPair(dir, { a: 'gone-dev', b: 'gone-gw' });
    const recorder = new Recorder();
    const source = startSource({ ports: [{ path: pair.b, deviceId: 'bed-4', profile: nellcorN595Profile }], ...recorder.options(), reopenBackoffMs: { min: 50, max: 200 } });
    await source.start();
    const device = await devicePort(pair.a, nellcorN595Profile);
    await write(device, [n595Line(1)]);
    await until(() => recorder.readings('bed-4') === 1, 'a reading');
    // The link goes as a USB adapter's device node does; the pty behind it stays open, so
    // reads and writes on the open port go on as if nothing happened.
    const target = readlinkSync(pair.b);
    rmSync(pair.b);
    await until(() => recorder.events('bed-4').includes('device_offline'), 'device_offline');
    expect(recorder.technical.find((t) => t.kind === 'device_offline')?.detail).toContain('device path gone');
    const attempts = source.stats()[0]!.openAttempts;
    await until(() => source.stats()[0]!.openAttempts >= attempts + 2, 'failed reopen attempts while the path is gone');
    symlinkSync(target, pair.b);
    await until(() => recorder.events('bed-4').length === 3, 'device_online once the path is back');
    await write(device, [n595Line(2)]);
    await until(() => recorder.readings('bed-4') === 2, 'a reading after the reopen');
    expect(recorder.events('bed-4')).toEqual(['device_online', 'device_offline', 'device_online']);
    expect(source.stats()[0]).toMatchObject({ state: 'open', reconnects: 1 });
  });

  it('waits for a port that does not exist yet, and releases everything on stop', async () => {
    const dir = tempDir();
    const recorder = new Recorder();
    const path = join(dir, 'later-gw');
    const source = startSource({
      ports: [{ path, deviceId: 'bed-3', profile: datexS5Profile }],
      ...recorder.options(),
      reopenBackoffMs: { min: 50, max: 200 },
    });
    await source.start();
    expect(source.stats()[0]).toMatchObject({ state: 'offline', lastError: expect.stringContaining('cannot open') });
    expect(recorder.events('bed-3')).toEqual(['device_offline']);

    // It keeps trying (the delays between attempts are reopenDelayMs's, tested below in pure
    // time), and failed attempts add no further offline events.
    await until(() => source.stats()[0]!.openAttempts >= 4, 'four open attempts');
    expect(recorder.events('bed-3')).toEqual(['device_offline']);
    const pair = await ptyPair(dir, { a: 'later-dev', b: 'later-gw' });
    await until(() => recorder.events('bed-3').length === 2, 'device_online');
    expect(recorder.events('bed-3')).toEqual(['device_offline', 'device_online']);
    // The first open after an absent start is not a reconnect.
    expect(source.stats()[0]!.reconnects).toBe(0);

    const valid = fixtures[2]!.cases.filter((c) => c.expect.length === 1 && 'decoded' in c.expect[0]!);
    await write(await devicePort(pair.a, datexS5Profile), valid.map((c) => c.wire));
    await until(() => recorder.list('bed-3').length === valid.length, 'datex frames');
    expect(recorder.list('bed-3')).toEqual(valid.flatMap((c) => c.expect));

    await source.stop();
    await source.stop();
    expect(source.stats()[0]!.state).toBe('stopped');
    // The port is closed and its lock released: another process can open it now.
    const again = await devicePort(pair.b, datexS5Profile, { lock: true });
    expect(again.isOpen).toBe(true);
    await pair.close();
    await new Promise((r) => setTimeout(r, 200));
    expect(recorder.events('bed-3')).toEqual(['device_offline', 'device_online']);
  });
});

describe('SerialSource without ports', () => {
  const noop = { onFrame: () => undefined, onTechnical: () => undefined };

  it('rejects two ports on one path, naming the setting', () => {
    const port = { path: '/dev/ttyUSB0', deviceId: 'a', profile: masimoRadical7Profile };
    expect(() => new SerialSource({ ...noop, ports: [port, { ...port, deviceId: 'b' }] })).toThrow(ConfigError);
    expect(() => new SerialSource({ ...noop, ports: [port, { ...port, deviceId: 'b' }] })).toThrow(/serial\.ports\[1\]\.path/);
  });

  it('rejects backoff bounds that cannot work', () => {
    expect(() => new SerialSource({ ...noop, ports: [], reopenBackoffMs: { min: 0, max: 10 } })).toThrow(ConfigError);
    expect(() => new SerialSource({ ...noop, ports: [], reopenBackoffMs: { min: 100, max: 50 } })).toThrow(ConfigError);
  });

  it('doubles the reopen delay from min up to max', () => {
    const delays = Array.from({ length: 8 }, (_, attempt) => reopenDelayMs(attempt, { min: 500, max: 10_000 }));
    expect(delays).toEqual([500, 1_000, 2_000, 4_000, 8_000, 10_000, 10_000, 10_000]);
    expect(reopenDelayMs(5_000, { min: 500, max: 10_000 })).toBe(10_000);
  });
});

describe('SerialSource callbacks', () => {
  it('keeps reading when a callback throws', async () => {
    const dir = tempDir();
    const pair = await ptyPair(dir);
    let calls = 0;
    const source = startSource({
      ports: [{ path: pair.b, deviceId: 'bed-4', profile: nellcorN595Profile }],
      onFrame: () => {
        calls += 1;
        throw new Error('downstream failed');
      },
      onTechnical: () => {
        throw new Error('downstream failed');
      },
    });
    await source.start();
    await write(await devicePort(pair.a, nellcorN595Profile), [n595Line(1), n595Line(2), n595Line(3)]);
    await until(() => calls === 3, 'three frames');
    expect(source.stats()[0]).toMatchObject({ state: 'open', frames: 3 });
  });
});

describe('SerialSource writing to a device', () => {
  /** Reads the device end and splits what the host wrote into DRI request bodies. */
  function hostRequests(port: SerialPort): Buffer[] {
    const bodies: Buffer[] = [];
    const framer = createFlagFramer();
    port.on('data', (chunk: Buffer) => {
      for (const item of framer.push(chunk)) if ('frame' in item) bodies.push(item.frame);
    });
    return bodies;
  }

  it('the S/5 profile writes its transfer request on open and again after an unplug, through the same backoff', async () => {
    const dir = tempDir();
    const names = { a: 's5-dev', b: 's5-gw' };
    let pair = await ptyPair(dir, names);
    let device = await devicePort(pair.a, datexS5Profile);
    let received = hostRequests(device);
    const recorder = new Recorder();
    const source = startSource({ ports: [{ path: pair.b, deviceId: 'mon-1', profile: datexS5Profile }], ...recorder.options(), reopenBackoffMs: { min: 50, max: 400 } });
    await source.start();

    await until(() => received.length >= 5, 'the five requests (one per DRI level)');
    expect(received.map((b) => [b[3], b[40], b.readInt16LE(41)])).toEqual([0x0b, 0x0a, 0x09, 0x08, 0x07].map((level) => [level, 1, 5]));
    expect(source.stats()[0]).toMatchObject({ requestsSent: 1, bytesOut: Buffer.concat(datexS5Profile.host!.onOpen()).length });

    // The monitor answers: a displayed-values record reaches the source.
    await write(device, [fixtures[2]!.cases[1]!.wire]);
    await until(() => recorder.readings('mon-1') === 1, 'the record');

    await pair.close();
    await until(() => recorder.events('mon-1').includes('device_offline'), 'device_offline');
    // The cable goes back in with the monitor's end open before the gateway can find its own, as
    // a monitor's end always is: opening a port throws away what waits in it (the binding
    // flushes on open), so requests the gateway wrote before this test opened the device end
    // would be lost. So the new pair's gateway end gets its link only once the device end is open.
    pair = await ptyPair(dir, { a: names.a, b: `${names.b}-replugged` });
    device = await devicePort(pair.a, datexS5Profile);
    received = hostRequests(device);
    const gatewayEnd = join(dir, names.b);
    symlinkSync(readlinkSync(pair.b), gatewayEnd);
    cleanups.push(() => rmSync(gatewayEnd, { force: true }));
    await until(() => received.length >= 5, 'the requests again after the replug');
    expect(recorder.events('mon-1')).toEqual(['device_online', 'device_offline', 'device_online']);
    expect(source.stats()[0]).toMatchObject({ state: 'open', reconnects: 1, requestsSent: 2 });
  });

  it('asks a silent device again after resendAfterSilenceMs', async () => {
    const dir = tempDir();
    const pair = await ptyPair(dir);
    const device = await devicePort(pair.a, datexS5Profile);
    const received = hostRequests(device);
    const profile: SerialProfile = { ...datexS5Profile, host: { onOpen: datexS5Profile.host!.onOpen, resendAfterSilenceMs: 200 } };
    const source = startSource({ ports: [{ path: pair.b, deviceId: 'mon-2', profile }], ...new Recorder().options() });
    await source.start();
    await until(() => received.length >= 15, 'requests on open and after two silences');
    expect(source.stats()[0]!.requestsSent).toBeGreaterThanOrEqual(3);
    expect(received.every((b) => b.readInt16LE(0) === 49)).toBe(true);
  });
});
