/**
 * The hospital's MQTT broker as a forwarder destination (src/sinks/destination.ts): a record
 * becomes its messages (encode.ts), a batch is published with QoS 1, pipelined and in order on
 * one connection, and is confirmed once every PUBACK is in. The connection is this file's own:
 * opened before the spool is read (so an idle bridge notices a drop at once), replaced after any
 * failure, and given up when stop's grace is over. MQTT 3.1.1 has no refusal in a PUBACK, so
 * every failure is retried: nothing is refused for good.
 */
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { Destination, Encoded, Failure, RejectedRecord } from '../sinks/destination.js';
import type { SpoolEntry } from '../spool/types.js';
import { UpstreamConnection } from './connection.js';
import { encodeRecords, type BridgeMessage, type EncodeContext } from './encode.js';

/** A message bound upstream, with the spool record it came from. */
export interface Outgoing extends BridgeMessage {
  readonly seq: number;
}

/** Where and how to connect. TLS files are paths, read by {@link UpstreamDestination.loadTls}. */
export interface UpstreamTarget {
  readonly url: string;
  readonly clientId: string;
  readonly username?: string;
  readonly password?: string;
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly rejectUnauthorized: boolean;
  /** CONNACK timeout, ms. */
  readonly connectTimeoutMs: number;
  /** Longest wait for a batch's PUBACKs before the connection is dropped and the batch resent, ms. */
  readonly publishTimeoutMs: number;
}

export class UpstreamDestination implements Destination<Outgoing> {
  readonly logs = {
    retrying: 'upstream broker unavailable; records stay in the spool and are retried with backoff',
    config: (): string => 'upstream broker refused the bridge',
    refused: 'upstream broker refused messages',
    unencodable: 'spool records cannot be encoded for the upstream broker; not forwarded',
    recovered: 'upstream broker reachable again; forwarding the backlog',
  };
  readonly logFields: Readonly<Record<string, unknown>>;
  /** Messages acknowledged, records not forwarded by choice, connections after the first. */
  readonly counts = { published: 0, skipped: 0, reconnects: 0 };
  /** Epoch ms of the last PUBACK. */
  lastPublishAt: number | undefined;
  #connecting = false;
  #conn: UpstreamConnection | undefined;
  #tls: { ca?: Buffer; cert?: Buffer; key?: Buffer } = {};
  #everConnected = false;
  /** Highest seq known to be upstream (or skipped) in this process; never resent. */
  #doneThrough = 0;

  constructor(
    private readonly target: UpstreamTarget,
    private readonly ctx: Omit<EncodeContext, 'now'>,
    private readonly now: () => number,
    private readonly log: Logger,
  ) {
    this.logFields = { url: target.url };
  }

  get connected(): boolean {
    return this.#conn?.connected ?? false;
  }

  /** True while a connection is being opened. */
  get connecting(): boolean {
    return this.#connecting;
  }

  /** @throws ConfigError naming the TLS file that cannot be read. */
  async loadTls(): Promise<void> {
    for (const k of ['ca', 'cert', 'key'] as const) {
      const path = this.target[k];
      if (path === undefined) continue;
      try {
        this.#tls[k] = await readFile(path);
      } catch (err) {
        throw new ConfigError(`bridge.tls.${k}: cannot read ${path} (${(err as Error).message})`);
      }
    }
  }

  /** A device message gives a message per observation; records already upstream give none. */
  encode(entries: readonly SpoolEntry[]): Encoded<Outgoing> {
    const ctx: EncodeContext = { ...this.ctx, now: this.now() };
    const items: Outgoing[] = [];
    const rejected: RejectedRecord[] = [];
    for (const entry of entries) {
      if (entry.seq <= this.#doneThrough) continue;
      for (const out of encodeRecords(entry.seq, entry.payload, ctx)) {
        if ('error' in out) rejected.push({ seq: entry.seq, raw: entry.payload.toString('utf8'), reason: out.error });
        else if ('skip' in out) this.counts.skipped += 1;
        else items.push({ seq: entry.seq, ...out });
      }
    }
    return { items, rejected };
  }

  async connect(signal: AbortSignal): Promise<AbortSignal> {
    return (await this.#connection(signal)).lost;
  }

  /** Publishes the messages not yet upstream, pipelined in order; resolves once each has its PUBACK. */
  async send(items: readonly Outgoing[], signal: AbortSignal): Promise<void> {
    const conn = await this.#connection(signal);
    // Each ack settles to undefined or its error, so a later rejection is never unhandled
    // while an earlier one is awaited.
    const sends = items
      .filter((m) => m.seq > this.#doneThrough)
      .map((m) => ({ seq: m.seq, ack: this.#publish(conn, m).then(() => undefined, (err: unknown) => err ?? new Error('publish failed')) }));
    // Until an ack fails, everything before it is upstream; later ones are resent from the spool.
    let failure: unknown;
    const giveUp = (why: Error): void => {
      failure ??= why;
      void conn.close(false);
    };
    const timeoutMs = this.target.publishTimeoutMs;
    const timer = setTimeout(() => giveUp(new Error(`no PUBACK within ${timeoutMs} ms`)), timeoutMs);
    const onAbort = (): void => giveUp(new Error('stopped before every PUBACK arrived'));
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      for (const [k, s] of sends.entries()) {
        const err = await s.ack;
        if (err !== undefined) failure ??= err;
        // a record is upstream once its last message is (a device message has several)
        else if (failure === undefined && sends[k + 1]?.seq !== s.seq) this.#doneThrough = Math.max(this.#doneThrough, s.seq);
      }
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
    if (failure !== undefined) throw failure;
  }

  /** Every failure (refused connection, drop, missing PUBACK) is retried on a new connection. */
  classify(err: unknown): Failure {
    return { kind: 'retry', reason: err instanceof Error ? err.message : String(err ?? 'connection lost') };
  }

  letter(m: Outgoing): string {
    return m.payload;
  }

  /** Sends DISCONNECT and closes. */
  async close(): Promise<void> {
    await this.#conn?.close(true);
    this.#conn = undefined;
  }

  async #connection(signal: AbortSignal): Promise<UpstreamConnection> {
    if (this.#conn?.connected) return this.#conn;
    this.#connecting = true;
    try {
      await this.#conn?.close(false);
      this.#conn = undefined;
      const t = this.target;
      this.#conn = await UpstreamConnection.open({
        url: t.url, clientId: t.clientId, connectTimeoutMs: t.connectTimeoutMs, rejectUnauthorized: t.rejectUnauthorized, signal,
        ...(t.username !== undefined ? { username: t.username } : {}),
        ...(t.password !== undefined ? { password: t.password } : {}),
        ...this.#tls,
      });
    } finally {
      this.#connecting = false;
    }
    if (this.#everConnected) this.counts.reconnects += 1;
    else this.log.info({ url: this.target.url }, 'connected to the upstream broker');
    this.#everConnected = true;
    return this.#conn;
  }

  async #publish(conn: UpstreamConnection, m: BridgeMessage): Promise<void> {
    await conn.publish(m.topic, m.payload);
    this.counts.published += 1;
    this.lastPublishAt = this.now();
  }
}
