/**
 * Forwards alarm transitions from the spool to an HTTP endpoint (paging or nurse-call systems) as
 * `POST {"alarms": [AlarmTransition, …]}`. The forwarder (forwarder.ts) keeps the durability
 * contract: a cursor committed only after a 2xx, retries with backoff, refused transitions
 * bisected into the dead-letter file. Delivery is at least once: after a crash or a stop
 * mid-batch a receiver may see a transition again, and can recognise it by `id`, `state` and
 * `ts`. This file says what is the webhook's own: only alarms go, at once, at most `batchSize` a
 * request (each followed by its own commit, so a crash replays at most one request); a wrong URL
 * or credentials names the setting to fix; each request's outcome is told to delivery
 * confirmation.
 */
import { ConfigError, SinkError } from '../core/errors.js';
import { log, type Logger } from '../core/log.js';
import type { AlarmTransition, Service } from '../core/types.js';
import { failureOf, type Destination } from './destination.js';
import { Forwarder } from './forwarder.js';
import type { WebhookOutcome, WebhookSinkOptions, WebhookStats } from './webhook-options.js';
import { scanForAlarms, type SpooledAlarm } from './webhook-records.js';
import { createWebhookPoster, webhookSettingFor, type JsonPoster } from './webhook-transport.js';
import { writerState } from './forward-stats.js';

export { webhookConfigSchema, type WebhookConfig, type WebhookOutcome, type WebhookSinkOptions, type WebhookStats } from './webhook-options.js';
export type { Sleep } from './forwarder.js';
export type { Fetch } from './webhook-transport.js';

/** Told of each request's outcome with the transitions it carried. */
export type ResultListener = (alarms: readonly AlarmTransition[], outcome: WebhookOutcome) => void;

/**
 * The alarm webhook as a destination.
 * @param endpoint what logs name: the origin only, since a webhook's path or query often carries its secret.
 */
export function webhookDestination(poster: JsonPoster, endpoint: string, logger: Logger, onResult?: ResultListener): Destination<SpooledAlarm> {
  const tell = (alarms: readonly AlarmTransition[], outcome: WebhookOutcome): void => {
    try {
      onResult?.(alarms, outcome);
    } catch (err) {
      logger.error({ err: (err as Error).message }, 'webhook result listener failed');
    }
  };
  const sinkError = (err: unknown): SinkError => (err instanceof SinkError ? err : new SinkError(String(err), true));
  return {
    logs: {
      retrying: 'alarm webhook delivery failed; retrying the batch with backoff',
      config: (status, setting) => `alarm webhook refused the request (HTTP ${status}); check ${setting}. Alarms stay in the spool and are retried`,
      refused: 'webhook refused alarm transitions for good; dead-lettering them',
      unencodable: 'alarm records in the spool could not be read; dead-lettering them',
      recovered: 'webhook deliveries recovered',
    },
    logFields: { endpoint },
    // An alarm is posted at once; only stretches without one wait for the commit interval.
    urgent: true,
    encode: scanForAlarms,
    async send(items, signal) {
      const alarms = items.map((a) => a.transition);
      try {
        await poster.post(JSON.stringify({ alarms }), signal);
      } catch (err) {
        tell(alarms, { ok: false, reason: sinkError(err).message });
        throw err;
      }
      tell(alarms, { ok: true });
    },
    classify: (err) => failureOf(sinkError(err), webhookSettingFor),
    letter: (a) => JSON.stringify(a.transition),
  };
}

export class WebhookSink implements Service {
  readonly name = 'alarm-webhook';
  readonly #forwarder: Forwarder<SpooledAlarm>;

  constructor(opts: WebhookSinkOptions) {
    let endpoint: URL;
    try {
      endpoint = new URL(opts.url);
    } catch {
      throw new ConfigError('alarms.webhook.url: not a valid URL');
    }
    const batchSize = opts.batchSize ?? 100;
    if (!(batchSize >= 1)) throw new RangeError('alarms.webhook.batchSize must be at least 1');
    const logger = (opts.logger ?? log()).child({ component: this.name });
    const poster = createWebhookPoster({ url: opts.url, timeoutMs: opts.timeoutMs ?? 10_000, now: opts.now ?? Date.now, ...(opts.headers ? { headers: opts.headers } : {}), ...(opts.fetch ? { fetch: opts.fetch } : {}) });
    this.#forwarder = new Forwarder({
      ...opts,
      destination: webhookDestination(poster, endpoint.origin, logger, opts.onResult),
      logger,
      readSize: Math.max(opts.readSize ?? 5000, batchSize),
      maxItems: batchSize,
      lingerMs: opts.commitIntervalMs ?? 250,
      stopTimeoutMs: opts.stopTimeoutMs ?? 5000,
    });
  }

  /** Starts forwarding; resolves at once (an unreachable endpoint is retried, not fatal). */
  async start(): Promise<void> {
    this.#forwarder.start();
  }

  /** Lets an in-flight request finish (up to `stopTimeoutMs`), commits it, then stops. Idempotent. */
  stop(): Promise<void> {
    return this.#forwarder.stop();
  }

  stats(): WebhookStats {
    const s = this.#forwarder.stats();
    return { state: writerState(s.state), delivered: s.sent, retries: s.retries, deadLetters: s.deadLetters, lastError: s.lastError, lastSuccessAt: s.lastSuccessAt, lagRecords: s.lagRecords };
  }
}
