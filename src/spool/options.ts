/** Spool options, their defaults, and validation that names the setting at fault. */
import { ConfigError } from '../core/errors.js';
import type { Logger } from '../core/log.js';

export interface SpoolOptions {
  /** Directory of the spool; created when missing. */
  readonly dir: string;
  /** Bound on the bytes of all segment files together. */
  readonly maxBytes: number;
  /** A new segment file is started once the active one reaches this size, bytes. */
  readonly segmentBytes?: number;
  /** Group-commit window, ms: appends arriving within it share one write and one fsync. */
  readonly commitIntervalMs?: number;
  /** `nearFull` once bytes / maxBytes reaches this ratio. */
  readonly warnRatio?: number;
  /**
   * Readers that keep records for their own use (a restart's replay) but deliver them nowhere:
   * they hold data back like any reader, but alone they never let retention delete anything.
   */
  readonly holders?: readonly string[];
  readonly logger?: Logger;
}

/** Defaults merged under `SpoolOptions`. */
export const SPOOL_DEFAULTS = {
  segmentBytes: 16 * 1024 * 1024,
  commitIntervalMs: 2,
  warnRatio: 0.8,
} as const;

/** Options after validation and defaults. */
export interface Settings {
  dir: string;
  maxBytes: number;
  segmentBytes: number;
  commitIntervalMs: number;
  warnRatio: number;
  holders: ReadonlySet<string>;
}

export function checkOptions(o: SpoolOptions): Settings {
  const fail = (path: string, msg: string): never => {
    throw new ConfigError(`spool.${path}: ${msg}`);
  };
  if (typeof o.dir !== 'string' || o.dir === '') fail('dir', 'must be a non-empty path');
  if (!Number.isSafeInteger(o.maxBytes) || o.maxBytes <= 0) fail('maxBytes', `must be a positive integer of bytes, got ${o.maxBytes}`);
  const segmentBytes = o.segmentBytes ?? SPOOL_DEFAULTS.segmentBytes;
  if (!Number.isSafeInteger(segmentBytes) || segmentBytes <= 0) fail('segmentBytes', `must be a positive integer of bytes, got ${segmentBytes}`);
  const commitIntervalMs = o.commitIntervalMs ?? SPOOL_DEFAULTS.commitIntervalMs;
  if (!Number.isFinite(commitIntervalMs) || commitIntervalMs < 0) fail('commitIntervalMs', `must be >= 0, got ${commitIntervalMs}`);
  const warnRatio = o.warnRatio ?? SPOOL_DEFAULTS.warnRatio;
  if (!(warnRatio > 0 && warnRatio <= 1)) fail('warnRatio', `must be in (0, 1], got ${warnRatio}`);
  return { dir: o.dir, maxBytes: o.maxBytes, segmentBytes, commitIntervalMs, warnRatio, holders: new Set(o.holders ?? []) };
}
