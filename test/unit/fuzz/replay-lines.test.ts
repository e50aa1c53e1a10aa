/**
 * Fuzzing the recording reader: lines of a simulated ward (readings, observations, technical
 * events) and mutations of them through `parseLine`. A line is read or refused with a
 * `ReplayLineError` naming it, never anything else; whatever is read (by hand on the fast path
 * or by the schema) is plausible device data: known metrics, plausible finite values, a known
 * quality, one time and place for a reading's values.
 */
import { describe, expect, it } from 'vitest';
import { checkValue, isMetricName } from '../../../src/core/metrics.js';
import type { Observation } from '../../../src/core/types.js';
import { SimulatedRecording } from '../../../src/burden/simulated.js';
import { ReplayLineError, parseLine } from '../../../src/replay/reader.js';
import { formatInput } from '../../../src/replay/writer.js';
import { int, mutate, rng } from './fuzz-support.js';

const INPUTS = 20_000;

async function seedLines(): Promise<string[]> {
  const rec = new SimulatedRecording({
    durationS: 900,
    intervalS: 5,
    patients: [
      { patientId: 'P1', scenario: 'sepsis', seed: 3, ward: 'W3', bed: 'B1', startOffsetMs: 0 },
      { patientId: 'P2', scenario: 'artifact-storm', seed: 4, ward: 'W3', bed: 'B2', startOffsetMs: 410 },
    ],
  });
  const lines = (await rec.all()).map(formatInput).filter((l): l is string => l !== null);
  // manual observations, with an ACVPU letter (read by the schema, not by hand)
  lines.push('{"ts":"2026-03-02T08:00:02Z","patient":"P1","ward":"W3","bed":"B1","values":{"sbp":95,"temp":38.4,"acvpu":"V","o2":1},"device":"manual:kim"}');
  return lines;
}

const ODD: readonly unknown[] = [null, true, '', 'A', 'x', -1, 0, 1e309, -0, 3.4e38, 99999, 37.5, [], {}, { hr: 1 }, 'poor', 'bad', '2026-02-30T10:00:00Z', '1772438402000'];
const KEYS = ['ts', 'rt', 'patient', 'ward', 'bed', 'device', 'values', 'quality', 'metric', 'value', 'unit', 'hr', 'spo2', 'pulse', 'acvpu', 'battery'];

/** The line with one of its fields, or of its values' or qualities', changed, removed or added. */
function mutateFields(line: string, r: () => number): string {
  const doc = JSON.parse(line) as Record<string, unknown>;
  const nested = ['values', 'quality'].filter((k) => typeof doc[k] === 'object' && doc[k] !== null);
  const target = nested.length > 0 && r() < 0.6 ? (doc[nested[int(r, nested.length)]!] as Record<string, unknown>) : doc;
  const keys = Object.keys(target);
  const key = r() < 0.7 && keys.length > 0 ? keys[int(r, keys.length)]! : KEYS[int(r, KEYS.length)]!;
  if (r() < 0.2) delete target[key];
  else target[key] = ODD[int(r, ODD.length)];
  return JSON.stringify(doc);
}

function plausible(o: Observation): void {
  expect(isMetricName(o.metric)).toBe(true);
  expect(Number.isFinite(o.value)).toBe(true);
  expect(checkValue(o.metric, o.value)).toBeNull();
  expect(['good', 'poor', 'invalid']).toContain(o.quality);
  expect(Number.isFinite(o.ts)).toBe(true);
  if (o.rt !== undefined) expect(Number.isFinite(o.rt)).toBe(true);
  expect(o.deviceId.length).toBeGreaterThan(0);
}

describe('recording reader under random and mutated lines', () => {
  it('reads or refuses each line with its line number, and what it reads is plausible device data', async () => {
    const seeds = await seedLines();
    expect(seeds.some((l) => l.includes('"values"'))).toBe(true);
    const r = rng(20261201);
    let read = 0;
    let refused = 0;
    let readings = 0;
    for (let n = 1; n <= INPUTS; n++) {
      let line = seeds[int(r, seeds.length)]!;
      line = r() < 0.5 ? mutate(Buffer.from(line), r).toString('utf8') : mutateFields(line, r);
      let input: ReturnType<typeof parseLine>;
      try {
        input = parseLine(line, n);
      } catch (err) {
        expect(err, line).toBeInstanceOf(ReplayLineError);
        expect((err as ReplayLineError).line).toBe(n);
        refused++;
        continue;
      }
      read++;
      if (input?.type === 'obs') plausible(input.obs);
      if (input?.type === 'reading') {
        readings++;
        expect(input.obs.length).toBeGreaterThan(0);
        const first = input.obs[0]!;
        const metrics = new Set<string>();
        for (const o of input.obs) {
          plausible(o);
          expect([o.ts, o.rt, o.deviceId, o.patientId, o.ward, o.bed]).toEqual([first.ts, first.rt, first.deviceId, first.patientId, first.ward, first.bed]);
          metrics.add(o.metric);
        }
        expect(metrics.size).toBe(input.obs.length);
      }
    }
    // the mutations leave many lines readable and break many: both paths are exercised
    expect(read).toBeGreaterThan(INPUTS / 10);
    expect(refused).toBeGreaterThan(INPUTS / 10);
    expect(readings).toBeGreaterThan(INPUTS / 20);
  });

  it('every unmutated line reads back to the input it was written from', async () => {
    const rec = new SimulatedRecording({ durationS: 300, intervalS: 5, patients: [{ patientId: 'P1', scenario: 'desaturation', seed: 5, ward: 'W3', bed: 'B1', startOffsetMs: 0 }] });
    const inputs = (await rec.all()).filter((i) => formatInput(i) !== null);
    expect(inputs.some((i) => i.type === 'reading')).toBe(true);
    inputs.forEach((i, n) => expect(parseLine(formatInput(i)!, n + 1)).toEqual(i));
  });
});
