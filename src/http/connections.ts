/**
 * What the HTTP server lets clients hold: connections in all (`http.maxConnections`), from one
 * address (`http.connectionsPerAddress`), and what it answers a request Node's parser refuses
 * before the routes see it (a timeout, headers too large, bytes that are no request). Every
 * refusal is counted and logged: a connection refused, at most a line per kind and address in
 * ten seconds; a request refused, as every HTTP refusal is (refusals.ts).
 *
 * A reverse proxy named in `http.trustProxy` carries every station's connections, so the cap per
 * address does not apply to it; the cap in all does.
 */
import { BlockList, isIP, type Socket } from 'node:net';
import { STATUS_CODES, type Server } from 'node:http';
import type { Counters } from '../core/counters.js';
import type { Logger } from '../core/log.js';
import { AddressCounts, PacedWarnings } from '../core/per-address.js';
import type { HttpRefusals } from './refusals.js';

export interface ConnectionLimits {
  readonly maxConnections: number;
  readonly connectionsPerAddress: number;
  /** Addresses (CIDR ranges, proxy-addr's names) the cap per address does not apply to. */
  readonly trusted: readonly string[];
}

const WARN_EVERY_MS = 10_000;

/** proxy-addr's named ranges, as `http.trustProxy` takes them. */
const NAMED: Readonly<Record<string, ReadonlyArray<readonly [string, number, 'ipv4' | 'ipv6']>>> = {
  loopback: [['127.0.0.0', 8, 'ipv4'], ['::1', 128, 'ipv6']],
  linklocal: [['169.254.0.0', 16, 'ipv4'], ['fe80::', 10, 'ipv6']],
  uniquelocal: [['10.0.0.0', 8, 'ipv4'], ['172.16.0.0', 12, 'ipv4'], ['192.168.0.0', 16, 'ipv4'], ['fc00::', 7, 'ipv6']],
};

/** The addresses named by `entries` (addresses, CIDR ranges, named ranges). */
export function addressList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const e of entries) {
    const named = NAMED[e];
    if (named) {
      for (const [net, bits, type] of named) list.addSubnet(net, bits, type);
      continue;
    }
    const [addr = '', bits] = e.split('/');
    const type = isIP(addr) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(addr, type);
    else list.addSubnet(addr, Number(bits), type);
  }
  return list;
}

/** Whether `address` (as a socket gives it, IPv4 perhaps mapped into IPv6) is in `list`. */
function listed(list: BlockList, address: string): boolean {
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return isIP(v4) === 4 ? list.check(v4, 'ipv4') : isIP(address) === 6 && list.check(address, 'ipv6');
}

export class ConnectionGuard {
  private readonly perAddress = new AddressCounts();
  private readonly warnings: PacedWarnings;
  private readonly trusted: BlockList;

  constructor(
    private readonly limits: ConnectionLimits,
    private readonly counters: Counters,
    private readonly refusals: HttpRefusals,
    logger: Logger,
    clock: () => number = Date.now,
  ) {
    this.trusted = addressList(limits.trusted);
    this.warnings = new PacedWarnings(logger, WARN_EVERY_MS, clock);
  }

  /** Bounds `server`'s connections. */
  attach(server: Server): void {
    server.maxConnections = this.limits.maxConnections;
    server.on('drop', (d?: { remoteAddress?: string }) => this.refuse('max_connections', d?.remoteAddress ?? '?', 'http.maxConnections are open'));
    server.on('connection', (socket: Socket) => this.admit(socket));
  }

  /**
   * Answers what Node's parser refused (in place of Fastify's own answer, which counts nothing):
   * 408 when the request did not arrive within its timeouts, 431 for headers over Node's bound,
   * 400 for bytes that are no HTTP request; then closes the connection.
   */
  readonly clientError = (err: Error & { code?: string }, socket: Socket): void => {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const [status, reason] = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? ([408, 'request_timeout'] as const) : err.code === 'HPE_HEADER_OVERFLOW' ? ([431, 'headers_too_large'] as const) : ([400, 'malformed_request'] as const);
    this.refusals.refusedBeforeRoute(socket.remoteAddress ?? '?', reason, status, { code: err.code });
    if (socket.writable) {
      const body = JSON.stringify({ error: STATUS_CODES[status], statusCode: status });
      socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${body}`);
    }
    socket.destroy(err);
  };

  private admit(socket: Socket): void {
    const address = socket.remoteAddress ?? '?';
    if (listed(this.trusted, address)) return;
    if (this.perAddress.of(address) >= this.limits.connectionsPerAddress) {
      socket.destroy();
      this.refuse('per_address', address, 'http.connectionsPerAddress are open from this address');
      return;
    }
    this.perAddress.take(address);
    socket.once('close', () => this.perAddress.give(address));
  }

  private refuse(reason: string, address: string, what: string): void {
    this.counters.refuseHttpConnection(reason);
    const limit = reason === 'per_address' ? this.limits.connectionsPerAddress : this.limits.maxConnections;
    this.warnings.warn(reason, address, { remote: address, reason, limit }, `HTTP connection refused: ${what} (counted; at most a line per address and reason in ${WARN_EVERY_MS / 1000} s)`);
  }
}
