/**
 * The forwarder: the one loop that carries spool records to a destination (InfluxDB, the alarm
 * webhook, the upstream MQTT broker; see destination.ts). Its contract, the same for all:
 *
 * - It reads from its own cursor, in spool order, and sends in that order.
 * - The spool is the only buffer: the cursor is committed only after the destination confirmed
 *   the batch (a 2xx, every PUBACK) and the batch's dead letters are on disk, so an outage of any
 *   length loses nothing and a crash replays at most the batch in flight.
 * - A failure worth retrying sends the same items again after full-jitter backoff, never sooner
 *   than the destination's Retry-After. A wrong setting keeps the data and retries at the longest
 *   backoff. Items refused for good are isolated by bisection and go to the dead-letter file.
 * - One log line when a failure condition starts, and one when forwarding recovers (outage-log.ts).
 * - `stop()` starts no new work, lets the send in flight finish within `stopTimeoutMs` (then
 *   commits it) or aborts it (then it stays in the spool).
 */
import { log, type Logger } from '../core/log.js';
import type { SpoolBatch, SpoolReader } from '../spool/types.js';
import { retryDelay, type BackoffOptions } from './backoff.js';
import { DeadLetterFile, type DeadLetter } from './dead-letter.js';
import type { Destination, Encoded, Failure, Item } from './destination.js';
import { abortableSleep, ForwardLoop, waitForRecords, type Sleep } from './forwarding.js';
import { LatencyRecorder, type ForwarderState, type ForwarderStats } from './forward-stats.js';
import { OutageLog } from './outage-log.js';

export type { Sleep } from './forwarding.js';
export type { ForwarderState, ForwarderStats } from './forward-stats.js';

/** The options every forwarder takes; each destination adds its own. */
export interface ForwardingOptions {
  /** This forwarder's own spool cursor. */
  readonly reader: SpoolReader;
  readonly logger?: Logger;
  /** First retry's backoff ceiling, in ms. Default 250. */
  readonly minBackoffMs?: number;
  /** Longest backoff between retries, in ms; also the retry interval while a setting is wrong. Default 30000. */
  readonly maxBackoffMs?: number;
  /** How long `stop()` lets a send in flight finish before aborting it, in ms. Default 5000 (the bridge: 3000). */
  readonly stopTimeoutMs?: number;
  /** Backoff and linger waits (tests inject virtual time). */
  readonly sleep?: Sleep;
  /** Epoch ms. */
  readonly now?: () => number;
  /** Uniform draw in [0, 1) for backoff jitter. */
  readonly random?: () => number;
}

export interface ForwarderOptions<I extends Item> extends ForwardingOptions {
  readonly destination: Destination<I>;
  /** JSON-lines file for refused items and unencodable records. Without one, nothing is refused for good: refusals are retried, unencodable records logged and passed over. */
  readonly deadLetterPath?: string;
  /** Spool records per read. */
  readonly readSize: number;
  /** Most items per send; a read that holds more is cut so each send is followed by its own commit. Default: no limit. */
  readonly maxItems?: number;
  /** Longest a partial read waits for more records before it is sent, in ms. Default 0. */
  readonly lingerMs?: number;
  /** Required here: each destination has its own default. */
  readonly stopTimeoutMs: number;
}

/** Longest idle wait before the spool is read again without a notification, in ms. */
const IDLE_POLL_MS = 1000;

/** A failure the destination judged, thrown out of a connect or an idle wait. */
class DestinationFailure extends Error {
  constructor(readonly failure: Failure) {
    super(failure.reason);
  }
}

export class Forwarder<I extends Item> {
  readonly #d: Destination<I>;
  readonly #reader: SpoolReader;
  readonly #deadLetters: DeadLetterFile | undefined;
  readonly #log: Logger;
  readonly #sleep: Sleep;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #backoff: BackoffOptions;
  readonly #readSize: number;
  readonly #maxItems: number;
  readonly #lingerMs: number;
  readonly #loop: ForwardLoop;
  readonly #latency = new LatencyRecorder();
  readonly #s = { batches: 0, sent: 0, retries: 0, failures: 0, deadLetters: 0, unencodable: 0, lastLatencyMs: 0 };
  readonly #outage: OutageLog;
  #state: ForwarderState = 'starting';
  #lastSendAt = Number.NEGATIVE_INFINITY;
  #lastSuccessAt: number | undefined;
  #lastError: string | undefined;

