/**
 * The InfluxDB writer against a real VictoriaMetrics (v2 write API) and the real disk spool:
 * points arrive with their tags and values, replays do not duplicate, and an outage of the
 * database loses nothing and advances no cursor.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { SpoolRecord } from '../../src/core/types.js';
import { Spool } from '../../src/spool/spool.js';
import type { SpoolPosition, SpoolReader } from '../../src/spool/types.js';
import { InfluxWriter, type InfluxWriterOptions } from '../../src/sinks/influx-writer.js';
import { startVictoria, type ExportedSeries, type Victoria } from '../support/victoria.js';
import { until } from '../support/wait.js';

/** Wraps a reader to record every commit and when it happened. */
class RecordingReader implements SpoolReader {
  readonly commits: Array<{ seq: number; at: number }> = [];
  constructor(private readonly inner: SpoolReader) {}
  get name(): string {
    return this.inner.name;
  }
  read(max: number) {
    return this.inner.read(max);
  }
  async commit(pos: SpoolPosition): Promise<void> {
    this.commits.push({ seq: pos.seq, at: Date.now() });
    await this.inner.commit(pos);
  }
  lag(): number {
    return this.inner.lag();
  }
  waitForData(signal?: AbortSignal): Promise<void> {
    return this.inner.waitForData(signal);
  }
}

const BASE_TS = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;
const DEVICES = ['ox-1', 'ox-2', 'ox-3', 'ox-4', 'ox 5'];

/** Observation i: device i mod 5, value i, a unique timestamp; the last device is unassigned. */
function obs(i: number): SpoolRecord {
  const d = i % DEVICES.length;
  const deviceId = DEVICES[d]!;
  const placement = d === DEVICES.length - 1 ? {} : { patientId: `p-${d}`, ward: 'W 3', bed: `bed,${d}` };
  return { t: 'obs', o: { ts: BASE_TS + i, deviceId, ...placement, metric: 'spo2', value: 90 + (i % 10) + 0.5, unit: '%', quality: 'good' } };
}
const payload = (r: SpoolRecord): Buffer => Buffer.from(JSON.stringify(r));

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const samples = (series: ExportedSeries[]): number => series.reduce((n, s) => n + s.values.length, 0);

let vm: Victoria;
let dir: string;
let spool: Spool;
let writer: InfluxWriter | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-influx-it-'));
  spool = await Spool.open({ dir: join(dir, 'spool'), maxBytes: 64 * 1024 * 1024 });
  vm = await startVictoria();
});

afterEach(async () => {
  await writer?.stop();
  writer = undefined;
  await spool.close();
  await vm.dispose();
  await rm(dir, { recursive: true, force: true });
});

function makeWriter(reader: SpoolReader, opts: Partial<InfluxWriterOptions> = {}): InfluxWriter {
  writer = new InfluxWriter({
    url: vm.url,
    token: 'test-token',
    org: 'ward',
    bucket: 'vigil',
    reader,
    deadLetterPath: join(dir, 'dead-letter.jsonl'),
    flushIntervalMs: 50,
    minBackoffMs: 50,
    maxBackoffMs: 400,
    logger: pino({ level: 'silent' }),
    ...opts,
  });
  return writer;
}

