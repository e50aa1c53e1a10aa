import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BlobWriter } from '../../../src/core/blobs.js';
import { Pipeline } from '../../../src/alarms/pipeline.js';
import { loadState, STATE_FORMAT, writeStateNow, type SavedState } from '../../../src/alarms/state-file.js';
import { defaultDetectorConfig } from '../../../src/detectors/config.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const file = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'vigil-state-'));
  dirs.push(d);
  return join(d, 'alarms.json');
};
const state = (format: number, views: Record<string, unknown>): SavedState =>
  ({ format, savedAt: 1, seq: 42, pipeline: new Pipeline(defaultDetectorConfig()).snapshot(), views }) as unknown as SavedState;

describe('the saved alarm state file', () => {
  it('holds the JSON, a newline and the blobs, and gives both back', async () => {
    const f = file();
    const blobs = new BlobWriter();
    const ref = blobs.add(new Uint8Array([7, 8, 9]));
    await writeStateNow(f, state(STATE_FORMAT, { ward: { ref } }), blobs).commit();
    const bytes = readFileSync(f);
    expect(bytes.subarray(bytes.length - 4)).toEqual(Buffer.from([0x0a, 7, 8, 9]));
    expect(statSync(f).mode & 0o777).toBe(0o600);
    const loaded = await loadState(f);
    if (loaded.kind !== 'loaded') throw new Error(JSON.stringify(loaded));
    expect(loaded.state.seq).toBe(42);
    expect([...loaded.blobs.get((loaded.state.views.ward as { ref: typeof ref }).ref)]).toEqual([7, 8, 9]);
  });

  it('is the state of the moment it is written: what changes before the commit is not in it, and the previous state stays until then', async () => {
    const f = file();
    const ring = new Float64Array([1, 2, 3]);
    const first = new BlobWriter();
    await writeStateNow(f, state(STATE_FORMAT, { ward: { ref: first.add(ring) } }), first).commit();
    const before = readFileSync(f);

    const blobs = new BlobWriter();
    const ref = blobs.add(ring);
    const written = writeStateNow(f, state(STATE_FORMAT, { ward: { ref } }), blobs);
    ring[0] = 99; // the arrays go on changing once it is written
    expect(readFileSync(f)).toEqual(before);
    await written.commit();
    const after = readFileSync(f);
    const loaded = await loadState(f);
    if (loaded.kind !== 'loaded') throw new Error(JSON.stringify(loaded));
    const b = loaded.blobs.get(ref);
    expect([...new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length))]).toEqual([1, 2, 3]);

    // dropped: the previous file stays and nothing is left beside it
    const dropped = new BlobWriter();
    await writeStateNow(f, state(STATE_FORMAT, { ward: { ref: dropped.add(ring) } }), dropped).discard();
    expect(readFileSync(f).equals(after)).toBe(true);
    expect(readdirSync(dirname(f))).toEqual(['alarms.json']);
  });

  it('reads format-1, -2 and -3 files (from earlier builds)', async () => {
    const f = file();
    for (const format of [1, 2, 3]) {
      writeFileSync(f, JSON.stringify(state(format, { ward: { patients: [] } })));
      const loaded = await loadState(f);
      expect(loaded.kind).toBe('loaded');
    }
  });

  it('says what is wrong with a file it cannot use, without throwing', async () => {
    const f = file();
    writeFileSync(f, JSON.stringify(state(5, {})));
    expect(await loadState(f)).toEqual({ kind: 'unusable', problem: `${f} is in format 5; this build reads formats 1, 2, 3 and 4` });
    writeFileSync(f, '{"format": 2, "seq": \n');
    expect((await loadState(f)).kind).toBe('unusable');
  });
});
