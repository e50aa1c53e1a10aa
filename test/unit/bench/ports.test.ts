import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { freePort, portFree } from '../../../src/bench/ports.js';

describe('free loopback ports', () => {
  it('never hands out the same port twice in a process, and each was free', async () => {
    const ports: number[] = [];
    for (let k = 0; k < 200; k++) ports.push(await freePort());
    expect(new Set(ports).size).toBe(ports.length);
    expect(await portFree(ports[ports.length - 1]!)).toBe(true);
  });

  it('hands out ports below those the system gives outgoing connections, which any client may take meanwhile', async () => {
    const outgoingFrom = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    expect(outgoingFrom).toBeGreaterThan(12_000);
    for (let k = 0; k < 50; k++) {
      const port = await freePort();
      expect(port).toBeGreaterThanOrEqual(10_000);
      expect(port).toBeLessThan(outgoingFrom);
    }
  });
});
