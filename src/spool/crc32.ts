/**
 * CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), the checksum zlib and gzip use, from
 * zlib itself (`zlib.crc32`, Node ≥ 20.15: the engines this project supports).
 */
import { crc32 as zlibCrc32 } from 'node:zlib';

/**
 * CRC-32 of `buf[start, end)`, continuing from `crc` (the result of a previous call; 0 to start).
 * `crc32(b)` equals zlib's `crc32(b)`; feeding a buffer in pieces gives the same result as whole.
 */
export function crc32(buf: Uint8Array, crc = 0, start = 0, end = buf.length): number {
  return zlibCrc32(start === 0 && end === buf.length ? buf : buf.subarray(start, end), crc);
}
