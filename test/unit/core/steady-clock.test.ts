import { describe, expect, it } from 'vitest';
import { IN_STEP_MS, SLEW, SteadyClock } from '../../../src/core/steady-clock.js';

/** A wall clock and a monotonic clock the test moves: `pass(ms)` moves both, `step(ms)` the wall clock alone. */
function clocks(start = 1_800_000_000_000) {
  let wall = start;
  let mono = 0;
  const events: string[] = [];
  const clock = new SteadyClock({ wall: () => wall, mono: () => mono, onStepBack: (ms) => events.push(`back ${ms}`), onInStep: () => events.push('in step') });
  return {
    clock,
    events,
    pass: (ms: number) => {
      wall += ms;
      mono += ms;
    },
    step: (ms: number) => {
      wall += ms;
    },
    wall: () => wall,
  };
}

describe('SteadyClock', () => {
  it('is the wall clock while the wall clock runs on', () => {
    const c = clocks();
    const t0 = c.clock.now();
    expect(t0).toBe(c.wall());
    c.pass(1500);
    expect(c.clock.now()).toBe(t0 + 1500);
    expect(c.events).toEqual([]);
  });

  it('runs on at real time, a little slower, when the wall clock steps back, until the wall clock meets it', () => {
    const c = clocks();
    const t0 = c.clock.now();
    c.step(-120_000);
    c.pass(10_000);
    // ten seconds of real time moved it nine: the delays of the ward keep running
    expect(c.clock.now()).toBe(t0 + 10_000 * (1 - SLEW));
    expect(c.events).toEqual(['back 120000']);
    let last = c.clock.now();
    for (let s = 0; s < 2000; s++) {
      c.pass(1000);
      const t = c.clock.now();
      expect(t).toBeGreaterThan(last);
      last = t;
    }
    // the gap closes at SLEW of real time: 120 s in 1,200 s
    expect(c.clock.now()).toBe(c.wall());
    expect(c.events).toEqual(['back 120000', 'in step']);
  });

  it('takes a step forward at once', () => {
    const c = clocks();
    const t0 = c.clock.now();
    c.step(3_600_000);
    expect(c.clock.now()).toBe(t0 + 3_600_000);
  });

  it('meets a wall clock a little behind it (up to IN_STEP_MS) quietly, without standing still', () => {
    const c = clocks();
    const t0 = c.clock.now();
    c.step(-(IN_STEP_MS - 200));
    expect(c.clock.now()).toBe(t0);
    c.pass(500);
    expect(c.clock.now()).toBe(t0 + 500 * (1 - SLEW));
    for (let s = 0; s < 100; s++) c.pass(500);
    expect(c.clock.now()).toBe(c.wall());
    expect(c.events).toEqual([]);
  });

  it('goes on from where the time line had got to before a restart, whatever the wall clock says', () => {
    const c = clocks();
    const before = c.wall() + 120_000; // the wall clock came back 120 s older than the state it restored
    c.clock.notBefore(before);
    c.pass(15_000);
    expect(c.clock.now()).toBe(before + 15_000 * (1 - SLEW));
    expect(c.events).toEqual(['back 120000']);
    c.clock.notBefore(Number.NEGATIVE_INFINITY); // a state that never saw an input moves nothing
    expect(c.clock.now()).toBe(before + 15_000 * (1 - SLEW));
  });
});
