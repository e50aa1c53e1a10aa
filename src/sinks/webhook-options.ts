/** Options, stats and the config schema of the alarm webhook sink (see webhook.ts). */
import { z } from 'zod';
import type { AlarmTransition } from '../core/types.js';
import type { ForwardingOptions } from './forwarder.js';
import type { Fetch } from './webhook-transport.js';
import type { WriterState } from './forward-stats.js';

/** The `alarms.webhook` section of the gateway config. Defaults live here. */
export const webhookConfigSchema = z
  .object({
    /** Endpoint that receives the alarm batches, http or https. */
    url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
    /** Extra request headers, e.g. `Authorization: Bearer …`. Never logged. */
    headers: z.record(z.string(), z.string()).default({}),
    /** Alarm transitions per request. */
    batchSize: z.number().int().min(1).max(10_000).default(100),
    /** Longest wait between retries, ms; also the retry interval while the URL or credentials are wrong. */
    maxBackoffMs: z.number().int().min(100).default(30_000),
    /** Per-request timeout, ms. */
    timeoutMs: z.number().int().min(100).default(10_000),
  })
  .strict();
export type WebhookConfig = z.infer<typeof webhookConfigSchema>;

export interface WebhookSinkOptions extends ForwardingOptions {
  readonly url: string;
  /** Extra request headers (e.g. `Authorization`). Never logged. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Alarm transitions per request. Default 100. */
  readonly batchSize?: number;
  /** Per-request timeout, in ms. Default 10000. */
  readonly timeoutMs?: number;
  /** JSON-lines file for refused transitions. */
  readonly deadLetterPath: string;
  /** Spool records scanned per read; alarms are a small share of them. Default 5000. */
  readonly readSize?: number;
  /**
   * Shortest gap between cursor commits over records that hold no alarm, in ms. Default 250.
   * Bounds the fsync rate on a busy spool; an alarm waits at most this long before it is posted.
   */
  readonly commitIntervalMs?: number;
  /** Replaces the global `fetch` (tests, proxies). */
  readonly fetch?: Fetch;
  /**
   * Told of each request's outcome with the transitions it carried: accepted (2xx), or failed
   * with the reason (told again on each retry), for delivery confirmation of escalation steps.
   */
  readonly onResult?: (alarms: readonly AlarmTransition[], outcome: WebhookOutcome) => void;
}

/** How one request went. */
export type WebhookOutcome = { readonly ok: true } | { readonly ok: false; readonly reason: string };

export interface WebhookStats {
  readonly state: WriterState;
  /** Alarm transitions the endpoint accepted (2xx). */
  readonly delivered: number;
  /** Failed requests that were retried. */
  readonly retries: number;
  /** Spool records sent to the dead-letter file. */
  readonly deadLetters: number;
  /** Message of the most recent failure, kept after recovery for diagnosis. */
  readonly lastError?: string;
  /** Epoch ms of the last 2xx. */
  readonly lastSuccessAt?: number;
  /** Records appended to the spool but not yet committed by this sink. */
  readonly lagRecords: number;
}
