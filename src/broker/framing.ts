/**
 * Splits a client's byte stream into whole MQTT packets before the broker sees them, so memory
 * follows the bytes a client sent, not the number of reads they arrived in. The MQTT fixed header
 * carries each packet's remaining length ([MQTT-2.2.3], a variable-byte integer of at most four
 * bytes [MQTT-1.5.5]); whole packets within one read are passed on as a slice of that read, and
 * an incomplete packet is copied into one buffer that grows by doubling up to the packet's
 * declared size. A packet sent a byte at a time therefore holds at most twice its received
 * bytes (and at least {@link MIN_ASSEMBLY} bytes), never one buffer per read. Every buffer the
 * framer holds is charged to a {@link ByteBudget} shared by all connections.
 */

/** Smallest buffer for an incomplete packet, bytes. */
export const MIN_ASSEMBLY = 256;

/** Bytes all connections may hold in incomplete or not-yet-consumed packets together. */
export class ByteBudget {
  private inUse = 0;

  constructor(readonly max: number) {}

  /** Takes `n` bytes; false (nothing taken) when that would pass the bound. */
  take(n: number): boolean {
    if (this.inUse + n > this.max) return false;
    this.inUse += n;
    return true;
  }

  /** Gives back `n` bytes taken before. */
  give(n: number): void {
    this.inUse -= n;
  }

  /** Bytes held now. */
  get used(): number {
    return this.inUse;
  }
}

/** Why a stream cannot be framed: the connection is to be closed. */
export type FramingProblem =
  | { readonly kind: 'oversized'; readonly size: number }
  | { readonly kind: 'malformed' }
  | { readonly kind: 'budget'; readonly wanted: number };

/** MQTT control packet type PUBREL ([MQTT-3.6]), first byte 0x62. */
const PUBREL = 6;

/** A growable buffer charged to the budget. */
class Held {
  buf: Buffer | undefined;
  length = 0;

  constructor(private readonly budget: ByteBudget) {}

  /** Makes room for `n` more bytes (capacity doubling, at most `cap`); false when the budget says no. */
  reserve(n: number, cap: number): boolean {
    const need = this.length + n;
    const have = this.buf?.length ?? 0;
    if (need <= have) return true;
    const size = Math.min(Math.max(need, 2 * have, MIN_ASSEMBLY), Math.max(cap, need));
    if (!this.budget.take(size - have)) return false;
    const next = Buffer.allocUnsafe(size);
    if (this.buf) this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
    return true;
  }

  append(src: Buffer, start: number, end: number): void {
    src.copy(this.buf!, this.length, start, end);
    this.length += end - start;
  }

  /** The bytes held, and lets the buffer go (its budget with it). */
  take(): Buffer {
    const out = this.buf!.subarray(0, this.length);
    this.release();
    return out;
  }

  release(): void {
    if (this.buf) this.budget.give(this.buf.length);
    this.buf = undefined;
    this.length = 0;
  }

  /** Bytes of budget held. */
  get capacity(): number {
    return this.buf?.length ?? 0;
  }
}

/** Reads a fixed header at `at`: its length and the packet's total size, or what is missing. */
function header(b: Buffer, at: number, end: number): { headerBytes: number; remaining: number } | 'more' | 'malformed' {
  let remaining = 0;
  let multiplier = 1;
  for (let i = 1; i <= 4; i++) {
    if (at + i >= end) return 'more';
    const byte = b[at + i]!;
    remaining += (byte & 0x7f) * multiplier;
    if ((byte & 0x80) === 0) return { headerBytes: i + 1, remaining };
    multiplier *= 128;
  }
  return 'malformed';
}

export class PacketFramer {
  private readonly partial: Held;
  /** Total size of the packet being assembled, once its header is complete; else 0. */
  private size = 0;

  /**
   * @param maxPacketBytes largest remaining length accepted (mqtt.maxPacketBytes)
   * @param onPubrel told the packet id of each PUBREL as it is framed (QoS 2 bookkeeping)
   */
  constructor(
    private readonly maxPacketBytes: number,
    budget: ByteBudget,
    private readonly onPubrel: (messageId: number) => void = () => {},
  ) {
    this.partial = new Held(budget);
  }

  /** Budget bytes this framer holds now. */
  get held(): number {
    return this.partial.capacity;
  }

  /**
   * Feeds the next read.
   * @returns the whole packets it completed, in order (slices of `chunk` or assembled buffers), or a problem.
   */
  push(chunk: Buffer): Buffer[] | FramingProblem {
    const out: Buffer[] = [];
    let i = 0;
    if (this.partial.length > 0) {
      const r = this.continuePartial(chunk);
      if (typeof r !== 'number') return r;
      i = r;
      if (this.size > 0 && this.partial.length === this.size) {
        const packet = this.partial.take();
        this.size = 0;
        this.notice(packet, 0);
        out.push(packet);
      }
    }
    const start = i;
    while (i < chunk.length) {
      const h = header(chunk, i, chunk.length);
      if (h === 'malformed') return { kind: 'malformed' };
      if (h === 'more') break;
      if (h.remaining > this.maxPacketBytes) return { kind: 'oversized', size: h.remaining };
      const total = h.headerBytes + h.remaining;
      if (i + total > chunk.length) break;
      this.notice(chunk, i);
      i += total;
    }
    if (i > start) out.push(chunk.subarray(start, i));
    if (i < chunk.length) {
      const r = this.continuePartial(chunk, i);
      if (typeof r !== 'number') return r;
    }
    return out;
  }

  /** Drops what is held (the connection closed). */
  release(): void {
    this.partial.release();
    this.size = 0;
  }

  /** Copies bytes from `chunk[from…]` into the packet being assembled; returns where it stopped. */
  private continuePartial(chunk: Buffer, from = 0): number | FramingProblem {
    let i = from;
    while (this.size === 0 && i < chunk.length) {
      // Header still incomplete: at most five bytes, taken one at a time.
      if (!this.partial.reserve(1, 5)) return { kind: 'budget', wanted: 1 };
      this.partial.append(chunk, i, i + 1);
      i++;
      const h = header(this.partial.buf!, 0, this.partial.length);
      if (h === 'malformed') return { kind: 'malformed' };
      if (h === 'more') continue;
      if (h.remaining > this.maxPacketBytes) return { kind: 'oversized', size: h.remaining };
      this.size = h.headerBytes + h.remaining;
    }
    if (this.size === 0) return i;
    const n = Math.min(this.size - this.partial.length, chunk.length - i);
    if (n > 0) {
      if (!this.partial.reserve(n, this.size)) return { kind: 'budget', wanted: n };
      this.partial.append(chunk, i, i + n);
    }
    return i + n;
  }

  /** Looks at a whole packet starting at `at` for what the broker's bookkeeping needs. */
  private notice(b: Buffer, at: number): void {
    if (b[at]! >> 4 !== PUBREL) return;
    const h = header(b, at, b.length);
    if (typeof h === 'object' && h.remaining >= 2) this.onPubrel(b.readUInt16BE(at + h.headerBytes));
  }
}
