import { afterEach, beforeEach, describe, expect, it } from 'vitest';
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

describe('Spool group commit under load', () => {
  it('takes 20,000 appends of 200 bytes from 500 concurrent callers with far fewer fsyncs, in order', async () => {
    const spool = await Spool.open({ dir, maxBytes: 1 << 30, logger: memoryLogger().logger });
    try {
      const total = 20_000;
      const callers = 500;
      const perCaller = total / callers;
      // Each caller appends its records one after another; a caller's seqs must increase.
      const seqsBy: number[][] = Array.from({ length: callers }, () => []);
      const started = process.hrtime.bigint();
      await Promise.all(
        seqsBy.map(async (seqs, c) => {
          for (let k = 0; k < perCaller; k++) seqs.push(await spool.append([payloadFor(c * perCaller + k, 200)]));
        }),
      );
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const st = spool.stats();
      // Printed for the record; timing depends on the disk, so it is not asserted.
      console.log(
        `spool group commit: ${total} appends x 200 B from ${callers} callers in ${seconds.toFixed(3)} s = ` +
          `${Math.round(total / seconds)} records/s, ${st.fsyncs} fsyncs (${(total / st.fsyncs).toFixed(1)} records/fsync)`,
      );
      expect(st.appended).toBe(total);
      expect(st.lastSeq).toBe(total);
      expect(st.fsyncs).toBeLessThan(total / 20);
      for (const seqs of seqsBy) for (let i = 1; i < seqs.length; i++) expect(seqs[i]!).toBeGreaterThan(seqs[i - 1]!);
      expect(new Set(seqsBy.flat()).size).toBe(total);
      // Every record is readable and holds what its caller appended.
      const r = await spool.reader('r');
      const readStart = process.hrtime.bigint();
      const b = await r.read(total);
      const readSeconds = Number(process.hrtime.bigint() - readStart) / 1e9;
      console.log(`spool read: ${total} records in one read() in ${readSeconds.toFixed(3)} s = ${Math.round(total / readSeconds)} records/s`);
      expect(b.entries.length).toBe(total);
      const bySeq = new Map<number, number>();
      seqsBy.forEach((seqs, c) => seqs.forEach((s, k) => bySeq.set(s, c * perCaller + k)));
      for (const e of b.entries) expect(e.payload.equals(payloadFor(bySeq.get(e.seq)!, 200))).toBe(true);
    } finally {
      await spool.close();
    }
  });
});
