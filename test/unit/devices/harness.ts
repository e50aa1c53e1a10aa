/**
 * Shared helpers for the device fixture tables: run bytes through a profile's framer and
 * decoder the way the serial source and ingest do, and load the fixture cases.
 */
import { readFileSync } from 'node:fs';
import { DecodeError } from '../../../src/core/errors.js';
import type { Decoded, Framer, SerialProfile } from '../../../src/core/profile.js';

/** What one frame (or one discarded stretch) turned into. */
export type Outcome =
  | { readonly decoded: Decoded }
  | { readonly decodeError: string }
  | { readonly framingError: string; readonly bytes: number };

export interface Run {
  readonly outcomes: Outcome[];
  /** Largest `buffered` count the framer reported after any push. */
  readonly maxHeld: number;
}

/** A framer that reports how many bytes it holds (both of ours do). */
export function heldBytes(framer: Framer): number {
  const held = (framer as { buffered?: unknown }).buffered;
  if (typeof held !== 'number') throw new Error('framer does not report buffered bytes');
  return held;
}

/** Feeds the chunks, in order, through one fresh framer and decodes every frame. */
export function run(profile: SerialProfile, chunks: readonly Buffer[]): Run {
  const framer = profile.createFramer();
  const outcomes: Outcome[] = [];
  let maxHeld = 0;
  for (const chunk of chunks) {
    for (const item of framer.push(chunk)) {
      if ('error' in item) {
        outcomes.push({ framingError: item.error, bytes: item.bytes });
        continue;
      }
      try {
        outcomes.push({ decoded: profile.decode(item.frame, { deviceId: 'dev-1', receivedAt: 0 }) });
      } catch (err) {
        if (!(err instanceof DecodeError)) throw err;
        outcomes.push({ decodeError: err.reason });
      }
    }
    maxHeld = Math.max(maxHeld, heldBytes(framer));
  }
  return { outcomes, maxHeld };
}

/** One fixture case as stored in `devices/<name>/fixtures/cases.json`. */
interface RawCase {
  readonly name: string;
  /** ASCII wire text, or for binary profiles hex bytes separated by spaces. */
  readonly wire: string;
  readonly expect: readonly RawOutcome[];
}
type RawOutcome =
  | { readonly decoded: { readonly deviceTs: string | null } & Omit<Decoded, 'deviceTs'> }
  | { readonly decodeError: string }
  | { readonly framingError: string; readonly bytes: number };

export interface Case {
  readonly name: string;
  readonly wire: Buffer;
  readonly expect: readonly Outcome[];
}

/** Loads a fixture table; `deviceTs` is stored as ISO 8601 (or null) and returned as epoch ms. */
export function loadCases(url: URL, encoding: 'ascii' | 'hex'): Case[] {
  const raw = JSON.parse(readFileSync(url, 'utf8')) as RawCase[];
  return raw.map((c) => ({
    name: c.name,
    wire: encoding === 'hex' ? Buffer.from(c.wire.replace(/\s+/g, ''), 'hex') : Buffer.from(c.wire, 'latin1'),
    expect: c.expect.map((o): Outcome => {
      if (!('decoded' in o)) return o;
      const { deviceTs, ...rest } = o.decoded;
      return { decoded: deviceTs === null ? rest : { ...rest, deviceTs: Date.parse(deviceTs) } };
    }),
  }));
}

/** Small seeded PRNG (mulberry32) so random tests are repeatable. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Cuts `bytes` into chunks of random sizes between 1 and `max`. */
export function randomChunks(bytes: Buffer, random: () => number, max: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; ) {
    const n = 1 + Math.floor(random() * max);
    out.push(bytes.subarray(i, i + n));
    i += n;
  }
  return out;
}

/** Readings and events of the decoded outcomes only, in order. */
export function decodedOnly(outcomes: readonly Outcome[]): Decoded[] {
  return outcomes.flatMap((o) => ('decoded' in o ? [o.decoded] : []));
}
