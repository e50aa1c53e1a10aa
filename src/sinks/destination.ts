/**
 * What a forwarder needs to know about the place it forwards to: how a batch of spool records
 * becomes items, how items are sent, and what a failure means. Everything else (reading from a
 * cursor, batching, retries with backoff, bisection into dead letters, commits, logs, stats,
 * stop) is the forwarder's (forwarder.ts), written once for every destination.
 */
import type { SinkError } from '../core/errors.js';
import type { SpoolEntry } from '../spool/types.js';

/** One thing a destination confirms or refuses on its own: a line, an alarm, a message. */
export interface Item {
  /** Spool sequence number of the record it came from. */
  readonly seq: number;
}

/** A spool record that could not be encoded for the destination. */
export interface RejectedRecord {
  readonly seq: number;
  /** The record as stored (copied out of the spool's read buffer). */
  readonly raw: string;
  readonly reason: string;
}

/** A batch of spool records as the destination sees it. */
export interface Encoded<I extends Item> {
  /** In spool order. */
  readonly items: readonly I[];
  /** Records that cannot be sent: dead-lettered, or (without a dead-letter file) logged and passed over. */
  readonly rejected: readonly RejectedRecord[];
}

interface FailureBase {
  /** Why, for logs, `lastError` and dead letters. */
  readonly reason: string;
  /** The destination's status code, when it answered with one (HTTP). */
  readonly status?: number;
  /** The wait the destination asked for (Retry-After), in ms. */
  readonly retryAfterMs?: number;
}

/**
 * What a failed send means, as the destination judges it. `retry`: the same items again after
 * backoff (the destination is away or busy). `config`: a setting is wrong, so the data stays in
 * the spool and is retried at the longest backoff until someone fixes it. `refused`: these items
 * are refused for good.
 */
export type Failure =
  | (FailureBase & { readonly kind: 'retry' | 'refused' })
  | (FailureBase & {
      readonly kind: 'config';
      /** The setting to check, as the config file names it (`influx.token`). */
      readonly setting: string;
    });

/** The log lines a destination writes, fixed so an operator can search for them. */
export interface DestinationLogs {
  /** A failure the forwarder retries began (warn). */
  readonly retrying: string;
  /** A wrong setting was found (error). */
  readonly config: (status: number | undefined, setting: string) => string;
  /** Items refused for good were dead-lettered (warn). */
  readonly refused: string;
  /** Records that could not be encoded were set aside (warn). */
  readonly unencodable: string;
  /** Forwarding works again after a failure (info). */
  readonly recovered: string;
}

/** The place a forwarder sends to. Implementations are small: they hold no loop and no retry. */
export interface Destination<I extends Item> {
  readonly logs: DestinationLogs;
  /** Fields added to every failure line (an endpoint's origin, a broker's URL); never a secret. */
  readonly logFields?: Readonly<Record<string, unknown>>;
  /** Items go out at once rather than wait for the linger (alarms page people). */
  readonly urgent?: boolean;
  /** Turns spool entries into items, in spool order. Never throws: a bad record is rejected. */
  encode(entries: readonly SpoolEntry[]): Encoded<I>;
  /**
   * Sends items; resolves only once the destination confirmed every one (a 2xx, the PUBACKs).
   * @param signal aborts the send when stop's grace has passed.
   * @throws whatever failed; {@link Destination.classify} judges it.
   */
  send(items: readonly I[], signal: AbortSignal): Promise<void>;
  /** Judges an error that `send` or `connect` threw, or the reason a connection was lost. */
  classify(err: unknown): Failure;
  /** The text a dead letter keeps for a refused item. */
  letter(item: I): string;
  /**
   * For destinations that hold a connection: opens it unless it is open, before each read.
   * @returns a signal that aborts when the connection is lost, so an idle wait ends at once.
   */
  connect?(signal: AbortSignal): Promise<AbortSignal>;
  /** Releases the connection once the forwarder has stopped. */
  close?(): Promise<void>;
}

/**
 * The usual reading of an HTTP destination's {@link SinkError}: a status that points at a
 * setting is a `config` failure, a retryable error a `retry`, anything else `refused`.
 * @param settingFor the setting a status points at, or undefined when it is about the data.
 */
export function failureOf(error: SinkError, settingFor: (status: number) => string | undefined): Failure {
  const status = error.statusCode;
  const setting = status === undefined ? undefined : settingFor(status);
  if (setting !== undefined) return { kind: 'config', reason: error.message, status, setting };
  if (error.retryable) return { kind: 'retry', reason: error.message, status, retryAfterMs: error.retryAfterMs };
  return { kind: 'refused', reason: error.message, status };
}
