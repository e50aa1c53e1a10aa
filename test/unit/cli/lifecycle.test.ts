import { describe, expect, it } from 'vitest';
import { takeSignals } from '../../../src/cli/lifecycle.js';

/** The handler `takeSignals` put on `signal` (the newest one), called as node would call it. */
const deliver = (signal: NodeJS.Signals): void => (process.listeners(signal).at(-1) as (s: NodeJS.Signals) => void)(signal);

describe('signals a long-running command takes', () => {
  it('a signal that comes while the command starts stops it once it has started, and only once', async () => {
    const before = process.listeners('SIGINT').length;
    const signals = takeSignals();
    deliver('SIGINT');
    deliver('SIGINT'); // pressed twice while starting: still one stop, not an exit
    let stops = 0;
    expect(await signals.runUntilSignal(async () => void stops++)).toBe(0);
    expect(stops).toBe(1);
    expect(await signals.first).toBe('SIGINT');
    signals.release();
    expect(process.listeners('SIGINT').length).toBe(before);
  });

  it('waits for the first signal, and says 1 when stopping fails', async () => {
    const signals = takeSignals();
    let stopped = false;
    const code = signals.runUntilSignal(async () => {
      stopped = true;
      throw new Error('flush failed');
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(stopped).toBe(false);
    deliver('SIGTERM');
    expect(await code).toBe(1);
    expect(stopped).toBe(true);
    signals.release();
  });
});
