/**
 * Pieces shared by every spool reader that forwards downstream (InfluxDB writer, alarm webhook,
 * upstream bridge): an abortable sleep and the idle wait for new records.
 */
import type { SpoolReader } from '../spool/types.js';

/** Waits `ms`, resolving early (never rejecting) when `signal` aborts. */
export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

/** The real-timer {@link Sleep}. */
export const abortableSleep: Sleep = (ms, signal) =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });

/**
 * Waits until the reader has records, `signal` aborts, or `pollMs` passes. The timer bounds the
 * wait in case a notification is missed; it is not backoff, so it uses real time even when a
 * test injects an instant sleep (which would make the loop spin).
 */
export async function waitForRecords(reader: SpoolReader, pollMs: number, signal: AbortSignal): Promise<void> {
  const local = new AbortController();
  const both = AbortSignal.any([signal, local.signal]);
  await Promise.race([reader.waitForData(both), abortableSleep(pollMs, both)]);
  local.abort();
}
