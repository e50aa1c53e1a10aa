/**
 * Seeded pseudo-random numbers for the simulator. Nothing here reads `Math.random`: the same seed
 * gives the same patient, the same artifacts and the same corrupted bytes on every machine.
 *
 * Two shapes are offered. A sequential generator (mulberry32) for drawing lists of things once,
 * such as the motion artifacts of one ten-minute window. And a stateless hash of
 * (seed, stream, index) for per-sample noise, so the value at any virtual time can be computed
 * without replaying everything before it.
 */

/** A stream of uniform numbers in [0, 1). */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform in [min, max). */
  uniform(min: number, max: number): number;
  /** Integer in [min, max], both ends included. */
  int(min: number, max: number): number;
  /** Standard normal (mean 0, sd 1), Box–Muller. */
  normal(): number;
}

/** Mixes a 32-bit integer (the finaliser of MurmurHash3): small input changes flip many bits. */
export function mix32(x: number): number {
  let h = x >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

const stringHashes = new Map<string, number>();

/** FNV-1a of a string, for turning stream names and device ids into seeds. */
export function hashString(s: string): number {
  const known = stringHashes.get(s);
  if (known !== undefined) return known;
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // Stream names repeat on every sample; device ids are few. Bounded all the same.
  if (stringHashes.size < 4096) stringHashes.set(s, h >>> 0);
  return h >>> 0;
}

/** Combines a seed with any number of keys (numbers or names) into one 32-bit seed. */
export function deriveSeed(seed: number, ...keys: Array<number | string>): number {
  let h = mix32(seed ^ 0x9e3779b9);
  for (const k of keys) {
    const v = typeof k === 'string' ? hashString(k) : Math.floor(k) | 0;
    h = mix32(h ^ mix32(v + 0x6d2b79f5));
  }
  return h;
}

/** mulberry32: tiny, fast, good enough for simulation (not for cryptography). */
export function createRng(seed: number): Rng {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    uniform: (min, max) => min + (max - min) * next(),
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    normal: () => boxMuller(next(), next()),
  };
}

/** Uniform in [0, 1) that depends only on its arguments. */
export function hashUniform(seed: number, ...keys: Array<number | string>): number {
  return deriveSeed(seed, ...keys) / 4294967296;
}

/** Standard normal that depends only on its arguments. */
export function hashNormal(seed: number, ...keys: Array<number | string>): number {
  return boxMuller(hashUniform(seed, ...keys, 1), hashUniform(seed, ...keys, 2));
}

function boxMuller(u1: number, u2: number): number {
  // 1 - u keeps the log argument in (0, 1].
  return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
}
