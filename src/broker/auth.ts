/**
 * MQTT credential checks that cannot be turned into a CPU flood. A device secret known to be
 * right (the same secret succeeded before) costs a SHA-256 only. Scrypt checks run at most
 * `mqtt.limits.maxConcurrentAuthChecks` at once (core/gate.ts), and each looks at the address's
 * failures (core/attempt-limiter.ts) when its turn comes, right before hashing: past
 * `mqtt.limits.authFailuresPerAddress` failures within the window, attempts from that address
 * are refused without hashing. Because a check sees every failure recorded before it started,
 * concurrent attempts cannot race past the limit by more than the checks running at once. Only
 * failures count: a ward's devices reconnecting at once from one address (a hub, a NAT) after a
 * restart are queued, not refused.
 */
import { AttemptLimiter, type LimitedKey } from '../core/attempt-limiter.js';
import { BusyError, ConcurrencyGate } from '../core/gate.js';
import type { SecretVerifier } from './secrets.js';

export interface CredentialCheckOptions {
  readonly verifier: SecretVerifier;
  /** Failed authentications one address may make within the window. */
  readonly failuresPerAddress: number;
  /** ms */
  readonly windowMs: number;
  /** scrypt checks at once. */
  readonly maxConcurrent: number;
  /** Checks that may wait for a slot; more are refused as busy. */
  readonly maxQueued: number;
  readonly clock?: () => number;
}

export type CredentialVerdict =
  | { readonly ok: true }
  | {
      readonly ok: false;
      /** Counted as `vigil_mqtt_connections_refused_total{reason}`. */
      readonly reason: 'unknown_device' | 'bad_secret' | 'throttled' | 'busy';
      /** CONNACK return code: 4 bad user name or password, 3 server unavailable (try later). */
      readonly returnCode: 3 | 4;
      /** For `throttled`: the first refusal of this block (worth a warning; the rest are not). */
      readonly first?: boolean;
    };

export class CredentialChecks {
  private readonly failures: AttemptLimiter;
  private readonly gate: ConcurrencyGate;

  constructor(private readonly opts: CredentialCheckOptions) {
    // One key per address: a ward's addresses are few, the map stays small; the cap is a backstop.
    this.failures = new AttemptLimiter({ windowMs: opts.windowMs, maxKeys: 10_000, ...(opts.clock ? { clock: opts.clock } : {}) });
    // The queue is bounded by the connections that can be open (mqtt.limits.maxConnections).
    this.gate = new ConcurrencyGate(opts.maxConcurrent, opts.maxQueued);
  }

  /** Most scrypt checks that ever ran at once. */
  get peak(): number {
    return this.gate.peak;
  }

  async check(account: string, secret: Buffer | undefined, address: string): Promise<CredentialVerdict> {
    const { verifier } = this.opts;
    if (verifier.remembers(account, secret)) return { ok: true };
    const key: LimitedKey = [`ip:${address}`, this.opts.failuresPerAddress];
    const attempt = async (): Promise<CredentialVerdict> => {
      const refusal = this.failures.blocked([key]);
      if (refusal) return { ok: false, reason: 'throttled', returnCode: 3, first: refusal.first };
      const verdict = await verifier.verify(account, secret);
      if (verdict === 'ok') return { ok: true };
      this.failures.record([key]);
      return { ok: false, reason: verdict, returnCode: 4 };
    };
    try {
      // Only a stored hash costs a scrypt; plain secrets and unknown accounts skip the queue.
      return verifier.hashes(account) ? await this.gate.run(attempt) : await attempt();
    } catch (err) {
      if (err instanceof BusyError) return { ok: false, reason: 'busy', returnCode: 3 };
      throw err;
    }
  }
}
