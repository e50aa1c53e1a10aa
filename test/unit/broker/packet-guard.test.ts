import { describe, expect, it } from 'vitest';
import mqttPacket from 'mqtt-packet';
import { PacketSizeGuard, TokenBucket } from '../../../src/broker/packet-guard.js';
import { filterCovers } from '../../../src/broker/topics.js';

function publish(payloadBytes: number): Buffer {
  return mqttPacket.generate({ cmd: 'publish', topic: 'vigil/v1/dev/a/obs', payload: Buffer.alloc(payloadBytes, 0x61), qos: 1, messageId: 7, retain: false, dup: false });
}

describe('PacketSizeGuard', () => {
  it('passes a stream of packets under the limit, whatever the chunking', () => {
    const stream = Buffer.concat([publish(10), publish(900), publish(0), publish(1000)]);
    for (const size of [1, 2, 3, 7, 64, stream.length]) {
      const guard = new PacketSizeGuard(1024);
      for (let i = 0; i < stream.length; i += size) expect(guard.check(stream.subarray(i, i + size))).toBe(0);
    }
  });

  it('reports the first packet over the limit as soon as its length is known', () => {
    const big = publish(5000);
    const stream = Buffer.concat([publish(10), big]);
    const guard = new PacketSizeGuard(1024);
    // The fixed header of the big packet ends within its first 3 bytes.
    const firstLen = publish(10).length;
    expect(guard.check(stream.subarray(0, firstLen + 1))).toBe(0);
    const reported = guard.check(stream.subarray(firstLen + 1, firstLen + 4));
    expect(reported).toBe(big.length - 3);
  });

  it('reports a malformed remaining length (more than 4 bytes)', () => {
    const guard = new PacketSizeGuard(1 << 30);
    expect(guard.check(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x7f]))).toBe(Infinity);
  });
});

describe('TokenBucket', () => {
  it('allows the burst, then the rate', () => {
    const b = new TokenBucket(2, 4, 0);
    expect([1, 2, 3, 4, 5].map(() => b.take(0))).toEqual([true, true, true, true, false]);
    expect(b.take(499)).toBe(false); // 0.998 tokens
    expect(b.take(500)).toBe(true); // one more token after 0.5 s at 2/s
    expect(b.take(10_000)).toBe(true);
    // Refill is capped at the burst.
    expect([1, 2, 3, 4].map(() => b.take(10_000))).toEqual([true, true, true, false]);
  });
});

describe('filterCovers', () => {
  it.each([
    ['vigil/v1/alarms/#', 'vigil/v1/alarms/#', true],
    ['vigil/v1/alarms/#', 'vigil/v1/alarms/w1/3', true],
    ['vigil/v1/alarms/#', 'vigil/v1/alarms/+/3/active', true],
    ['vigil/v1/alarms/#', 'vigil/v1/#', false],
    ['vigil/v1/alarms/#', '#', false],
    ['vigil/v1/dev/a/#', 'vigil/v1/dev/+/obs', false],
    ['vigil/v1/dev/a/#', 'vigil/v1/dev/a/cmd', true],
    ['vigil/v1/alarms/+/+', 'vigil/v1/alarms/w1/3', true],
    ['vigil/v1/alarms/+/+', 'vigil/v1/alarms/w1/3/active', false],
    ['vigil/v1/alarms/+/+', 'vigil/v1/alarms/+/#', false],
  ])('%s covers %s: %s', (allowed, requested, want) => {
    expect(filterCovers(allowed, requested)).toBe(want);
  });
});
