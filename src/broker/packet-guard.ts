/**
 * Bounds the size of MQTT packets before they are buffered. The MQTT fixed header carries the
 * packet's remaining length (a variable-byte integer, [MQTT-2.2.3]); the guard walks packet
 * boundaries in the byte stream and reports the first packet larger than the limit, so the
 * connection can be closed before the broker's parser buffers megabytes from a faulty device.
 */
export class PacketSizeGuard {
  /** Bytes still to skip in the current packet body. */
  private remaining = 0;
  /** 0 = expect fixed-header byte, 1.. = reading length byte n. */
  private state = 0;
  private length = 0;
  private multiplier = 1;

  constructor(private readonly maxPacketBytes: number) {}

  /**
   * Feeds the next chunk of the stream.
   * @returns the size of an oversized packet when one starts in this chunk, else 0. A malformed
   * length (more than four length bytes, [MQTT-1.5.5]) is reported as `Infinity`.
   */
  check(chunk: Buffer): number {
    let i = 0;
    while (i < chunk.length) {
      if (this.remaining > 0) {
        const skip = Math.min(this.remaining, chunk.length - i);
        this.remaining -= skip;
        i += skip;
        continue;
      }
      const byte = chunk[i++]!;
      if (this.state === 0) {
        this.state = 1;
        this.length = 0;
        this.multiplier = 1;
        continue;
      }
      this.length += (byte & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      if (byte & 0x80) {
        if (++this.state > 4) return Infinity;
        continue;
      }
      this.state = 0;
      if (this.length > this.maxPacketBytes) return this.length;
      this.remaining = this.length;
    }
    return 0;
  }
}

/**
 * A token bucket per device: `rate` tokens a second up to `burst`. Time comes from the caller so
 * the logic is testable without clocks.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.last = now;
  }

  /** Takes one token; false when the bucket is empty (the caller is over its rate). */
  take(now: number): boolean {
    const elapsed = Math.max(0, now - this.last) / 1000;
    this.last = now;
    this.tokens = Math.min(this.burst, this.tokens + elapsed * this.rate);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
