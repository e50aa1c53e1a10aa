/**
 * The GE/Datex-Ohmeda S/5 "DRI" computer interface: record layout, framing and the transfer
 * request, as one table the decoder, the request builder and the simulator all read. Sources
 * (facts only): xeonfusion/VSCaptureWave `S5Protocol.cs` and its DataConstants, wei2374/
 * monitor_serial `datex.h` and `datex_lib.c`, and a real record in that repository's
 * `result.txt`. All multi-byte fields are little-endian.
 */

/** Frame delimiter. [DRI] */
export const DRI_FLAG = 0x7e;
/** Escape byte: the byte after it is XORed with 0x20 (0x7E → 7D 5E, 0x7D → 7D 5D). [DRI] */
export const DRI_ESCAPE = 0x7d;
export const DRI_ESCAPE_XOR = 0x20;

/** Record header: r_len i16, r_nbr u8, dri_level u8, plug_id u16, r_time u32, n_subnet u8, reserved u8, reserved u16, r_maintype i16, then 8 × (sr_offset i16, sr_type u8). */
export const DRI_HEADER = {
  size: 40,
  rLen: 0,
  rNbr: 2,
  driLevel: 3,
  plugId: 4,
  rTime: 6,
  mainType: 14,
  descriptors: 16,
  descriptorSize: 3,
  descriptorCount: 8,
} as const;

/** Record main types. [datex.h DRI_MT_*] */
export const DRI_MAINTYPE = { phdb: 0, wave: 1, alarm: 4, network: 5, fo: 8 } as const;
/** Subrecord type that ends the descriptor list. [datex.h DRI_EOL_SUBR_LIST] */
export const DRI_EOL_SUBR_LIST = 0xff;
/** Physiological subrecord types. [datex.h DRI_PH_*] Type 0 carries a transfer request. */
export const DRI_PH = { request: 0, displayed: 1, trend10s: 2, trend60s: 3, auxInfo: 4 } as const;
/** DRI levels (`dri_level`). [VSCaptureWave DataConstants] */
export const DRI_LEVEL = { l2001: 0x07, l2003: 0x08, l2005: 0x09, l2009: 0x0a, l2015: 0x0b } as const;
/** Classes of a physiological subrecord, in `cl_drilvl_subt` bits 8–11. [datex.h dri_phdb_class] */
export const DRI_CLASS = { basic: 0, ext1: 1, ext2: 2, ext3: 3 } as const;

/**
 * One physiological subrecord (`dri_phdb`, 278 bytes): time u32 (s since 1970, UTC), 270 bytes of
 * class data, marker u8, reserved u8, cl_drilvl_subt u16 (subtype bits 0–3, DRI level bits 4–7,
 * class bits 8–11, as the real record shows: 0x00B1 = basic, level 0xB, displayed).
 */
export const DRI_PHDB = { size: 278, time: 0, data: 4, marker: 274, clDrilvlSubt: 276 } as const;

/**
 * Groups of the basic class, by offset inside the subrecord (time included). Each group starts
 * with a header: status u32 (bit 0 exists, bit 1 active) and label u16, then int16 values.
 * [datex.h basic_phdb]
 */
export const DRI_BASIC = {
  ecg: { at: 4, fields: ['hr', 'st1', 'st2', 'st3', 'impRr'] },
  p1: { at: 20, fields: ['sys', 'dia', 'mean', 'hr'] },
  nibp: { at: 76, fields: ['sys', 'dia', 'mean', 'hr'] },
  t1: { at: 90, fields: ['temp'] },
  t2: { at: 98, fields: ['temp'] },
  t3: { at: 106, fields: ['temp'] },
  t4: { at: 114, fields: ['temp'] },
  spo2: { at: 122, fields: ['spo2', 'pr', 'irAmp', 'svo2'] },
  co2: { at: 136, fields: ['et', 'fi', 'rr', 'ambPress'] },
} as const;
export type DriGroupName = keyof typeof DRI_BASIC;
/** Size of a group header (status u32, label u16), in bytes. */
export const DRI_GROUP_HEADER = 6;
/** Group status bits. [datex.h phdb_status_bits] */
export const DRI_STATUS = { exists: 0x1, active: 0x2 } as const;

