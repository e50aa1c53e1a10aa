import { describe, expect, it } from 'vitest';
import mqttPacket from 'mqtt-packet';
import { ByteBudget, PacketFramer } from '../../../src/broker/framing.js';
import { TokenBucket } from '../../../src/broker/token-bucket.js';
import { filterCovers } from '../../../src/broker/topics.js';

function publish(payloadBytes: number): Buffer {
  return mqttPacket.generate({ cmd: 'publish', topic: 'vigil/v1/dev/a/obs', payload: Buffer.alloc(payloadBytes, 0x61), qos: 1, messageId: 7, retain: false, dup: false });
}

/** Splits the framer's output back into packets with the real MQTT parser. */
function parsePackets(chunks: Buffer[]): Array<{ cmd: string; messageId?: number }> {
  const parser = mqttPacket.parser();
  const out: Array<{ cmd: string; messageId?: number }> = [];
  parser.on('packet', (p) => out.push(p as { cmd: string; messageId?: number }));
  for (const c of chunks) {
    // Each buffer the framer hands on holds whole packets only: the parser keeps nothing back.
    parser.parse(c);
    expect((parser as unknown as { _list: { length: number } })._list.length).toBe(0);
  }
  return out;
}

function framed(framer: PacketFramer, chunk: Buffer): Buffer[] {
  const r = framer.push(chunk);
  if (!Array.isArray(r)) throw new Error(`framing problem: ${JSON.stringify(r)}`);
  return r;
}

describe('PacketFramer', () => {
  const pubrel = mqttPacket.generate({ cmd: 'pubrel', messageId: 513 });
  const stream = Buffer.concat([publish(10), publish(900), pubrel, publish(0), publish(1000), mqttPacket.generate({ cmd: 'pingreq' })]);

  it('hands on whole packets only, whatever the chunking, and reports PUBREL ids', () => {
    for (const size of [1, 2, 3, 7, 64, 1000, stream.length]) {
      const budget = new ByteBudget(1 << 20);
      const pubrels: number[] = [];
      const framer = new PacketFramer(1024, budget, (id) => pubrels.push(id));
      const out: Buffer[] = [];
      for (let i = 0; i < stream.length; i += size) out.push(...framed(framer, stream.subarray(i, i + size)));
      expect(Buffer.concat(out).equals(stream)).toBe(true);
      expect(parsePackets(out).map((p) => p.cmd)).toEqual(['publish', 'publish', 'pubrel', 'publish', 'publish', 'pingreq']);
      expect(pubrels).toEqual([513]);
      expect(budget.used).toBe(0);
      expect(framer.held).toBe(0);
    }
  });

  it('holds a packet sent a byte at a time in one buffer of at most twice its received bytes (256 at least)', () => {
    const big = publish(8000);
    const budget = new ByteBudget(1 << 20);
    const framer = new PacketFramer(16_384, budget);
    let most = 0;
    for (let i = 0; i < big.length - 1; i++) {
      expect(framed(framer, big.subarray(i, i + 1))).toEqual([]);
      expect(budget.used).toBe(framer.held);
      expect(framer.held).toBeLessThanOrEqual(Math.max(256, 2 * (i + 1)));
      most = Math.max(most, framer.held);
    }
    expect(most).toBeLessThanOrEqual(big.length);
    const [done] = framed(framer, big.subarray(big.length - 1));
    expect(done!.equals(big)).toBe(true);
    expect(budget.used).toBe(0);
  });

  it('reports the first packet over the limit as soon as its length is known', () => {
    const big = publish(5000);
    const framer = new PacketFramer(1024, new ByteBudget(1 << 20));
    const firstLen = publish(10).length;
    const stream2 = Buffer.concat([publish(10), big]);
    expect(framed(framer, stream2.subarray(0, firstLen + 1))).toHaveLength(1);
    // The fixed header of the big packet ends within its first 3 bytes.
    expect(framer.push(stream2.subarray(firstLen + 1, firstLen + 4))).toEqual({ kind: 'oversized', size: big.length - 3 });
  });

  it('reports a malformed remaining length (more than 4 bytes)', () => {
    const framer = new PacketFramer(1 << 30, new ByteBudget(1 << 20));
    expect(framer.push(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x7f]))).toEqual({ kind: 'malformed' });
  });

  it('says so when the shared budget is spent, and gives back what it held on release', () => {
    const budget = new ByteBudget(1000);
    const a = new PacketFramer(16_384, budget);
    const b = new PacketFramer(16_384, budget);
    const big = publish(4000);
    expect(framed(a, big.subarray(0, 600))).toEqual([]);
    expect(b.push(big.subarray(0, 600))).toMatchObject({ kind: 'budget' });
    a.release();
    b.release();
    expect(budget.used).toBe(0);
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
