/**
 * Forwards alarm transitions from the spool to an HTTP endpoint (paging or nurse-call systems) as
 * `POST {"alarms": [AlarmTransition, …]}`. The spool is the only buffer: the sink reads with its
 * own cursor, posts, and commits only after a 2xx, so an outage loses no alarm. Delivery is at
 * least once: after a crash or a stop mid-batch a receiver may see a transition again, and can
 * recognise it by `id`, `state` and `ts`. Transient failures retry the same batch with backoff;
 * transitions the endpoint refuses for good are isolated by bisection and dead-lettered; a wrong
 * URL or credentials keeps everything in the spool and names the setting to fix.
 */
import { ConfigError, SinkError } from '../core/errors.js';
import { log, type Logger } from '../core/log.js';
import type { Service } from '../core/types.js';
import type { SpoolBatch, SpoolReader } from '../spool/types.js';
import { retryDelay } from './backoff.js';
import { DeadLetterFile, type DeadLetter } from './dead-letter.js';
import { abortableSleep, ForwardLoop, waitForRecords, type Sleep } from './forwarding.js';
import type { WebhookOutcome, WebhookSinkOptions, WebhookStats } from './webhook-options.js';
import { scanForAlarms, type AlarmScan, type SpooledAlarm } from './webhook-records.js';
import { createWebhookPoster, webhookSettingFor, type JsonPoster } from './webhook-transport.js';
import type { WriterState } from './write-stats.js';

export { webhookConfigSchema, type WebhookConfig, type WebhookOutcome, type WebhookSinkOptions, type WebhookStats } from './webhook-options.js';
export type { Sleep } from './forwarding.js';
export type { Fetch } from './webhook-transport.js';


/** Longest idle wait before the spool is read again without a notification, in ms. */
const IDLE_POLL_MS = 1000;

/** Outcome of posting one set of transitions: accepted, refused for good, or given up because of stop. */
type PostOutcome = 'ok' | 'stopped' | SinkError;

export class WebhookSink implements Service {
  readonly name = 'alarm-webhook';
  readonly #reader: SpoolReader;
  readonly #poster: JsonPoster;
  readonly #deadLetters: DeadLetterFile;
  readonly #log: Logger;
  readonly #sleep: Sleep;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #endpoint: string;
  readonly #batchSize: number;
  readonly #readSize: number;
  readonly #commitIntervalMs: number;
  readonly #backoff: { baseMs: number; maxMs: number };
  readonly #loop: ForwardLoop;
  readonly #onResult: WebhookSinkOptions['onResult'];
  #state: WriterState = 'idle';
  #condition: string | undefined;
  #lastCommitAt = Number.NEGATIVE_INFINITY;
  #lastSuccessAt: number | undefined;
  #lastError: string | undefined;
  #delivered = 0;
  #retries = 0;
  #deadLettered = 0;

