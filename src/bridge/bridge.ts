/**
 * Forwards alarm transitions, technical events and (when configured) observations from the
 * spool to the hospital's MQTT broker. The spool is the only buffer: the bridge reads a batch
 * with its own cursor (`bridge`), publishes it with QoS 1 in order on one connection, and
 * commits the cursor only once every message of the batch has its PUBACK. An upstream outage of
 * any length (bounded by the spool's size) loses nothing and replays in order.
 *
 * Delivery is at least once: a message whose PUBACK was lost with the connection is sent again.
 * JSON payloads carry `gateway` and `seq`, and HL7 control ids `{clientId}-{seq}`, so a receiver
 * can drop duplicates. Within one process, messages already acknowledged are not resent.
 */
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../core/errors.js';
import { log, type Logger } from '../core/log.js';
import type { Service } from '../core/types.js';
import { retryDelay } from '../sinks/backoff.js';
import { abortableSleep, waitForRecords, type Sleep } from '../sinks/forwarding.js';
import type { SpoolBatch } from '../spool/types.js';
import { DEFAULT_TOPIC_PREFIX } from './config.js';
import { UpstreamConnection } from './connection.js';
import { encodeRecords, resolvePrefix, type BridgeMessage, type EncodeContext } from './encode.js';
import type { BridgeState, BridgeStats, UpstreamBridgeOptions } from './types.js';

export type { UpstreamBridgeOptions, BridgeState, BridgeStats } from './types.js';

/** Longest idle wait before the spool is read again without a notification, ms. */
const IDLE_POLL_MS = 1000;

export class UpstreamBridge implements Service {
  readonly name = 'upstream-bridge';
  readonly #o: UpstreamBridgeOptions;
  readonly #log: Logger;
  readonly #sleep: Sleep;
  readonly #now: () => number;
  readonly #ctx: Omit<EncodeContext, 'now'>;
  readonly #batchSize: number;
  readonly #stopAbort = new AbortController();
  #tls: { ca?: Buffer; cert?: Buffer; key?: Buffer } = {};
  #conn: UpstreamConnection | undefined;
  #loop: Promise<void> | undefined;
  #stopping = false;
  /** Highest seq known to be upstream (or skipped) in this process; never resent. */
  #doneThrough = 0;
  #state: BridgeState = 'starting';
  #everConnected = false;
  #down = false;
  #s = { published: 0, batches: 0, skipped: 0, unencodable: 0, reconnects: 0, failures: 0 };
  #lastPublishAt: number | undefined;
  #lastError: string | undefined;

