import { describe, expect, it } from 'vitest';
import { freePort, portFree } from '../../../src/bench/ports.js';

describe('free loopback ports', () => {
  it('never hands out the same port twice in a process, and each was free', async () => {
    const ports: number[] = [];
    for (let k = 0; k < 200; k++) ports.push(await freePort());
    expect(new Set(ports).size).toBe(ports.length);
    expect(await portFree(ports[ports.length - 1]!)).toBe(true);
  });
});