  constructor(opts: WebhookSinkOptions) {
    let endpoint: URL;
    try {
      endpoint = new URL(opts.url);
    } catch {
      throw new ConfigError('alarms.webhook.url: not a valid URL');
    }
    // Only the origin is logged: a webhook's path or query often carries its secret.
    this.#endpoint = endpoint.origin;
    this.#reader = opts.reader;
    this.#now = opts.now ?? Date.now;
    const timeoutMs = opts.timeoutMs ?? 10_000;
    this.#poster = createWebhookPoster({ url: opts.url, timeoutMs, now: this.#now, ...(opts.headers ? { headers: opts.headers } : {}), ...(opts.fetch ? { fetch: opts.fetch } : {}) });
    this.#deadLetters = new DeadLetterFile(opts.deadLetterPath);
    this.#log = (opts.logger ?? log()).child({ component: this.name });
    this.#sleep = opts.sleep ?? abortableSleep;
    this.#random = opts.random ?? Math.random;
    this.#batchSize = opts.batchSize ?? 100;
    this.#readSize = Math.max(opts.readSize ?? 5000, this.#batchSize);
    this.#commitIntervalMs = opts.commitIntervalMs ?? 250;
    this.#backoff = { baseMs: opts.minBackoffMs ?? 250, maxMs: opts.maxBackoffMs ?? 30_000 };
    this.#loop = new ForwardLoop(opts.stopTimeoutMs ?? 5000);
    this.#onResult = opts.onResult;
    if (!(this.#batchSize >= 1)) throw new RangeError('alarms.webhook.batchSize must be at least 1');
  }

  /** Starts the forwarding loop; resolves at once (an unreachable endpoint is retried, not fatal). */
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

  stats(): WebhookStats {
    return {
      state: this.#state,
      delivered: this.#delivered,
      retries: this.#retries,
      deadLetters: this.#deadLettered,
      ...(this.#lastError !== undefined ? { lastError: this.#lastError } : {}),
      ...(this.#lastSuccessAt !== undefined ? { lastSuccessAt: this.#lastSuccessAt } : {}),
      lagRecords: this.#reader.lag(),
    };
  }

  async #run(): Promise<void> {
    let failures = 0;
    let lingered = false;
    while (!this.#loop.stopping) {
      try {
        const { batch, scan } = await this.#readAligned();
        if (batch.entries.length === 0) {
          this.#state = 'idle';
          await this.#waitForData();
          continue;
        }
        // A stretch of records without alarms is committed at most once per interval, so a
        // steady stream of observations does not cost an fsync per read.
        const sinceCommit = this.#now() - this.#lastCommitAt;
        const nothingToSend = scan.alarms.length === 0 && scan.rejected.length === 0;
        if (nothingToSend && !lingered && batch.entries.length < this.#readSize && sinceCommit < this.#commitIntervalMs) {
          this.#state = 'idle';
          await this.#sleep(this.#commitIntervalMs - sinceCommit, this.#loop.signal);
          lingered = true;
          continue;
        }
        lingered = false;
        await this.#deliver(batch, scan);
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

  /**
   * Reads the next records. When they hold more than one request's worth of alarms, reads again
   * up to the last alarm that fits (the reader returns the same records until a commit), so each
   * request is followed by its own commit and a crash replays at most one request.
   */
  async #readAligned(): Promise<{ batch: SpoolBatch; scan: AlarmScan }> {
    const batch = await this.#reader.read(this.#readSize);
    const scan = scanForAlarms(batch.entries);
    const lastFitting = scan.alarms[this.#batchSize - 1];
    if (scan.alarms.length <= this.#batchSize || !lastFitting) return { batch, scan };
    const count = batch.entries.findIndex((e) => e.seq === lastFitting.seq) + 1;
    const cut = await this.#reader.read(count);
    return { batch: cut, scan: scanForAlarms(cut.entries) };
  }

  async #waitForData(): Promise<void> {
    await waitForRecords(this.#reader, IDLE_POLL_MS, this.#loop.signal);
  }

  /** Posts the batch's alarms to completion (or until stop), dead-letters refusals, and commits. */
  async #deliver(batch: SpoolBatch, scan: AlarmScan): Promise<void> {
    const letters: DeadLetter[] = scan.rejected.map((r) => ({ ts: this.#now(), status: null, reason: r.reason, line: r.raw, seq: r.seq }));
    if (scan.rejected.length > 0) {
      this.#log.warn({ count: scan.rejected.length, firstSeq: scan.rejected[0]?.seq, reason: scan.rejected[0]?.reason }, 'alarm records in the spool could not be read; dead-lettering them');
    }
    // Normally one request; more only if the reader returned more records than asked.
    for (let i = 0; i < scan.alarms.length; i += this.#batchSize) {
      if (!(await this.#postIsolating(scan.alarms.slice(i, i + this.#batchSize), letters))) return;
    }
    const refused = letters.length - scan.rejected.length;
    if (refused > 0) {
      const first = letters[scan.rejected.length];
      this.#log.warn({ count: refused, firstSeq: first?.seq, status: first?.status, reason: first?.reason }, 'webhook refused alarm transitions for good; dead-lettering them');
    }
    if (letters.length > 0) {
      await this.#deadLetters.append(letters);
      this.#deadLettered += letters.length;
    }
    await this.#reader.commit(batch.next);
    this.#lastCommitAt = this.#now();
    // Recovery is declared on a commit, not on any 2xx, so a batch whose dead letters or commit
    // keep failing does not log "recovered" and "failed" on every retry.
    if (this.#condition !== undefined) {
      this.#log.info({ after: this.#condition, lagRecords: this.#reader.lag() }, 'webhook deliveries recovered');
      this.#condition = undefined;
    }
  }

  /**
   * Posts the alarms; when the endpoint refuses them for good, bisects to find the refused ones
   * and adds them to `letters`. Returns false when stopped before finishing.
   */
  async #postIsolating(alarms: readonly SpooledAlarm[], letters: DeadLetter[]): Promise<boolean> {
    if (alarms.length === 0) return true;
    const outcome = await this.#postWithRetry(alarms);
    if (outcome === 'ok') return true;
    if (outcome === 'stopped') return false;
    const only = alarms.length === 1 ? alarms[0] : undefined;
    if (only) {
      letters.push({ ts: this.#now(), status: outcome.statusCode ?? null, reason: outcome.message, line: JSON.stringify(only.transition), seq: only.seq });
      return true;
    }
    // One bad transition must not take the good ones in its request down with it.
    const mid = alarms.length >>> 1;
    return (await this.#postIsolating(alarms.slice(0, mid), letters)) && (await this.#postIsolating(alarms.slice(mid), letters));
  }

  /** Posts the alarms until they are accepted, refused for good, or the sink stops. */
  async #postWithRetry(alarms: readonly SpooledAlarm[]): Promise<PostOutcome> {
    const body = JSON.stringify({ alarms: alarms.map((a) => a.transition) });
    for (let attempt = 0; ; attempt++) {
      // Once stopping, only the request already in flight is finished; no new one starts.
      if (this.#loop.stopping) return 'stopped';
      this.#state = 'writing';
      let error: SinkError;
      try {
        await this.#loop.request((signal) => this.#poster.post(body, signal));
        this.#delivered += alarms.length;
        this.#lastSuccessAt = this.#now();
        this.#tell(alarms, { ok: true });
        return 'ok';
      } catch (err) {
        error = err instanceof SinkError ? err : new SinkError(String(err), true);
      }
      this.#lastError = error.message;
      this.#tell(alarms, { ok: false, reason: error.message });
      const status = error.statusCode;
      const setting = status === undefined ? undefined : webhookSettingFor(status);
      if (!error.retryable && setting === undefined) return error;
      if (this.#loop.stopping) return 'stopped';
      this.#retries += 1;
      let wait: number;
      if (setting !== undefined) {
        // Retrying faster cannot fix a wrong URL or credentials; wait the longest and keep the alarms.
        wait = this.#backoff.maxMs;
        this.#enter(`config:${status}`, () =>
          this.#log.error({ status, setting, endpoint: this.#endpoint, reason: error.message }, `alarm webhook refused the request (HTTP ${status}); check ${setting}. Alarms stay in the spool and are retried`),
        );
      } else {
        wait = retryDelay(attempt, this.#backoff, this.#random, error.retryAfterMs);
        this.#enter(`retry:${status ?? 'network'}`, () =>
          this.#log.warn({ status, endpoint: this.#endpoint, reason: error.message, retryAfterMs: error.retryAfterMs }, 'alarm webhook delivery failed; retrying the batch with backoff'),
        );
      }
      this.#state = 'backing_off';
      await this.#sleep(wait, this.#loop.signal);
    }
  }

  #tell(alarms: readonly SpooledAlarm[], outcome: WebhookOutcome): void {
    try {
      this.#onResult?.(alarms.map((a) => a.transition), outcome);
    } catch (err) {
      this.#log.error({ err: (err as Error).message }, 'webhook result listener failed');
    }
  }

  /** Logs a failure condition once, when it starts, not on every retry. */
  #enter(condition: string, logIt: () => void): void {
    if (this.#condition === condition) return;
    this.#condition = condition;
    logIt();
  }
}