  constructor(opts: ForwarderOptions<I>) {
    this.#d = opts.destination;
    this.#reader = opts.reader;
    this.#deadLetters = opts.deadLetterPath === undefined ? undefined : new DeadLetterFile(opts.deadLetterPath);
    this.#log = opts.logger ?? log();
    this.#sleep = opts.sleep ?? abortableSleep;
    this.#now = opts.now ?? Date.now;
    this.#random = opts.random ?? Math.random;
    this.#backoff = { baseMs: opts.minBackoffMs ?? 250, maxMs: opts.maxBackoffMs ?? 30_000 };
    this.#readSize = opts.readSize;
    this.#maxItems = opts.maxItems ?? Number.POSITIVE_INFINITY;
    this.#lingerMs = opts.lingerMs ?? 0;
    this.#loop = new ForwardLoop(opts.stopTimeoutMs);
    this.#outage = new OutageLog(this.#log, this.#d, () => this.#reader.lag());
  }

  /** True once `start()` or `stop()` was called. */
  get started(): boolean {
    return this.#loop.started;
  }

  /** Starts the loop; returns at once (an unreachable destination is retried, not fatal). */
  start(): void {
    this.#loop.start(() => this.#run());
  }

  /** Lets the send in flight finish (up to `stopTimeoutMs`), commits it, then closes the destination. Idempotent. */
  async stop(): Promise<void> {
    try {
      await this.#loop.stop();
    } finally {
      this.#state = 'stopped';
      await this.#d.close?.();
    }
  }

