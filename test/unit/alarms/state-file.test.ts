import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BlobWriter } from '../../../src/core/blobs.js';
import { Pipeline } from '../../../src/alarms/pipeline.js';
import { loadState, saveState, serialiseState, STATE_FORMAT, type SavedState } from '../../../src/alarms/state-file.js';
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
    await saveState(f, serialiseState(state(STATE_FORMAT, { ward: { ref } }), blobs));
    const bytes = readFileSync(f);
    expect(bytes.subarray(bytes.length - 4)).toEqual(Buffer.from([0x0a, 7, 8, 9]));
    const loaded = await loadState(f);
    if (loaded.kind !== 'loaded') throw new Error(JSON.stringify(loaded));
    expect(loaded.state.seq).toBe(42);
    expect([...loaded.blobs.get((loaded.state.views.ward as { ref: typeof ref }).ref)]).toEqual([7, 8, 9]);
  });

  it('reads a format-1 file (JSON only, from an earlier build)', async () => {
    const f = file();
    writeFileSync(f, JSON.stringify(state(1, { ward: { patients: [] } })));
    const loaded = await loadState(f);
    expect(loaded.kind).toBe('loaded');
  });

  it('says what is wrong with a file it cannot use, without throwing', async () => {
    const f = file();
    writeFileSync(f, JSON.stringify(state(3, {})));
    expect(await loadState(f)).toEqual({ kind: 'unusable', problem: `${f} is in format 3; this build reads formats 1 and 2` });
    writeFileSync(f, '{"format": 2, "seq": \n');
    expect((await loadState(f)).kind).toBe('unusable');
  });
});
