/**
 * Forwards the spool to InfluxDB. The spool is the only buffer: the writer reads a batch, writes
 * it, and commits the reader's cursor only after a 2xx, so an outage of any length loses nothing
 * (bounded by the spool's size, not by memory). Transient failures retry the same batch with
 * backoff; lines the database refuses for good are isolated by bisection and dead-lettered;
 * an auth or bucket problem keeps everything in the spool and names the setting to fix.
 */
import { SinkError } from '../core/errors.js';
import { log, type Logger } from '../core/log.js';
import type { Service } from '../core/types.js';
import type { SpoolBatch, SpoolReader } from '../spool/types.js';
import { retryDelay } from './backoff.js';
import { DeadLetterFile, type DeadLetter } from './dead-letter.js';
import { CONFIG_STATUSES, createInfluxSender, type LineSender } from './influx-transport.js';
import { encodeEntries, type EncodedLine } from './line-protocol.js';
import { LatencyRecorder, type WriterState, type WriterStats } from './write-stats.js';

export type { WriterStats, WriterState, LatencyHistogram } from './write-stats.js';

import { abortableSleep, ForwardLoop, waitForRecords, type Sleep } from './forwarding.js';

export type { Sleep } from './forwarding.js';

export interface InfluxWriterOptions {
  /** Base URL of InfluxDB (or anything speaking its v2 write API). */
  readonly url: string;
  readonly token: string;
  readonly org: string;
  readonly bucket: string;
  readonly reader: SpoolReader;
  /** JSON-lines file for refused records. */
  readonly deadLetterPath: string;
  /** Records per request. Default 5000. */
  readonly batchSize?: number;
  /** Longest a partial batch waits for more records, in ms. Default 1000. */
  readonly flushIntervalMs?: number;
  /** First retry's backoff ceiling, in ms. Default 250. */
  readonly minBackoffMs?: number;
  /** Longest backoff between retries, in ms. Default 30000. */
  readonly maxBackoffMs?: number;
  /** Per-request timeout, in ms. Default 10000. */
  readonly requestTimeoutMs?: number;
  /** How long `stop()` lets an in-flight request finish before aborting it, in ms. Default 5000. */
  readonly stopTimeoutMs?: number;
  readonly logger?: Logger;
  /** Replaces the HTTP transport (tests). */
  readonly sender?: LineSender;
  readonly sleep?: Sleep;
  /** Epoch ms. */
  readonly now?: () => number;
  /** Uniform draw in [0, 1) for backoff jitter. */
  readonly random?: () => number;
}

/** Longest idle wait before the spool is read again without a notification, in ms. */
const IDLE_POLL_MS = 1000;

/** The setting an operator should check for each configuration-type refusal. */
const SETTING_FOR_STATUS: Record<number, string> = {
  401: 'influx.token',
  403: 'influx.token',
  404: 'influx.bucket',
  405: 'influx.url',
};

/** Outcome of sending one set of lines: written, refused for good, or given up because of stop. */
type SendOutcome = 'ok' | 'stopped' | SinkError;

export class InfluxWriter implements Service {
  readonly name = 'influx-writer';
  readonly #reader: SpoolReader;
  readonly #sender: LineSender;
  readonly #deadLetters: DeadLetterFile;
  readonly #log: Logger;
  readonly #sleep: Sleep;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #batchSize: number;
  readonly #flushIntervalMs: number;
  readonly #backoff: { baseMs: number; maxMs: number };
  /** Aborts the request in flight; fresh per request because the client never removes its listener. */
  readonly #latency = new LatencyRecorder();
  readonly #loop: ForwardLoop;
  #state: WriterState = 'idle';
  #condition: string | undefined;
  #lastFlushAt = Number.NEGATIVE_INFINITY;
  #lastSuccessAt: number | undefined;
  #lastError: string | undefined;
  #batches = 0;
  #pointsWritten = 0;
  #retries = 0;
  #deadLettered = 0;
  #lastLatencyMs = 0;

