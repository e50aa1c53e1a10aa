/**
 * What a forwarder says about failures: one line when a failure condition starts, another only
 * when the condition changes (a 500 becomes a 503, a setting turns out wrong), and one when
 * forwarding works again. An outage of hours is a few lines, not a line per retry.
 */
import type { Logger } from '../core/log.js';
import type { Destination, Failure, Item } from './destination.js';

export class OutageLog {
  /** The condition last logged, until recovery is logged. */
  #condition: string | undefined;

  constructor(
    private readonly log: Logger,
    private readonly destination: Pick<Destination<Item>, 'logs' | 'logFields'>,
    /** Records not yet forwarded, logged with each line. */
    private readonly lag: () => number,
  ) {}

  /** A failure the destination judged: a send or a connection. */
  failed(f: Failure): void {
    this.#enter(`${f.kind}:${f.status ?? 'network'}`, () => {
      const fields = { ...this.destination.logFields, status: f.status, reason: f.reason, lagRecords: this.lag() };
      if (f.kind === 'config') this.log.error({ ...fields, setting: f.setting }, this.destination.logs.config(f.status, f.setting));
      else this.log.warn({ ...fields, retryAfterMs: f.retryAfterMs }, this.destination.logs.retrying);
    });
  }

  /** Spool or dead-letter I/O failed. */
  ioFailed(err: unknown, reason: string): void {
    this.#enter(`io:${reason}`, () => this.log.error({ err }, 'spool or dead-letter I/O failed; will retry the batch'));
  }

  /**
   * Forwarding works again. Called on a commit or an empty read, not on any confirmed send, so
   * a batch whose dead letters or commit keep failing does not log "recovered" on every retry.
   */
  recovered(): void {
    if (this.#condition === undefined) return;
    this.log.info({ after: this.#condition, lagRecords: this.lag() }, this.destination.logs.recovered);
    this.#condition = undefined;
  }

  #enter(condition: string, logIt: () => void): void {
    if (this.#condition === condition) return;
    this.#condition = condition;
    logIt();
  }
}
