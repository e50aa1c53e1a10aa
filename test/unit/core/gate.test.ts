import { describe, expect, it } from 'vitest';
import { BusyError, ConcurrencyGate } from '../../../src/core/gate.js';

/** A task that finishes when the test says so. */
function deferred(): { promise: Promise<void>; finish: () => void } {
  let finish!: () => void;
  const promise = new Promise<void>((r) => (finish = r));
  return { promise, finish };
}

describe('ConcurrencyGate', () => {
  it('runs at most maxConcurrent at once, queues maxQueued, refuses the rest at once', async () => {
    const gate = new ConcurrencyGate(2, 3);
    const tasks = Array.from({ length: 7 }, () => deferred());
    let running = 0;
    let most = 0;
    const results = tasks.map((t) =>
      gate.run(async () => {
        running++;
        most = Math.max(most, running);
        await t.promise;
        running--;
        return 'done';
      }).catch((e: unknown) => e),
    );
    expect(gate.running).toBe(2);
    expect(gate.queued).toBe(3);
    expect(await results[5]).toBeInstanceOf(BusyError);
    expect(await results[6]).toBeInstanceOf(BusyError);
    for (const t of tasks) t.finish();
    expect(await Promise.all(results.slice(0, 5))).toEqual(['done', 'done', 'done', 'done', 'done']);
    expect(most).toBe(2);
    expect(gate.peak).toBe(2);
    expect(gate.running).toBe(0);
  });

  it('frees the slot when a task fails', async () => {
    const gate = new ConcurrencyGate(1, 1);
    await expect(gate.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await gate.run(async () => 42)).toBe(42);
  });
});
