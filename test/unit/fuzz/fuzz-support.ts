/**
 * Seeded random inputs for the fuzz tests: valid device output from the simulator as seeds, and
 * mutations of it (bit flips, byte insertions and deletions, truncation, splices, noise).
 */
import { SimDevice, type SimProfile } from '../../../firmware-sim/device.js';
import { loadScenario } from '../../../firmware-sim/scenario.js';

/** mulberry32: small, fast, seeded. Returns floats in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const int = (r: () => number, n: number): number => Math.floor(r() * n);

/** Valid units (lines, frames or payloads) a simulated device of `profile` sends in `seconds`. */
export function validUnits(profile: SimProfile, seconds: number, scenario = 'sepsis'): Buffer[] {
  const dev = new SimDevice({ id: 'fz-1', profile, scenario: loadScenario(scenario), seed: 7, nibpIntervalS: 20, intervalS: 1 });
  const out: Buffer[] = [];
  for (const c of dev.generate(0, seconds)) if (c.kind === 'data') out.push(c.bytes);
  return out;
}

const INTERESTING = [0x00, 0x0a, 0x0d, 0x20, 0x22, 0x2c, 0x2d, 0x2e, 0x30, 0x39, 0x3a, 0x3d, 0x5b, 0x5d, 0x7b, 0x7d, 0x7e, 0x7f, 0x80, 0xff];

/** One random mutation of `b` (never returns `b` itself). */
export function mutate(b: Buffer, r: () => number): Buffer {
  const x = Buffer.from(b);
  switch (int(r, 8)) {
    case 0: {
      // flip bits
      for (let i = 0, n = 1 + int(r, 4); i < n && x.length > 0; i++) x[int(r, x.length)]! ^= 1 << int(r, 8);
      return x;
    }
    case 1: {
      // replace a byte with an interesting one
      if (x.length > 0) x[int(r, x.length)] = INTERESTING[int(r, INTERESTING.length)]!;
      return x;
    }
    case 2: {
      const at = int(r, x.length + 1);
      return Buffer.concat([x.subarray(0, at), Buffer.from([int(r, 256)]), x.subarray(at)]);
    }
    case 3: {
      const at = int(r, Math.max(1, x.length));
      return Buffer.concat([x.subarray(0, at), x.subarray(at + 1 + int(r, 8))]);
    }
    case 4:
      return x.subarray(0, int(r, x.length));
    case 5: {
      // duplicate a stretch
      const a = int(r, x.length + 1);
      const e = Math.min(x.length, a + int(r, 40));
      return Buffer.concat([x.subarray(0, e), x.subarray(a, e), x.subarray(e)]);
    }
    case 6:
      return randomBytes(r, int(r, 200));
    default: {
      // digits swapped for other digits or signs: implausible but well-formed values
      const s = x.toString('latin1').replace(/\d+(\.\d+)?/g, (m) => (r() < 0.3 ? ['-1', '99999', '1e309', 'NaN', '0', '-0', '3.4e38'][int(r, 7)]! : m));
      return Buffer.from(s, 'latin1');
    }
  }
}

export function randomBytes(r: () => number, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = int(r, 256);
  return b;
}

/** Splits `b` into random chunks (as serial reads arrive). */
export function chunks(b: Buffer, r: () => number): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  while (at < b.length) {
    const n = 1 + int(r, 64);
    out.push(b.subarray(at, at + n));
    at += n;
  }
  return out;
}
