/**
 * Forwards the spool to InfluxDB as line protocol over HTTP (the v2 write API), one request per
 * batch. The forwarder (forwarder.ts) keeps the durability contract: a cursor committed only
 * after a 2xx, retries with backoff, refused lines bisected into the dead-letter file. This file
 * says what is InfluxDB's own: a record becomes a line, a batch a body of lines, and an auth or
 * bucket refusal names the setting to fix while the data stays in the spool.
 */
import { log } from '../core/log.js';
import type { Service } from '../core/types.js';
import { failureOf, type Destination } from './destination.js';
import { Forwarder, type ForwardingOptions } from './forwarder.js';
import { classifyWriteError, createInfluxSender, influxSettingFor, type LineSender } from './influx-transport.js';
import { encodeEntries, type EncodedLine } from './line-protocol.js';
import { writerState, type WriterStats } from './forward-stats.js';

export type { WriterStats, WriterState, LatencyHistogram } from './forward-stats.js';
export type { Sleep } from './forwarder.js';

export interface InfluxWriterOptions extends ForwardingOptions {
  /** Base URL of InfluxDB (or anything speaking its v2 write API). */
  readonly url: string;
  readonly token: string;
  readonly org: string;
  readonly bucket: string;
  /** JSON-lines file for refused records. */
  readonly deadLetterPath: string;
  /** Records per request. Default 5000. */
  readonly batchSize?: number;
  /** Longest a partial batch waits for more records, in ms. Default 1000. */
  readonly flushIntervalMs?: number;
  /** Per-request timeout, in ms. Default 10000. */
  readonly requestTimeoutMs?: number;
  /** Replaces the HTTP transport (tests). */
  readonly sender?: LineSender;
}

/** InfluxDB as a destination: lines out, and what its answers mean. */
export function influxDestination(sender: LineSender, now: () => number): Destination<EncodedLine> {
  return {
    logs: {
      retrying: 'InfluxDB write failed; retrying the batch with backoff',
      config: (status, setting) => `InfluxDB refused the write (HTTP ${status}); check ${setting}. Data stays in the spool and is retried`,
      refused: 'InfluxDB refused lines for good; dead-lettering them',
      unencodable: 'spool records could not be mapped to line protocol; dead-lettering them',
      recovered: 'InfluxDB writes recovered',
    },
    encode: encodeEntries,
    send: (lines, signal) => sender.send(lines.map((l) => l.line).join('\n'), signal),
    classify: (err) => failureOf(classifyWriteError(err, now()), influxSettingFor),
    letter: (l) => l.line,
  };
}

export class InfluxWriter implements Service {
  readonly name = 'influx-writer';
  readonly #forwarder: Forwarder<EncodedLine>;

  constructor(opts: InfluxWriterOptions) {
    const batchSize = opts.batchSize ?? 5000;
    if (!(batchSize >= 1)) throw new RangeError('influx.batchSize must be at least 1');
    const now = opts.now ?? Date.now;
    const target = { url: opts.url, token: opts.token, org: opts.org, bucket: opts.bucket, timeoutMs: opts.requestTimeoutMs ?? 10_000 };
    this.#forwarder = new Forwarder({
      ...opts,
      destination: influxDestination(opts.sender ?? createInfluxSender(target, now), now),
      logger: (opts.logger ?? log()).child({ component: this.name }),
      readSize: batchSize,
      lingerMs: opts.flushIntervalMs ?? 1000,
      stopTimeoutMs: opts.stopTimeoutMs ?? 5000,
    });
  }

  /** Starts forwarding; resolves at once (an unreachable database is retried, not fatal). */
  async start(): Promise<void> {
    this.#forwarder.start();
  }

  /** Lets an in-flight request finish (up to `stopTimeoutMs`), commits it, then stops. Idempotent. */
  stop(): Promise<void> {
    return this.#forwarder.stop();
  }

  stats(): WriterStats {
    const s = this.#forwarder.stats();
    return {
      state: writerState(s.state), lastSuccessAt: s.lastSuccessAt, lastError: s.lastError, batches: s.batches, pointsWritten: s.sent,
      retries: s.retries, deadLetters: s.deadLetters, lastWriteLatencyMs: s.lastLatencyMs, lagRecords: s.lagRecords, latency: s.latency,
    };
  }
}