describe('InfluxWriter → VictoriaMetrics', () => {
  it('writes observations, events and alarms with the right tags and values, and a replay adds no duplicates', async () => {
    const N = 2000;
    const records = Array.from({ length: N }, (_, i) => obs(i));
    records.push(
      { t: 'tech', e: { ts: BASE_TS + 5, deviceId: 'ox-1', patientId: 'p-1', kind: 'sensor_off', detail: 'SO "probe", off' } },
      { t: 'alarm', a: { ts: BASE_TS + 6, id: 'al-1', kind: 'limit', priority: 'high', state: 'raised', patientId: 'p-1', ward: 'W 3', bed: 'bed,1', metric: 'spo2', reason: 'SpO2 85 < 88', value: 85 } },
    );
    await spool.append(records.map(payload));
    const reader = new RecordingReader(await spool.reader('influx'));
    const w = makeWriter(reader, { batchSize: 500 });
    await w.start();
    await until(() => reader.lag() === 0, 'spool drained');

    const series = await vm.waitForCount('vitals_spo2', N);
    expect(series).toHaveLength(DEVICES.length);
    for (const [d, deviceId] of DEVICES.entries()) {
      const s = series.find((x) => x.metric.device === deviceId);
      const expectedLabels =
        d === DEVICES.length - 1
          ? { __name__: 'vitals_spo2', device: deviceId }
          : { __name__: 'vitals_spo2', device: deviceId, patient: `p-${d}`, ward: 'W 3', bed: `bed,${d}` };
      expect(s?.metric).toEqual(expectedLabels);
      const idx = Array.from({ length: N }, (_, i) => i).filter((i) => i % DEVICES.length === d);
      expect(s?.timestamps).toEqual(idx.map((i) => BASE_TS + i));
      expect(s?.values).toEqual(idx.map((i) => 90 + (i % 10) + 0.5));
    }
    const [events] = await vm.waitForCount('device_events_count', 1);
    expect(events?.metric).toEqual({ __name__: 'device_events_count', device: 'ox-1', patient: 'p-1', kind: 'sensor_off' });
    const [alarm] = await vm.waitForCount('alarms_value', 1);
    expect(alarm?.metric).toMatchObject({ patient: 'p-1', bed: 'bed,1', kind: 'limit', priority: 'high', state: 'raised', metric: 'spo2' });
    expect(alarm?.values).toEqual([85]);

    const stats = w.stats();
    expect(stats.pointsWritten).toBe(N + 2);
    expect(stats.batches).toBe(Math.ceil((N + 2) / 500));
    expect(stats.deadLetters).toBe(0);
    expect(reader.commits.map((c) => c.seq)).toEqual([501, 1001, 1501, 2001, 2003]);

    // A replay (as after a crash before commit) writes the same points again: the series and
    // timestamps are identical, so the store keeps one sample each.
    await spool.append(records.slice(0, 1000).map(payload));
    await until(() => reader.lag() === 0, 'replay drained');
    await vm.flush();
    expect(samples(await vm.exportSeries('vitals_spo2'))).toBe(N);
  });

  it('escapes hostile tag values and strings by the line-protocol rules: every point arrives with its exact values', async () => {
    // Values a census kept from before ids were checked, or a device, could still carry.
    const hostile = ['ends-with\\', 'back\\,slash', 'P 1=x', 'a,b=c d', 'q"uote', 'two\\\\', '#hash'];
    const records: SpoolRecord[] = hostile.map((id, i) => ({ t: 'obs', o: { ts: BASE_TS + i, deviceId: `dev-${i}`, patientId: id, ward: id, bed: id, metric: 'hr', value: 60 + i, unit: '/min', quality: 'good' } }));
    records.push({ t: 'tech', e: { ts: BASE_TS + 100, deviceId: 'dev\\', kind: 'sensor_off', detail: 'line one\nline two \\' } });
    await spool.append(records.map(payload));
    const reader = new RecordingReader(await spool.reader('influx'));
    const w = makeWriter(reader);
    await w.start();
    await until(() => reader.lag() === 0, 'spool drained');

    const series = await vm.waitForCount('vitals_hr', hostile.length);
    expect(series.map((s) => ({ device: s.metric.device, patient: s.metric.patient, ward: s.metric.ward, bed: s.metric.bed, values: s.values })).sort((a, b) => a.values[0]! - b.values[0]!)).toEqual(
      hostile.map((id, i) => ({ device: `dev-${i}`, patient: id, ward: id, bed: id, values: [60 + i] })),
    );
    const [event] = await vm.waitForCount('device_events_count', 1);
    expect(event?.metric.device).toBe('dev\\');
    expect(w.stats()).toMatchObject({ pointsWritten: records.length, deadLetters: 0 });
  });

  it('survives a database outage: keeps appending, commits nothing while down, delivers everything after', async () => {
    const reader = new RecordingReader(await spool.reader('influx'));
    const w = makeWriter(reader, { batchSize: 200 });
    await w.start();

    const N = 1500;
    let appended = 0;
    const producer = (async () => {
      // 15 records every 20 ms ≈ 2 s of traffic.
      while (appended < N) {
        const chunk = Array.from({ length: 15 }, (_, k) => obs(appended + k));
        await spool.append(chunk.map(payload));
        appended += chunk.length;
        await sleep(20);
      }
    })();

    await until(() => appended >= 300 && reader.commits.length > 0, 'first commits');
    await vm.stop();
    const downAt = Date.now();
    await until(() => w.stats().state === 'backing_off', 'writer backing off');
    await sleep(700);
    const commitsWhileDown = reader.commits.filter((c) => c.at > downAt + 200);
    const lagWhileDown = reader.lag();
    const retriesWhileDown = w.stats().retries;
    await vm.restart();
    await producer;
    await until(() => reader.lag() === 0, 'spool drained after restart');

    expect(commitsWhileDown).toEqual([]);
    expect(lagWhileDown).toBeGreaterThan(0);
    expect(retriesWhileDown).toBeGreaterThan(0);
    const seqs = reader.commits.map((c) => c.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(seqs.at(-1)).toBe(N + 1);

    const series = await vm.waitForCount('vitals_spo2', N);
    const got = series.flatMap((s) => s.timestamps.map((ts) => ts - BASE_TS)).sort((a, b) => a - b);
    expect(got).toEqual(Array.from({ length: N }, (_, i) => i));
    expect(w.stats().deadLetters).toBe(0);
  });
});