  constructor(opts: UpstreamBridgeOptions) {
    this.#o = opts;
    this.#log = (opts.logger ?? log()).child({ component: 'bridge' });
    this.#sleep = opts.sleep ?? abortableSleep;
    this.#now = opts.now ?? Date.now;
    this.#batchSize = opts.batchSize ?? 500;
    if (!(this.#batchSize >= 1)) throw new RangeError('bridge.batchSize must be at least 1');
    this.#ctx = {
      prefix: resolvePrefix(opts.topicPrefix ?? DEFAULT_TOPIC_PREFIX, opts.wardId),
      forward: { alarms: opts.forward?.alarms ?? true, observations: opts.forward?.observations ?? false, technical: opts.forward?.technical ?? true },
      format: opts.format ?? 'json',
      gatewayId: opts.clientId,
    };
  }

  /** The topic prefix in use, `{wardId}` filled in. */
  get topicPrefix(): string {
    return this.#ctx.prefix;
  }

  /**
   * Reads the TLS files and starts forwarding. Resolves without waiting for the broker: an
   * unreachable broker is retried with backoff, not fatal.
   * @throws ConfigError when a TLS file cannot be read.
   */
  async start(): Promise<void> {
    if (this.#loop || this.#stopping) return;
    const files: Array<['ca' | 'cert' | 'key', string | undefined]> = [['ca', this.#o.ca], ['cert', this.#o.cert], ['key', this.#o.key]];
    for (const [k, path] of files) {
      if (path === undefined) continue;
      try {
        this.#tls[k] = await readFile(path);
      } catch (err) {
        throw new ConfigError(`bridge.tls.${k}: cannot read ${path} (${(err as Error).message})`);
      }
    }
    this.#log.info({ url: this.#o.url, prefix: this.#ctx.prefix, format: this.#ctx.format, forward: this.#ctx.forward }, 'upstream bridge starting');
    this.#loop = this.#run();
  }

  /** Lets a batch in flight finish (up to `stopTimeoutMs`), disconnects, and stops. Idempotent. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#stopAbort.abort();
    const timer = setTimeout(() => void this.#conn?.close(false), this.#o.stopTimeoutMs ?? 3000);
    try {
      await this.#loop;
    } finally {
      clearTimeout(timer);
      await this.#conn?.close(true);
      this.#conn = undefined;
      this.#state = 'stopped';
    }
  }

  stats(): BridgeStats {
    return {
      state: this.#state,
      connected: this.#conn?.connected ?? false,
      ...this.#s,
      lagRecords: this.#o.reader.lag(),
      ...(this.#lastPublishAt !== undefined ? { lastPublishAt: this.#lastPublishAt } : {}),
      ...(this.#lastError !== undefined ? { lastError: this.#lastError } : {}),
    };
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (!this.#stopping) {
      try {
        const conn = this.#conn?.connected ? this.#conn : await this.#connect();
        const batch = await this.#o.reader.read(this.#batchSize);
        if (batch.entries.length === 0) {
          this.#state = 'idle';
          await this.#idle(conn);
          continue;
        }
        await this.#deliver(conn, batch);
        failures = 0;
      } catch (err) {
        if (this.#stopping) break;
        this.#failed(err);
        this.#state = 'backing_off';
        await this.#sleep(retryDelay(failures++, { baseMs: this.#o.minBackoffMs ?? 250, maxMs: this.#o.maxBackoffMs ?? 30_000 }, this.#o.random ?? Math.random), this.#stopAbort.signal);
      }
    }
  }

  async #connect(): Promise<UpstreamConnection> {
    this.#state = 'connecting';
    await this.#conn?.close(false);
    this.#conn = undefined;
    const conn = await UpstreamConnection.open({
      url: this.#o.url,
      clientId: this.#o.clientId,
      connectTimeoutMs: this.#o.connectTimeoutMs ?? 10_000,
      ...(this.#o.username !== undefined ? { username: this.#o.username } : {}),
      ...(this.#o.password !== undefined ? { password: this.#o.password } : {}),
      ...this.#tls,
      rejectUnauthorized: this.#o.rejectUnauthorized ?? true,
    });
    if (this.#stopping) {
      await conn.close(true);
      throw new Error('stopping');
    }
    this.#conn = conn;
    if (this.#everConnected) this.#s.reconnects += 1;
    this.#everConnected = true;
    if (this.#down) this.#log.info({ lagRecords: this.#o.reader.lag() }, 'upstream broker reachable again; forwarding the backlog');
    else this.#log.info({ url: this.#o.url }, 'connected to the upstream broker');
    this.#down = false;
    return conn;
  }

  /** Waits for new records, for stop, or for the connection to drop (to reconnect at once). */
  async #idle(conn: UpstreamConnection): Promise<void> {
    await waitForRecords(this.#o.reader, IDLE_POLL_MS, AbortSignal.any([this.#stopAbort.signal, conn.lost]));
    // A drop goes through backoff like any failure: two gateways configured with the same
    // client id would otherwise take the session from each other in a tight loop.
    if (conn.lost.aborted && !this.#stopping) throw conn.lost.reason ?? new Error('connection lost');
  }

  /** Publishes one batch, pipelined in order, and commits once every message is acknowledged. */
  async #deliver(conn: UpstreamConnection, batch: SpoolBatch): Promise<void> {
    const ctx: EncodeContext = { ...this.#ctx, now: this.#now() };
    // Each ack settles to undefined or its error, so a later rejection is never unhandled
    // while an earlier one is awaited.
    const sends: Array<{ seq: number; ack: Promise<unknown> }> = [];
    this.#state = 'publishing';
    for (const entry of batch.entries) {
      if (entry.seq <= this.#doneThrough) continue;
      for (const out of encodeRecords(entry.seq, entry.payload, ctx)) {
        if ('error' in out) {
          this.#s.unencodable += 1;
          this.#log.warn({ seq: entry.seq, reason: out.error }, 'spool record cannot be encoded for the upstream broker; not forwarded');
          continue;
        }
        if ('skip' in out) {
          this.#s.skipped += 1;
          continue;
        }
        sends.push({ seq: entry.seq, ack: this.#publish(conn, out).then(() => undefined, (err: unknown) => err ?? new Error('publish failed')) });
      }
    }
    // Until an ack fails, everything before it is upstream; later ones are resent from the spool.
    let failure: unknown;
    const timeout = this.#o.publishTimeoutMs ?? 10_000;
    const timer = setTimeout(() => {
      failure ??= new Error(`no PUBACK within ${timeout} ms`);
      void conn.close(false);
    }, timeout);
    try {
      for (const [k, s] of sends.entries()) {
        const err = await s.ack;
        if (err !== undefined) failure ??= err;
        // a record is upstream once its last message is (a device message has several)
        else if (failure === undefined && sends[k + 1]?.seq !== s.seq) this.#doneThrough = Math.max(this.#doneThrough, s.seq);
      }
    } finally {
      clearTimeout(timer);
    }
    if (failure !== undefined) throw failure;
    await this.#o.reader.commit(batch.next);
    this.#doneThrough = Math.max(this.#doneThrough, batch.next.seq - 1);
    this.#s.batches += 1;
  }

  async #publish(conn: UpstreamConnection, m: BridgeMessage): Promise<void> {
    await conn.publish(m.topic, m.payload);
    this.#s.published += 1;
    this.#lastPublishAt = this.#now();
  }

  #failed(err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    this.#lastError = message;
    this.#s.failures += 1;
    // Log the start of an outage once, not every retry.
    if (!this.#down) {
      this.#down = true;
      this.#log.warn({ url: this.#o.url, err: message, lagRecords: this.#o.reader.lag() }, 'upstream broker unavailable; records stay in the spool and are retried with backoff');
    }
  }
}
