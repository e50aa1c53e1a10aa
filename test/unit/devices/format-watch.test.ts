import { describe, expect, it } from 'vitest';
import { FORMAT_MISMATCH_AFTER, FormatWatch } from '../../../src/sources/serial-format-watch.js';

function watch() {
  const calls: string[] = [];
  const w = new FormatWatch('masimo-ascii1', { mismatch: (d) => calls.push(`mismatch ${d}`), matched: () => calls.push('matched') });
  return { w, calls };
}

describe('FormatWatch', () => {
  it(`reports once after ${FORMAT_MISMATCH_AFTER} rejected frames in a row, however many follow`, () => {
    const { w, calls } = watch();
    for (let i = 0; i < FORMAT_MISMATCH_AFTER - 1; i++) w.frame('format_mismatch');
    expect(calls).toEqual([]);
    w.frame('framing_error: line_too_long');
    expect(calls).toEqual([`mismatch ${FORMAT_MISMATCH_AFTER} frames in a row are not masimo-ascii1 (last: framing_error: line_too_long); check the port's profile and the device's output setting`]);
    for (let i = 0; i < 5000; i++) w.frame('format_mismatch');
    expect(calls).toHaveLength(1);
    expect(w.mismatched).toBe(true);
  });

  it('recovers on a good frame, and reports a later episode again', () => {
    const { w, calls } = watch();
    for (let i = 0; i < FORMAT_MISMATCH_AFTER; i++) w.frame('bad_line');
    w.frame(null);
    expect(calls.slice(1)).toEqual(['matched']);
    expect(w.mismatched).toBe(false);
    for (let i = 0; i < FORMAT_MISMATCH_AFTER; i++) w.frame('bad_line');
    expect(calls.filter((c) => c.startsWith('mismatch'))).toHaveLength(2);
  });

  it('a good frame between rejections starts the count again; implausible values say nothing of the format', () => {
    const { w, calls } = watch();
    for (let round = 0; round < 100; round++) {
      for (let i = 0; i < FORMAT_MISMATCH_AFTER - 1; i++) w.frame(i % 2 ? 'bad_value' : 'implausible_value');
      w.frame(null);
    }
    for (let i = 0; i < 3 * FORMAT_MISMATCH_AFTER; i++) w.frame('implausible_value');
    expect(calls).toEqual([]);
  });
});
