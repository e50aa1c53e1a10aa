/**
 * One MQTT connection to the hospital broker, with mqtt.js. mqtt.js' own reconnect and in-memory
 * resend are switched off (`reconnectPeriod: 0`, clean session): the spool is the only buffer,
 * and the bridge reconnects with its own backoff. When the connection goes away, every publish
 * still waiting for its PUBACK is rejected, so the bridge knows exactly what was acknowledged.
 */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { DisconnectedError } from '../core/errors.js';

export interface ConnectionOptions {
  /** `mqtt://host:port` or `mqtts://host:port`. */
  readonly url: string;
  readonly clientId: string;
  readonly username?: string;
  readonly password?: string;
  /** PEM contents (not paths). */
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
  readonly rejectUnauthorized?: boolean;
  /** How long to wait for CONNACK, ms. */
  readonly connectTimeoutMs: number;
  /** MQTT keepalive, seconds. */
  readonly keepaliveSeconds?: number;
  /** Gives up the attempt (stop). */
  readonly signal?: AbortSignal;
}

export class UpstreamConnection {
  readonly #client: MqttClient;
  readonly #lost = new AbortController();
  #lastError: Error | undefined;
  /** Rejecters of publishes waiting for a PUBACK; all rejected when the connection drops. */
  readonly #pending = new Set<(err: Error) => void>();

  private constructor(client: MqttClient) {
    this.#client = client;
    client.on('error', (err) => {
      this.#lastError = err;
    });
    client.on('close', () => this.#drop());
    client.on('offline', () => this.#drop());
  }

  /**
   * Connects and resolves once the broker sent CONNACK.
   * @throws DisconnectedError (or the broker's refusal) when it cannot connect or `signal` aborts.
   */
  static open(opts: ConnectionOptions): Promise<UpstreamConnection> {
    const options: IClientOptions = {
      clientId: opts.clientId,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: opts.connectTimeoutMs,
      keepalive: opts.keepaliveSeconds ?? 30,
      protocolVersion: 4,
      ...(opts.username !== undefined ? { username: opts.username } : {}),
      ...(opts.password !== undefined ? { password: opts.password } : {}),
      ...(opts.ca ? { ca: opts.ca } : {}),
      ...(opts.cert ? { cert: opts.cert } : {}),
      ...(opts.key ? { key: opts.key } : {}),
      rejectUnauthorized: opts.rejectUnauthorized ?? true,
    };
    const client = mqtt.connect(opts.url, options);
    return new Promise((resolve, reject) => {
      let error: Error | undefined;
      const onError = (err: Error): void => {
        error = err;
      };
      const onClose = (): void => {
        cleanup();
        client.end(true);
        reject(error ?? new DisconnectedError(`connection to ${opts.url} closed before CONNACK`));
      };
      const onAbort = (): void => {
        cleanup();
        client.on('error', () => undefined); // the socket may still report on its way down
        client.end(true);
        reject(new DisconnectedError(`connection to ${opts.url} given up`));
      };
      const onConnect = (): void => {
        cleanup();
        // Pipelined publishes are small writes; Nagle's algorithm against the broker's delayed
        // ACK would hold each batch back by tens of milliseconds.
        (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
        resolve(new UpstreamConnection(client));
      };
      const cleanup = (): void => {
        client.off('error', onError);
        client.off('close', onClose);
        client.off('connect', onConnect);
        opts.signal?.removeEventListener('abort', onAbort);
      };
      client.on('error', onError);
      client.on('close', onClose);
      client.on('connect', onConnect);
      if (opts.signal?.aborted) onAbort();
      else opts.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Aborted when the connection has gone away (for good: a new one is needed). */
  get lost(): AbortSignal {
    return this.#lost.signal;
  }

  get connected(): boolean {
    return !this.#lost.signal.aborted && this.#client.connected;
  }

  /** The last error the client reported, for logs. */
  get lastError(): Error | undefined {
    return this.#lastError;
  }

  /**
   * Publishes with QoS 1. Resolves on PUBACK; rejects when the connection goes away first.
   * Publishes issued in order on one connection reach the broker in that order.
   */
  publish(topic: string, payload: string): Promise<void> {
    if (!this.connected) return Promise.reject(new DisconnectedError('not connected'));
    return new Promise((resolve, reject) => {
      this.#pending.add(reject);
      this.#client.publish(topic, payload, { qos: 1 }, (err) => {
        this.#pending.delete(reject);
        if (err) reject(err);
        else resolve();
      });
    });
  }

  /**
   * Closes the connection. Graceful sends DISCONNECT and waits up to `timeoutMs`; otherwise (or
   * after the wait) the socket is destroyed. Pending publishes are rejected. Idempotent.
   */
  async close(graceful: boolean, timeoutMs = 2000): Promise<void> {
    if (graceful && this.connected) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.#client.endAsync(false).catch(() => undefined),
        new Promise<void>((r) => {
          timer = setTimeout(r, timeoutMs);
        }),
      ]);
      clearTimeout(timer);
    }
    this.#drop();
  }

  #drop(): void {
    const reason = new DisconnectedError(this.#lastError?.message ?? 'connection closed');
    if (!this.#lost.signal.aborted) this.#lost.abort(reason);
    // A publish without its PUBACK is not known to be upstream: it fails here and the bridge
    // sends it again from the spool on the next connection.
    for (const reject of this.#pending) reject(reason);
    this.#pending.clear();
    this.#client.end(true);
  }
}
