/**
 * Forwards alarm transitions, technical events and (when configured) observations from the
 * spool to the hospital's MQTT broker. The forwarder (src/sinks/forwarder.ts) keeps the
 * durability contract: the bridge reads a batch with its own cursor (`bridge`), and commits it
 * only once every message of the batch has its PUBACK; an upstream outage of any length (bounded
 * by the spool's size) loses nothing and replays in order, after backoff. The broker's own part
 * (connection, pipelined QoS 1 publishes, topics and payloads) is in destination.ts.
 *
 * Delivery is at least once: a message whose PUBACK was lost with the connection is sent again.
 * JSON payloads carry `gateway` and `seq`, and HL7 control ids `{clientId}-{seq}`, so a receiver
 * can drop duplicates. Within one process, messages already acknowledged are not resent.
 */
import { log, type Logger } from '../core/log.js';
import type { Service } from '../core/types.js';
import { Forwarder, type ForwarderState } from '../sinks/forwarder.js';
import { DEFAULT_TOPIC_PREFIX } from './config.js';
import { UpstreamDestination, type Outgoing } from './destination.js';
import { resolvePrefix, type EncodeContext } from './encode.js';
import type { BridgeState, BridgeStats, UpstreamBridgeOptions } from './types.js';

export type { UpstreamBridgeOptions, BridgeState, BridgeStats } from './types.js';

const STATE: Readonly<Record<ForwarderState, BridgeState>> = { starting: 'starting', idle: 'idle', sending: 'publishing', backing_off: 'backing_off', stopped: 'stopped' };

export class UpstreamBridge implements Service {
  readonly name = 'upstream-bridge';
  readonly #log: Logger;
  readonly #url: string;
  readonly #ctx: Omit<EncodeContext, 'now'>;
  readonly #destination: UpstreamDestination;
  readonly #forwarder: Forwarder<Outgoing>;

  constructor(opts: UpstreamBridgeOptions) {
    const batchSize = opts.batchSize ?? 500;
    if (!(batchSize >= 1)) throw new RangeError('bridge.batchSize must be at least 1');
    this.#log = (opts.logger ?? log()).child({ component: 'bridge' });
    this.#url = opts.url;
    this.#ctx = {
      prefix: resolvePrefix(opts.topicPrefix ?? DEFAULT_TOPIC_PREFIX, opts.wardId),
      forward: { alarms: opts.forward?.alarms ?? true, observations: opts.forward?.observations ?? false, technical: opts.forward?.technical ?? true },
      format: opts.format ?? 'json',
      gatewayId: opts.clientId,
    };
    this.#destination = new UpstreamDestination(
      {
        url: opts.url, clientId: opts.clientId, username: opts.username, password: opts.password,
        ca: opts.ca, cert: opts.cert, key: opts.key, rejectUnauthorized: opts.rejectUnauthorized ?? true,
        connectTimeoutMs: opts.connectTimeoutMs ?? 10_000, publishTimeoutMs: opts.publishTimeoutMs ?? 10_000,
      },
      this.#ctx,
      opts.now ?? Date.now,
      this.#log,
    );
    this.#forwarder = new Forwarder({ ...opts, destination: this.#destination, logger: this.#log, readSize: batchSize, stopTimeoutMs: opts.stopTimeoutMs ?? 3000 });
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
    if (this.#forwarder.started) return;
    await this.#destination.loadTls();
    this.#log.info({ url: this.#url, prefix: this.#ctx.prefix, format: this.#ctx.format, forward: this.#ctx.forward }, 'upstream bridge starting');
    this.#forwarder.start();
  }

  /** Lets a batch in flight finish (up to `stopTimeoutMs`), disconnects, and stops. Idempotent. */
  stop(): Promise<void> {
    return this.#forwarder.stop();
  }

  stats(): BridgeStats {
    const s = this.#forwarder.stats();
    const d = this.#destination;
    return {
      state: d.connecting ? 'connecting' : STATE[s.state],
      connected: d.connected,
      published: d.counts.published,
      batches: s.batches,
      skipped: d.counts.skipped,
      unencodable: s.unencodable,
      reconnects: d.counts.reconnects,
      failures: s.failures,
      lagRecords: s.lagRecords,
      ...(d.lastPublishAt !== undefined ? { lastPublishAt: d.lastPublishAt } : {}),
      ...(s.lastError !== undefined ? { lastError: s.lastError } : {}),
    };
  }
}
