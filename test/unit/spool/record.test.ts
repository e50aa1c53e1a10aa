import { describe, expect, it } from 'vitest';
import { encodeRecord, HEADER_BYTES, MAGIC, scanRecords } from '../../../src/spool/record.js';
import { payloadFor } from './helpers.js';

function encodeAll(seqs: number[], size = 24): Buffer {
  const parts = seqs.map((s) => {
    const p = payloadFor(s, size);
    const b = Buffer.alloc(HEADER_BYTES + p.length);
    encodeRecord(b, 0, s, p);
    return b;
  });
  return Buffer.concat(parts);
}

describe('record format', () => {
  it('round-trips seq and payload, including seqs above 2^32', () => {
    const seqs = [1, 2, 0xffffffff, 0x1_0000_0000, Number.MAX_SAFE_INTEGER];
    const buf = encodeAll(seqs);
    expect(buf.readUInt32LE(0)).toBe(MAGIC);
    expect(buf.subarray(0, 4).toString('latin1')).toBe('VGL1');
    const scan = scanRecords(buf, { afterSeq: 0, final: true });
    expect(scan.records.map((r) => r.seq)).toEqual(seqs);
    scan.records.forEach((r) => expect(r.payload.equals(payloadFor(r.seq, 24))).toBe(true));
    expect(scan.skipped).toEqual([]);
    expect(scan.end).toBe(buf.length);
  });

  it('skips a record with a flipped bit and keeps the ones after it', () => {
    const buf = encodeAll([1, 2, 3, 4]);
    const rec = HEADER_BYTES + 24;
    buf[rec + HEADER_BYTES + 5]! ^= 0x01; // payload byte of record 2
    const scan = scanRecords(buf, { afterSeq: 0, final: true });
    expect(scan.records.map((r) => r.seq)).toEqual([1, 3, 4]);
    expect(scan.skipped).toEqual([{ offset: rec, length: rec }]);
  });

  it('rejects a damaged length field (it is covered by the checksum)', () => {
    const buf = encodeAll([1, 2, 3]);
    const rec = HEADER_BYTES + 24;
    buf.writeUInt32LE(20, rec + 4); // shorter length for record 2
    const scan = scanRecords(buf, { afterSeq: 0, final: true });
    expect(scan.records.map((r) => r.seq)).toEqual([1, 3]);
  });

  it('waits for more bytes on a partial record unless final, where it is a torn tail', () => {
    const buf = encodeAll([1, 2]);
    const cut = buf.subarray(0, buf.length - 3);
    const open = scanRecords(cut, { afterSeq: 0, final: false });
    expect(open.records.map((r) => r.seq)).toEqual([1]);
    expect(open.skipped).toEqual([]);
    expect(open.end).toBe(HEADER_BYTES + 24);
    const fin = scanRecords(cut, { afterSeq: 0, final: true });
    expect(fin.records.map((r) => r.seq)).toEqual([1]);
    expect(fin.skipped).toEqual([{ offset: HEADER_BYTES + 24, length: cut.length - HEADER_BYTES - 24 }]);
  });

  it('refuses records that do not increase the sequence and honours maxRecords', () => {
    const buf = encodeAll([5, 6, 7]);
    expect(scanRecords(buf, { afterSeq: 5, final: true }).records.map((r) => r.seq)).toEqual([6, 7]);
    const two = scanRecords(buf, { afterSeq: 0, final: true, maxRecords: 2 });
    expect(two.records.map((r) => r.seq)).toEqual([5, 6]);
    expect(two.end).toBe(2 * (HEADER_BYTES + 24));
    expect(two.lastSeq).toBe(6);
  });
});