  stats(): ForwarderStats {
    return {
      state: this.#state,
      ...(this.#lastSuccessAt !== undefined ? { lastSuccessAt: this.#lastSuccessAt } : {}),
      ...(this.#lastError !== undefined ? { lastError: this.#lastError } : {}),
      ...this.#s,
      latency: this.#latency.snapshot(),
      lagRecords: this.#reader.lag(),
    };
  }

  async #run(): Promise<void> {
    let failures = 0;
    let lingered = false;
    while (!this.#loop.stopping) {
      try {
        const lost = await this.#connect();
        const { batch, encoded } = await this.#read();
        if (batch.entries.length === 0) {
          this.#outage.recovered();
          this.#state = 'idle';
          await this.#idle(lost);
          continue;
        }
        // A partial read lingers once, so a trickle of records becomes one send per interval
        // (one request, one fsync of the cursor) instead of one per record.
        const sinceSend = this.#now() - this.#lastSendAt;
        const waitable = !this.#d.urgent || (encoded.items.length === 0 && encoded.rejected.length === 0);
        if (!lingered && waitable && batch.entries.length < this.#readSize && sinceSend < this.#lingerMs) {
          this.#state = 'idle';
          await this.#sleep(this.#lingerMs - sinceSend, this.#loop.signal);
          lingered = true;
          continue;
        }
        lingered = false;
        this.#lastSendAt = this.#now();
        if (await this.#deliver(batch, encoded)) failures = 0;
      } catch (err) {
        // Not committed: the batch is read again. An abort caused by stop is no failure.
        if (this.#loop.stopping) break;
        this.#s.failures += 1;
        if (err instanceof DestinationFailure) {
          this.#lastError = err.failure.reason;
          this.#outage.failed(err.failure);
        } else {
          this.#lastError = err instanceof Error ? err.message : String(err);
          this.#outage.ioFailed(err, this.#lastError);
        }
        this.#state = 'backing_off';
        await this.#sleep(retryDelay(failures++, this.#backoff, this.#random), this.#loop.signal);
      }
    }
  }

  async #connect(): Promise<AbortSignal | undefined> {
    const connect = this.#d.connect?.bind(this.#d);
    if (!connect) return undefined;
    try {
      return await this.#loop.request((signal) => connect(signal));
    } catch (err) {
      throw new DestinationFailure(this.#d.classify(err));
    }
  }

  /** Reads the next records, cut after the last item that fits one send (the reader returns the same records until a commit). */
  async #read(): Promise<{ batch: SpoolBatch; encoded: Encoded<I> }> {
    const batch = await this.#reader.read(this.#readSize);
    const encoded = this.#d.encode(batch.entries);
    const lastFitting = encoded.items[this.#maxItems - 1];
    if (encoded.items.length <= this.#maxItems || !lastFitting) return { batch, encoded };
    const cut = await this.#reader.read(batch.entries.findIndex((e) => e.seq === lastFitting.seq) + 1);
    return { batch: cut, encoded: this.#d.encode(cut.entries) };
  }

  /** Waits for new records or stop; a connection lost meanwhile is a failure, retried through backoff. */
  async #idle(lost: AbortSignal | undefined): Promise<void> {
    const pollMs = Math.max(this.#lingerMs, IDLE_POLL_MS);
    await waitForRecords(this.#reader, pollMs, lost ? AbortSignal.any([this.#loop.signal, lost]) : this.#loop.signal);
    // Backoff even here: two gateways sharing an MQTT client id would otherwise take the
    // session from each other in a tight loop.
    if (lost?.aborted && !this.#loop.stopping) throw new DestinationFailure(this.#d.classify(lost.reason));
  }

  /** Sends the batch to completion, dead-letters what is refused, and commits. False when stopped first. */
  async #deliver(batch: SpoolBatch, { items, rejected }: Encoded<I>): Promise<boolean> {
    const letters: DeadLetter[] = [];
    if (rejected.length > 0) {
      const first = rejected[0];
      this.#log.warn({ count: rejected.length, firstSeq: first?.seq, reason: first?.reason }, this.#d.logs.unencodable);
      if (this.#deadLetters) letters.push(...rejected.map((r) => this.#letter(r.seq, null, r.reason, r.raw)));
    }
    const unencodable = letters.length;
    // Normally one send; more only when the reader returned more records than asked.
    for (let i = 0; i < items.length; i += this.#maxItems) {
      if (!(await this.#sendIsolating(items.slice(i, i + this.#maxItems), letters))) return false;
    }
    const first = letters[unencodable];
    if (first) this.#log.warn({ count: letters.length - unencodable, firstSeq: first.seq, status: first.status, reason: first.reason }, this.#d.logs.refused);
    if (letters.length > 0) {
      await this.#deadLetters?.append(letters);
      this.#s.deadLetters += letters.length;
    }
    this.#s.unencodable += rejected.length;
    await this.#reader.commit(batch.next);
    this.#s.batches += 1;
    this.#outage.recovered();
    return true;
  }

  /** Sends the items; when some are refused for good, bisects down to them and adds them to `letters`. False when stopped first. */
  async #sendIsolating(items: readonly I[], letters: DeadLetter[]): Promise<boolean> {
    if (items.length === 0) return true;
    const outcome = await this.#sendWithRetry(items);
    if (outcome === 'sent') return true;
    if (outcome === 'stopped') return false;
    const only = items.length === 1 ? items[0] : undefined;
    if (only) {
      letters.push(this.#letter(only.seq, outcome.status ?? null, outcome.reason, this.#d.letter(only)));
      return true;
    }
    // One bad item must not take the good ones down with it. Items of a half the destination
    // already took are sent again on a later try: InfluxDB overwrites them, receivers dedupe.
    const mid = items.length >>> 1;
    return (await this.#sendIsolating(items.slice(0, mid), letters)) && (await this.#sendIsolating(items.slice(mid), letters));
  }

  /** Sends the items until they are confirmed, refused for good, or the forwarder stops. */
  async #sendWithRetry(items: readonly I[]): Promise<'sent' | 'stopped' | Failure> {
    for (let attempt = 0; ; attempt++) {
      // Once stopping, only the send already in flight is finished; no new one starts.
      if (this.#loop.stopping) return 'stopped';
      this.#state = 'sending';
      const started = this.#now();
      let failure: Failure;
      try {
        await this.#loop.request((signal) => this.#d.send(items, signal));
        this.#sent(items.length, this.#now() - started);
        return 'sent';
      } catch (err) {
        failure = this.#d.classify(err);
      }
      this.#lastError = failure.reason;
      if (failure.kind === 'refused' && this.#deadLetters) return failure;
      if (this.#loop.stopping) return 'stopped';
      this.#s.retries += 1;
      this.#s.failures += 1;
      this.#outage.failed(failure);
      this.#state = 'backing_off';
      // Retrying faster cannot fix a wrong token or URL: wait the longest and keep the data.
      const delay = failure.kind === 'config' ? this.#backoff.maxMs : retryDelay(attempt, this.#backoff, this.#random, failure.retryAfterMs);
      await this.#sleep(delay, this.#loop.signal);
    }
  }

  #sent(count: number, latencyMs: number): void {
    this.#s.sent += count;
    this.#s.lastLatencyMs = latencyMs;
    this.#latency.observe(latencyMs);
    this.#lastSuccessAt = this.#now();
  }

  #letter(seq: number, status: number | null, reason: string, line: string): DeadLetter {
    return { ts: this.#now(), status, reason, line, seq };
  }
}
