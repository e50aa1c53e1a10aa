/**
 * The forwarder's timing pieces (forwarder.ts): an abortable sleep, the idle wait for new
 * records, and the life of the loop from start to a clean stop.
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

/**
 * The life of a forwarder's loop. `stop()` stops new work at once (the signal aborts, so sleeps
 * and idle waits end) but lets the request in flight finish, aborting it only after
 * `stopTimeoutMs`, so a batch the database is already taking is committed rather than resent.
 */
export class ForwardLoop {
  readonly #stopAbort = new AbortController();
  #requestAbort: AbortController | undefined;
  #graceOver = false;
  #loop: Promise<void> | undefined;

  constructor(private readonly stopTimeoutMs: number) {}

  /** True once `stop()` was called. */
  get stopping(): boolean {
    return this.#stopAbort.signal.aborted;
  }

  /** True once `start()` or `stop()` was called. */
  get started(): boolean {
    return this.#loop !== undefined || this.stopping;
  }

  /** Aborts when `stop()` is called: pass it to sleeps and waits. */
  get signal(): AbortSignal {
    return this.#stopAbort.signal;
  }

  /** Starts `run` once; does nothing after `stop()`. */
  start(run: () => Promise<void>): void {
    if (this.#loop || this.stopping) return;
    this.#loop = run();
  }

  /** Stops the loop and waits for it, aborting the request in flight after `stopTimeoutMs`. */
  async stop(): Promise<void> {
    this.#stopAbort.abort();
    const timer = setTimeout(() => {
      this.#graceOver = true;
      this.#requestAbort?.abort();
    }, this.stopTimeoutMs);
    try {
      await this.#loop;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Runs one downstream request with the signal `stop()` aborts once its grace has passed. */
  async request<T>(send: (signal: AbortSignal) => Promise<T>): Promise<T> {
    this.#requestAbort = new AbortController();
    if (this.#graceOver) this.#requestAbort.abort();
    try {
      return await send(this.#requestAbort.signal);
    } finally {
      this.#requestAbort = undefined;
    }
  }
}