  constructor(opts: InfluxWriterOptions) {
    this.#reader = opts.reader;
    this.#now = opts.now ?? Date.now;
    this.#sender =
      opts.sender ??
      createInfluxSender(
        { url: opts.url, token: opts.token, org: opts.org, bucket: opts.bucket, timeoutMs: opts.requestTimeoutMs ?? 10_000 },
        this.#now,
      );
    this.#deadLetters = new DeadLetterFile(opts.deadLetterPath);
    this.#log = (opts.logger ?? log()).child({ component: this.name });
    this.#sleep = opts.sleep ?? abortableSleep;
    this.#random = opts.random ?? Math.random;
    this.#batchSize = opts.batchSize ?? 5000;
    this.#flushIntervalMs = opts.flushIntervalMs ?? 1000;
    this.#backoff = { baseMs: opts.minBackoffMs ?? 250, maxMs: opts.maxBackoffMs ?? 30_000 };
    this.#loop = new ForwardLoop(opts.stopTimeoutMs ?? 5000);
    if (!(this.#batchSize >= 1)) throw new RangeError('influx.batchSize must be at least 1');
  }

  /** Starts the forwarding loop; resolves at once (an unreachable database is retried, not fatal). */
  async start(): Promise<void> {
    this.#loop.start(() => this.#run());
  }

  /** Lets an in-flight request finish (up to `stopTimeoutMs`), commits it, then stops. Idempotent. */
  async stop(): Promise<void> {
    try {
      await this.#loop.stop();
    } finally {
      this.#state = 'stopped';
    }
  }

  stats(): WriterStats {
    return {
      state: this.#state,
      ...(this.#lastSuccessAt !== undefined ? { lastSuccessAt: this.#lastSuccessAt } : {}),
      ...(this.#lastError !== undefined ? { lastError: this.#lastError } : {}),
      batches: this.#batches,
      pointsWritten: this.#pointsWritten,
      retries: this.#retries,
      deadLetters: this.#deadLettered,
      lastWriteLatencyMs: this.#lastLatencyMs,
      lagRecords: this.#reader.lag(),
      latency: this.#latency.snapshot(),
    };
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (!this.#loop.stopping) {
      try {
        const batch = await this.#reader.read(this.#batchSize);
        if (batch.entries.length === 0) {
          this.#state = 'idle';
          await this.#waitForData();
          continue;
        }
        // A partial batch lingers until the flush interval is up, so a trickle of records
        // becomes one request a second instead of one request per record.
        const sinceFlush = this.#now() - this.#lastFlushAt;
        if (batch.entries.length < this.#batchSize && sinceFlush < this.#flushIntervalMs) {
          await this.#sleep(this.#flushIntervalMs - sinceFlush, this.#loop.signal);
          this.#lastFlushAt = Number.NEGATIVE_INFINITY;
          continue;
        }
        this.#lastFlushAt = this.#now();
        await this.#deliver(batch);
        failures = 0;
      } catch (err) {
        // Spool or dead-letter I/O failed: the batch was not committed, so it is read again.
        this.#lastError = err instanceof Error ? err.message : String(err);
        this.#enter(`io:${this.#lastError}`, () => this.#log.error({ err }, 'spool or dead-letter I/O failed; will retry the batch'));
        this.#state = 'backing_off';
        await this.#sleep(retryDelay(failures++, this.#backoff, this.#random), this.#loop.signal);
      }
    }
  }

  async #waitForData(): Promise<void> {
    await waitForRecords(this.#reader, Math.max(this.#flushIntervalMs, IDLE_POLL_MS), this.#loop.signal);
  }

  /** Writes one batch to completion (or until stop) and commits it. */
  async #deliver(batch: SpoolBatch): Promise<void> {
    const { lines, rejected } = encodeEntries(batch.entries);
    const letters: DeadLetter[] = rejected.map((r) => ({ ts: this.#now(), status: null, reason: r.reason, line: r.raw, seq: r.seq }));
    if (rejected.length > 0) {
      this.#log.warn({ count: rejected.length, firstSeq: rejected[0]?.seq, reason: rejected[0]?.reason }, 'spool records could not be mapped to line protocol; dead-lettering them');
    }
    if (!(await this.#writeIsolating(lines, letters))) return;
    const refused = letters.length - rejected.length;
    if (refused > 0) {
      const first = letters[rejected.length];
      this.#log.warn({ count: refused, firstSeq: first?.seq, status: first?.status, reason: first?.reason }, 'InfluxDB refused lines for good; dead-lettering them');
    }
    if (letters.length > 0) {
      await this.#deadLetters.append(letters);
      this.#deadLettered += letters.length;
    }
    await this.#reader.commit(batch.next);
    this.#batches += 1;
    // Recovery is declared on a commit, not on any 2xx: a batch whose dead letters or commit
    // keep failing must not log "recovered" and "failed" on every retry.
    if (this.#condition !== undefined) {
      this.#log.info({ after: this.#condition, lagRecords: this.#reader.lag() }, 'InfluxDB writes recovered');
      this.#condition = undefined;
    }
  }

  /**
   * Writes the lines; when the database refuses them for good, bisects to find the refused
   * lines and adds them to `letters`. Returns false when stopped before finishing.
   */
  async #writeIsolating(lines: readonly EncodedLine[], letters: DeadLetter[]): Promise<boolean> {
    if (lines.length === 0) return true;
    const outcome = await this.#sendWithRetry(lines);
    if (outcome === 'ok') return true;
    if (outcome === 'stopped') return false;
    const only = lines.length === 1 ? lines[0] : undefined;
    if (only) {
      letters.push({ ts: this.#now(), status: outcome.statusCode ?? null, reason: outcome.message, line: only.line, seq: only.seq });
      return true;
    }
    // Lines already accepted in a half are rewritten on a later try; overwrite makes that harmless.
    const mid = lines.length >>> 1;
    return (await this.#writeIsolating(lines.slice(0, mid), letters)) && (await this.#writeIsolating(lines.slice(mid), letters));
  }

  /** Sends the lines until they are accepted, refused for good, or the writer stops. */
  async #sendWithRetry(lines: readonly EncodedLine[]): Promise<SendOutcome> {
    const body = lines.map((l) => l.line).join('\n');
    for (let attempt = 0; ; attempt++) {
      // Once stopping, only the request already in flight is finished; no new one starts.
      if (this.#loop.stopping) return 'stopped';
      this.#state = 'writing';
      const started = this.#now();
      let error: SinkError;
      try {
        await this.#loop.request((signal) => this.#sender.send(body, signal));
        this.#succeeded(lines.length, this.#now() - started);
        return 'ok';
      } catch (err) {
        error = err instanceof SinkError ? err : new SinkError(String(err), true);
      }
      this.#lastError = error.message;
      const status = error.statusCode;
      const configProblem = status !== undefined && CONFIG_STATUSES.has(status);
      if (!error.retryable && !configProblem) return error;
      if (this.#loop.stopping) return 'stopped';
      this.#retries += 1;
      let delay: number;
      if (configProblem) {
        // Retrying faster cannot fix a wrong token or bucket; wait the longest and keep the data.
        delay = this.#backoff.maxMs;
        const setting = SETTING_FOR_STATUS[status] ?? 'influx';
        this.#enter(`config:${status}`, () =>
          this.#log.error({ status, setting, reason: error.message }, `InfluxDB refused the write (HTTP ${status}); check ${setting}. Data stays in the spool and is retried`),
        );
      } else {
        delay = retryDelay(attempt, this.#backoff, this.#random, error.retryAfterMs);
        this.#enter(`retry:${status ?? 'network'}`, () =>
          this.#log.warn({ status, reason: error.message, retryAfterMs: error.retryAfterMs }, 'InfluxDB write failed; retrying the batch with backoff'),
        );
      }
      this.#state = 'backing_off';
      await this.#sleep(delay, this.#loop.signal);
    }
  }

  #succeeded(points: number, latencyMs: number): void {
    this.#pointsWritten += points;
    this.#lastLatencyMs = latencyMs;
    this.#latency.observe(latencyMs);
    this.#lastSuccessAt = this.#now();
  }

  /** Logs a failure condition once, when it starts, not on every retry. */
  #enter(condition: string, logIt: () => void): void {
    if (this.#condition === condition) return;
    this.#condition = condition;
    logIt();
  }
}