/** Byte offset of a group's field inside the subrecord. */
export function driFieldOffset(group: DriGroupName, field: string): number {
  const g = DRI_BASIC[group];
  const i = (g.fields as readonly string[]).indexOf(field);
  if (i < 0) throw new RangeError(`no field ${field} in group ${group}`);
  return g.at + DRI_GROUP_HEADER + 2 * i;
}

/**
 * Values at or below −32001 are markers, never measurements. [datex.h, VSCaptureWave
 * DataConstants DATA_INVALID_LIMIT]
 */
export const DRI_MARKER_LIMIT = -32001;
export const DRI_MARKER = {
  invalid: -32767,
  notUpdated: -32766,
  discontinuity: -32765,
  underRange: -32764,
  overRange: -32763,
  notCalibrated: -32762,
} as const;

/** The transfer request sub-record (`dri_phdb_req`, 9 bytes): type u8, tx_ival i16 (s), class_bf u32, reserved i16. */
export const DRI_REQUEST = { size: 9, type: 0, interval: 1, classes: 3 } as const;
/** `phdb_class_bf` bits. [datex.h DRI_PHDBCL_*] 0 asks for the basic class only. */
export const DRI_CLASS_MASK = { denyBasic: 0x1, ext1: 0x2, ext2: 0x4, ext3: 0x8 } as const;

/** 8-bit sum of the record bytes. [DRI] It closes every frame, over the bytes before escaping. */
export function driChecksum(bytes: Uint8Array): number {
  let sum = 0;
  for (const b of bytes) sum = (sum + b) & 0xff;
  return sum;
}

/** A whole frame for a record: flag, escaped(record + checksum), flag. */
export function driFrame(record: Uint8Array): Buffer {
  const out: number[] = [DRI_FLAG];
  const push = (b: number) => {
    if (b === DRI_FLAG || b === DRI_ESCAPE) out.push(DRI_ESCAPE, b ^ DRI_ESCAPE_XOR);
    else out.push(b);
  };
  for (const b of record) push(b);
  push(driChecksum(record));
  out.push(DRI_FLAG);
  return Buffer.from(out);
}

/** An empty record of `length` bytes with its header filled in and its descriptor list. */
export function driRecord(
  length: number,
  header: { readonly level: number; readonly time: number; readonly mainType: number },
  descriptors: readonly { readonly offset: number; readonly type: number }[],
): Buffer {
  if (descriptors.length >= DRI_HEADER.descriptorCount) throw new RangeError('a record holds at most 7 subrecords and the end marker');
  const r = Buffer.alloc(length);
  r.writeInt16LE(length, DRI_HEADER.rLen);
  r.writeUInt8(header.level, DRI_HEADER.driLevel);
  r.writeUInt32LE(header.time >>> 0, DRI_HEADER.rTime);
  r.writeInt16LE(header.mainType, DRI_HEADER.mainType);
  [...descriptors, { offset: 0, type: DRI_EOL_SUBR_LIST }].forEach((d, i) => {
    const at = DRI_HEADER.descriptors + i * DRI_HEADER.descriptorSize;
    r.writeInt16LE(d.offset, at);
    r.writeUInt8(d.type, at + 2);
  });
  return r;
}

/**
 * The frames a host sends to start displayed-values transfer: one request per DRI level, since a
 * monitor answers only the request of its own level (VSCaptureWave sends 2015, 2009, 2005, 2003
 * and 2001 in turn). `intervalS` is seconds between records (the monitor's minimum is 5); 0
 * stops the transfer. `classes` is the `phdb_class_bf` (0: basic class only).
 */
export function driTransferRequests(intervalS: number, classes = 0, levels: readonly number[] = Object.values(DRI_LEVEL).reverse()): Buffer[] {
  return levels.map((level) => {
    const r = driRecord(DRI_HEADER.size + DRI_REQUEST.size, { level, time: 0, mainType: DRI_MAINTYPE.phdb }, [{ offset: 0, type: DRI_PH.request }]);
    const at = DRI_HEADER.size;
    r.writeUInt8(DRI_PH.displayed, at + DRI_REQUEST.type);
    r.writeInt16LE(intervalS, at + DRI_REQUEST.interval);
    r.writeUInt32LE(classes >>> 0, at + DRI_REQUEST.classes);
    return driFrame(r);
  });
}
