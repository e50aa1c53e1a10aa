import { describe, expect, it } from 'vitest';
import { BlobReader, BlobWriter } from '../../../src/core/blobs.js';

describe('BlobWriter and BlobReader', () => {
  it('give back every part added, in order, from the arrays themselves (no copy)', () => {
    const w = new BlobWriter();
    const big = new Float64Array(700_000).map((_, i) => i * 0.5); // 5.6 MB
    const small = new Uint16Array([1, 2, 3]);
    const refs = [w.add(small), w.add(big, small), w.add(new Uint8Array(0)), w.add(small)];
    // views of the arrays: what is written is what they hold when it is written
    const parts = [...w.parts()];
    expect(parts[0]!.buffer).toBe(small.buffer);
    expect(parts[1]!.buffer).toBe(big.buffer);
    const r = new BlobReader(Buffer.concat(parts));
    const u16 = (b: Buffer): number[] => [...new Uint16Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length))];
    expect(u16(r.get(refs[0]!))).toEqual([1, 2, 3]);
    const both = r.get(refs[1]!);
    expect(both.length).toBe(big.byteLength + 6);
    const f64 = new Float64Array(both.buffer.slice(both.byteOffset, both.byteOffset + big.byteLength));
    expect(f64[10]).toBe(5);
    expect(f64[699_999]).toBe(349_999.5);
    expect(u16(both.subarray(big.byteLength))).toEqual([1, 2, 3]);
    expect(refs[2]).toEqual({ blob: refs[1]!.blob + refs[1]!.bytes, bytes: 0 });
    expect(u16(r.get(refs[3]!))).toEqual([1, 2, 3]);
  });

  it('makes a later part only when the parts are written, in its place, and refuses one of another length than it named', () => {
    const w = new BlobWriter();
    let made = 0;
    const column = new Float64Array([1.5, 2.5]);
    const a = w.add(new Uint8Array([7]));
    const b = w.later(17, {
      blobParts: () => {
        made++;
        return [column.slice(), new Uint8Array([9])];
      },
    });
    const c = w.add(new Uint8Array([8]));
    expect(made).toBe(0);
    expect([a, b, c]).toEqual([{ blob: 0, bytes: 1 }, { blob: 1, bytes: 17 }, { blob: 18, bytes: 1 }]);
    // changed after the snapshot, before the write: what is written is what it holds then
    column[1] = 4;
    const r = new BlobReader(Buffer.concat([...w.parts()]));
    expect(made).toBe(1);
    const got = r.get(b);
    expect([...new Float64Array(got.buffer.slice(got.byteOffset, got.byteOffset + 16))]).toEqual([1.5, 4]);
    expect([r.get(a)[0], got[16], r.get(c)[0]]).toEqual([7, 9, 8]);
    const short = new BlobWriter();
    short.later(5, { blobParts: () => [new Uint8Array(4)] });
    expect(() => [...short.parts()]).toThrow('made 4 bytes where 5 were named');
  });

  it('refuses a reference past the end, naming both sizes', () => {
    const r = new BlobReader(Buffer.alloc(10));
    expect(() => r.get({ blob: 4, bytes: 7 })).toThrow('saved state names bytes 4–11 of its binary part, which holds 10');
  });
});
