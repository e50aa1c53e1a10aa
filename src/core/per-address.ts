/**
 * Bookkeeping per client address, shared by the MQTT broker and the HTTP server: the connections
 * each address holds (for their bounds per address), and warnings paced per kind and address, so
 * a flood from one address cannot flood the log while every refusal is still counted.
 */
import type { Logger } from './log.js';

/** Connections held per client address. */
export class AddressCounts {
  private readonly held = new Map<string, number>();

  /** Connections `address` holds now. */
  of(address: string): number {
    return this.held.get(address) ?? 0;
  }

  /** `address` opened one more. */
  take(address: string): void {
    this.held.set(address, this.of(address) + 1);
  }

  /** One of `address`'s closed. */
  give(address: string): void {
    const n = this.of(address) - 1;
    if (n > 0) this.held.set(address, n);
    else this.held.delete(address);
  }
}

/** Pairs of kind and address remembered at most; past it they are all forgotten at once. */
const MAX_PAIRS = 1000;

/** Warnings logged at most once every `everyMs` per kind and address. */
export class PacedWarnings {
  private readonly last = new Map<string, number>();

  constructor(
    private readonly logger: Logger,
    private readonly everyMs: number,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Logs `message` with `fields`, unless a warning of `kind` about `address` was logged within `everyMs`. */
  warn(kind: string, address: string, fields: Record<string, unknown>, message: string): void {
    const key = `${kind}\0${address}`;
    const now = this.clock();
    if (now - (this.last.get(key) ?? Number.NEGATIVE_INFINITY) < this.everyMs) return;
    if (this.last.size > MAX_PAIRS) this.last.clear();
    this.last.set(key, now);
    this.logger.warn(fields, message);
  }
}
