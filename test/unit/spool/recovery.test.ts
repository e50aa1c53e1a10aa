import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HEADER_BYTES } from '../../../src/spool/record.js';
import { segmentFileName } from '../../../src/spool/segment.js';
import { Spool } from '../../../src/spool/spool.js';
import { memoryLogger, payloadFor, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterEach(async () => {
  await cleanup();
});

const SIZE = 16;
const REC = HEADER_BYTES + SIZE;

/** Writes records 1..n (each its own append) and closes the spool. */
async function writeRecords(n: number, segmentBytes?: number): Promise<void> {
  const s = await Spool.open({ dir, maxBytes: 1 << 26, logger: memoryLogger().logger, ...(segmentBytes ? { segmentBytes } : {}) });
  for (let i = 1; i <= n; i++) await s.append([payloadFor(i, SIZE)]);
  await s.close();
}

/** Opens the spool, reads everything, checks each payload, closes; returns what it saw. */
async function readAll(extra?: (s: Spool) => Promise<void>) {
  const { logger, lines } = memoryLogger();
  const s = await Spool.open({ dir, maxBytes: 1 << 26, logger });
  try {
    const stats = s.stats();
    await extra?.(s);
    // Never commits, so every run reads from the oldest record.
    const r = await s.reader('check');
    const b = await r.read(100_000);
    for (const e of b.entries) expect(e.payload.equals(payloadFor(e.seq, SIZE))).toBe(true);
    return { seqs: b.entries.map((e) => e.seq), stats, lines };
  } finally {
    await s.close();
  }
}

describe('Spool recovery', () => {
  it('truncates a torn tail cut at every byte of the last record, and numbering continues', async () => {
    const n = 5;
    await writeRecords(n);
    const file = join(dir, segmentFileName(1));
    const whole = await readFile(file);
    expect(whole.length).toBe(n * REC);
    const lastStart = (n - 1) * REC;
    for (let cut = lastStart; cut < whole.length; cut++) {
      await writeFile(file, whole.subarray(0, cut));
      let appended = 0;
      const { seqs, stats, lines } = await readAll(async (s) => {
        appended = await s.append([payloadFor(n, SIZE)]);
      });
      expect(stats.lastSeq, `cut at ${cut}`).toBe(n - 1);
      expect(stats.recoveredBytesSkipped).toBe(cut - lastStart);
      expect(appended).toBe(n);
      expect(seqs).toEqual([1, 2, 3, 4, 5]);
      if (cut > lastStart) {
        expect(lines.some((l) => l.msg === 'spool: truncating torn tail of last segment' && l.offset === lastStart)).toBe(true);
      }
    }
  });

  it('drops a whole torn group commit and zero-filled tail, keeping what was fsynced before it', async () => {
    await writeRecords(3);
    const file = join(dir, segmentFileName(1));
    const whole = await readFile(file);
    // A crash can leave the file extended with zeros where unwritten data was due.
    await writeFile(file, Buffer.concat([whole.subarray(0, 2 * REC + 7), Buffer.alloc(300)]));
    const { seqs, stats } = await readAll();
    expect(seqs).toEqual([1, 2]);
    expect(stats.recoveredBytesSkipped).toBe(7 + 300); // the 7 bytes of torn record 3 and the zeros
    expect((await readFile(file)).length).toBe(2 * REC);
  });

  it('skips only the record holding a corrupted byte, for every byte of that record', async () => {
    const n = 8;
    await writeRecords(n);
    const file = join(dir, segmentFileName(1));
    const whole = await readFile(file);
    const start = 3 * REC; // record 4
    for (let i = start; i < start + REC; i++) {
      const bad = Buffer.from(whole);
      bad[i] = bad[i]! ^ 0x5a;
      await writeFile(file, bad);
      const { seqs, stats, lines } = await readAll();
      expect(seqs, `byte ${i}`).toEqual([1, 2, 3, 5, 6, 7, 8]);
      expect(stats.lastSeq).toBe(n);
      expect(stats.recoveredBytesSkipped).toBe(REC);
      const warn = lines.find((l) => l.msg === 'spool: skipping damaged bytes in segment');
      expect(warn?.file).toBe(file);
      expect(warn?.offset).toBe(start);
      // The damaged file is left as it is (only a torn tail is cut).
      expect((await readFile(file)).length).toBe(whole.length);
    }
  });

  it('skips damage in an older segment too, and a reader skips damage that appears while running', async () => {
    await writeRecords(30, 300);
    const first = join(dir, segmentFileName(1));
    const buf = await readFile(first);
    buf[REC + 30] = buf[REC + 30]! ^ 0xff; // record 2, in a sealed segment
    await writeFile(first, buf);
    const { seqs, stats } = await readAll(async (s) => {
      // Damage record 29 after the recovery scan: the reader must skip it on its own.
      const segs = await readdir(dir);
      const last = segs.filter((f) => f.endsWith('.seg')).sort().at(-1)!;
      const lastBuf = await readFile(join(dir, last));
      const firstSeq = Number(last.slice(0, 20));
      const at = (29 - firstSeq) * REC + HEADER_BYTES + 1;
      lastBuf[at] = lastBuf[at]! ^ 0x01;
      await writeFile(join(dir, last), lastBuf);
      expect(s.stats().segments).toBeGreaterThan(2);
    });
    expect(stats.recoveredBytesSkipped).toBe(REC);
    expect(seqs).toEqual(Array.from({ length: 30 }, (_, i) => i + 1).filter((x) => x !== 2 && x !== 29));
  });

  it('continues numbering when the last segment was created but never written', async () => {
    await writeRecords(12, 200);
    const s = await Spool.open({ dir, maxBytes: 1 << 26, logger: memoryLogger().logger, segmentBytes: 200 });
    const segs = s.stats().segments;
    await s.close();
    // A roll created the file, then the process died before anything was written to it.
    await writeFile(join(dir, segmentFileName(13)), Buffer.alloc(0));
    const { seqs, stats } = await readAll(async (sp) => {
      expect(await sp.append([payloadFor(13, SIZE)])).toBe(13);
    });
    expect(stats.segments).toBe(segs + 1);
    expect(seqs).toEqual(Array.from({ length: 13 }, (_, i) => i + 1));
  });
});
