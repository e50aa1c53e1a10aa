/**
 * The stream aedes reads and writes for one client instead of the raw socket. It reads the
 * socket itself, frames packets ({@link PacketFramer}) and hands aedes whole packets only, one
 * buffer at a time: while aedes has not taken the last one, further packets wait coalesced in a
 * single buffer charged to the shared budget, and past `maxPacketBytes` of them the socket is
 * paused (TCP backpressure). So a connection holds, besides its socket and aedes' client
 * object: one incomplete packet (≤ 2 × its received bytes, ≤ `maxPacketBytes` + 5), packets
 * waiting for aedes (≤ 2 × (`maxPacketBytes` + one read)), and the one buffer aedes is parsing.
 */
import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { ByteBudget, PacketFramer, type FramingProblem } from './framing.js';

export interface FramedConnectionOptions {
  readonly maxPacketBytes: number;
  readonly budget: ByteBudget;
  /** The stream cannot be framed: it is destroyed right after this call. */
  readonly onProblem: (problem: FramingProblem) => void;
  /** A PUBREL went by with this packet id. */
  readonly onPubrel?: (messageId: number) => void;
}

export class FramedConnection extends Duplex {
  readonly remoteAddress: string;
  readonly remotePort: number | undefined;
  private readonly framer: PacketFramer;
  /** Whole packets aedes has not taken yet, coalesced, and the budget they hold. */
  private waiting: Buffer | undefined;
  private waitingLength = 0;
  private paused = false;

  constructor(
    private readonly socket: Socket,
    private readonly opts: FramedConnectionOptions,
  ) {
    // highWaterMark 1: the stream's own buffer holds at most the one buffer just pushed.
    super({ readableHighWaterMark: 1, allowHalfOpen: false });
    this.remoteAddress = socket.remoteAddress ?? '?';
    this.remotePort = socket.remotePort;
    this.framer = new PacketFramer(opts.maxPacketBytes, opts.budget, opts.onPubrel);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => {
      this.flushWaiting();
      this.push(null);
    });
    socket.on('error', (err) => this.destroy(err));
    socket.on('close', () => this.destroy());
  }

  /** Budget bytes this connection holds now. */
  get held(): number {
    return this.framer.held + (this.waiting?.length ?? 0);
  }

  private onData(chunk: Buffer): void {
    const packets = this.framer.push(chunk);
    if (!Array.isArray(packets)) {
      this.opts.onProblem(packets);
      this.destroy();
      return;
    }
    for (const p of packets) {
      if (this.readableLength === 0 && this.waiting === undefined) this.push(p);
      else if (!this.wait(p)) {
        this.opts.onProblem({ kind: 'budget', wanted: p.length });
        this.destroy();
        return;
      }
    }
    if (this.waitingLength > this.opts.maxPacketBytes && !this.paused) {
      this.paused = true;
      this.socket.pause();
    }
  }

  /** Appends a packet to the waiting buffer (doubling, charged to the budget). */
  private wait(p: Buffer): boolean {
    const have = this.waiting?.length ?? 0;
    const need = this.waitingLength + p.length;
    if (need > have) {
      const size = Math.max(need, 2 * have, 256);
      if (!this.opts.budget.take(size - have)) return false;
      const next = Buffer.allocUnsafe(size);
      if (this.waiting) this.waiting.copy(next, 0, 0, this.waitingLength);
      this.waiting = next;
    }
    p.copy(this.waiting!, this.waitingLength);
    this.waitingLength += p.length;
    return true;
  }

  /** Hands the waiting packets to aedes in one buffer and gives their budget back. */
  private flushWaiting(): void {
    if (!this.waiting) return;
    const out = this.waiting.subarray(0, this.waitingLength);
    this.opts.budget.give(this.waiting.length);
    this.waiting = undefined;
    this.waitingLength = 0;
    this.push(out);
  }

  override _read(): void {
    this.flushWaiting();
    if (this.paused) {
      this.paused = false;
      this.socket.resume();
    }
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    if (this.socket.write(chunk)) done();
    else this.socket.once('drain', () => done());
  }

  /**
   * Packets written in one tick (aedes corks the stream, so PUBACKs released by one spool
   * flush arrive together) go out as one socket write: one send, not one per packet.
   */
  override _writev(chunks: Array<{ chunk: Buffer }>, done: (err?: Error | null) => void): void {
    const out = chunks.length === 1 ? chunks[0]!.chunk : Buffer.concat(chunks.map((c) => c.chunk));
    this._write(out, 'binary', done);
  }

  override _final(done: (err?: Error | null) => void): void {
    this.socket.end();
    done();
  }

  override _destroy(err: Error | null, done: (err: Error | null) => void): void {
    this.framer.release();
    if (this.waiting) this.opts.budget.give(this.waiting.length);
    this.waiting = undefined;
    this.waitingLength = 0;
    this.socket.destroy();
    done(err);
  }
}
