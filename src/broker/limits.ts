/**
 * The broker's limits (`mqtt.limits` in the config) and the first of them to apply: how many
 * connections are open in total and from one address, checked when a connection is accepted,
 * before a byte of it is read. A refused connection is closed at once, counted
 * (`vigil_mqtt_connections_refused_total{reason="too_many_connections" | "address_limit"}`) and
 * logged at most once a minute per reason and address, so a flood cannot flood the log too.
 */
import type { Counters } from '../core/counters.js';
import type { Logger } from '../core/log.js';
import type { FramingProblem } from './framing.js';
import { AddressCounts, PacedWarnings } from '../core/per-address.js';

export interface MqttLimits {
  /** Open connections in total (authenticated or not). */
  readonly maxConnections: number;
  /** Open connections from one client address. */
  readonly connectionsPerAddress: number;
  /** Live connections per device or consumer account. */
  readonly connectionsPerAccount: number;
  /** Client ids per account, connected or kept as a persistent session. */
  readonly sessionsPerAccount: number;
  /** QoS 1 and 2 messages kept for one persistent session (away, or not yet acknowledged); past it the oldest gives way. */
  readonly queuedPerSession: number;
  /** s from TCP accept until CONNECT must have arrived. */
  readonly connectTimeoutSeconds: number;
  /** Bytes all connections may hold in unfinished or not-yet-processed packets together. */
  readonly bufferedBytes: number;
  /** Failed authentications from one address within the window before it is refused without checking. */
  readonly authFailuresPerAddress: number;
  /** s */
  readonly authFailureWindowSeconds: number;
  /** Device-secret checks (scrypt) at once. */
  readonly maxConcurrentAuthChecks: number;
}

/** ms between two warnings of the same kind about the same address. */
const WARN_EVERY_MS = 60_000;

export class ConnectionCounts {
  private readonly perAddress = new AddressCounts();
  private readonly warnings: PacedWarnings;

  constructor(
    private readonly limits: MqttLimits,
    private readonly counters: Counters,
    private readonly logger: Logger,
    clock: () => number,
  ) {
    this.warnings = new PacedWarnings(logger, WARN_EVERY_MS, clock);
  }

  /** Counts a new connection from `address`, or refuses it; `open` is how many are open now. */
  admit(address: string, open: number): boolean {
    if (open >= this.limits.maxConnections) return this.refuse('too_many_connections', address, 'mqtt.limits.maxConnections');
    if (this.perAddress.of(address) >= this.limits.connectionsPerAddress) return this.refuse('address_limit', address, 'mqtt.limits.connectionsPerAddress');
    this.perAddress.take(address);
    return true;
  }

  /** A connection admitted from `address` closed. */
  release(address: string): void {
    this.perAddress.give(address);
  }

  /** Logs a warning at most once a minute per `kind` and `fields.remote`'s address. */
  warnOnce(kind: string, fields: Record<string, unknown>, message: string): void {
    this.warnings.warn(kind, String(fields.remote ?? '').replace(/:\d+$/, ''), fields, message);
  }

  /** Counts and logs why a connection's bytes could not be framed (it is closed). */
  framingProblem(p: FramingProblem, remote: string, maxPacketBytes: number): void {
    this.counters.reject(p.kind === 'oversized' ? 'oversized' : p.kind === 'budget' ? 'buffer_limit' : 'malformed_packet');
    if (p.kind === 'oversized') this.logger.warn({ remote, size: p.size, limit: maxPacketBytes }, 'MQTT packet over mqtt.maxPacketBytes: connection closed');
    else if (p.kind === 'budget') this.warnOnce('budget', { remote, limit: this.limits.bufferedBytes }, 'MQTT connections hold mqtt.limits.bufferedBytes in unfinished packets: connection closed');
    else this.logger.warn({ remote }, 'malformed MQTT packet length: connection closed');
  }

  private refuse(reason: string, address: string, setting: string): false {
    this.counters.refuseConnection(reason);
    this.warnOnce(reason, { remote: address, reason }, `MQTT connection refused: ${setting} reached`);
    return false;
  }
}
