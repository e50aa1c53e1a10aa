/** Errors named by what they mean, so callers can decide what to do without parsing messages. */

/** A setting is wrong. `path` names it the way the config file does: `devices[2].secret`. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    message: string,
    readonly issues: readonly string[] = [message],
  ) {
    super(message);
  }
}

/** A frame could not be decoded. Count it, log it with its origin, drop it, go on. */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
  constructor(
    message: string,
    /** Short stable reason for the counter label, e.g. `malformed_json`, `unknown_metric`. */
    readonly reason: string,
  ) {
    super(message);
  }
}

/** A downstream write failed. Carries its own retry decision. */
export class SinkError extends Error {
  override readonly name = 'SinkError';
  constructor(
    message: string,
    readonly retryable: boolean,
    /** Server-requested wait (Retry-After), in ms, when it gave one. */
    readonly retryAfterMs?: number,
    readonly statusCode?: number,
  ) {
    super(message);
  }
}

/** A connection went away; reconnect with backoff. */
export class DisconnectedError extends Error {
  override readonly name = 'DisconnectedError';
}

/** The spool is at its size bound and the policy refuses new records. */
export class SpoolFullError extends Error {
  override readonly name = 'SpoolFullError';
}
