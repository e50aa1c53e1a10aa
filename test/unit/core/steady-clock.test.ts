import { describe, expect, it } from 'vitest';
import { FAR_FOR_MS, FAR_MS, IN_STEP_MS, SLEW, SteadyClock } from '../../../src/core/steady-clock.js';

/** A wall clock and a monotonic clock the test moves: `pass(ms)` moves both, `step(ms)` the wall clock alone. */
function clocks(start = 1_800_000_000_000) {
  let wall = start;
  let mono = 0;
  const events: string[] = [];
  const clock = new SteadyClock({ wall: () => wall, mono: () => mono, onStep: (ms, taken) => events.push(`${taken ? 'taken' : 'step'} ${ms}`), onInStep: () => events.push('in step') });
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

/** Moves real time by `s` seconds, a second at a time, checking the time line only ever moves on. */
function runFor(c: ReturnType<typeof clocks>, s: number): void {
  let last = c.clock.now();
  for (let k = 0; k < s; k++) {
    c.pass(1000);
    const t = c.clock.now();
    expect(t).toBeGreaterThan(last);
    last = t;
  }
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

  it('runs on, 10 % slower, when the wall clock steps back, until the wall clock meets it', () => {
    const c = clocks();
    const t0 = c.clock.now();
    c.step(-120_000);
    c.pass(10_000);
    // ten seconds of real time moved it nine: the delays of the ward keep running
    expect(c.clock.now()).toBe(t0 + 10_000 * (1 - SLEW));
    expect(c.events).toEqual(['step -120000']);
    // the gap closes at SLEW of real time: 120 s in 1,200 s
    runFor(c, 2000);
    expect(c.clock.now()).toBe(c.wall());
    expect(c.events).toEqual(['step -120000', 'in step']);
  });

  it('runs 10 % faster when the wall clock steps forward, never leaping, until it meets it', () => {
    const c = clocks();
    const t0 = c.clock.now();
    c.step(300_000);
    c.pass(10_000);
    expect(c.clock.now()).toBe(t0 + 10_000 * (1 + SLEW));
    expect(c.events).toEqual(['step 300000']);
    runFor(c, 3100);
    expect(c.clock.now()).toBe(c.wall());
    expect(c.events).toEqual(['step 300000', 'in step']);
  });

  it('tells each way the wall clock steps, also when it steps the other way before the two have met', () => {
    const c = clocks();
    c.step(-120_000);
    c.pass(1000);
    c.clock.now();
    c.step(300_000);
    c.pass(1000);
    c.clock.now();
    expect(c.events.map((e) => e.split(' ')[0] + (e.includes('-') ? ' back' : ' forward'))).toEqual(['step back', 'step forward']);
  });

  it('takes a wall clock far ahead at once once it has stayed so; a glitch of a second or two is not taken', () => {
    const c = clocks();
    const t0 = c.clock.now();
    // a glitch: an hour ahead for two seconds
    c.step(3_600_000);
    c.pass(2000);
    c.clock.now();
    c.step(-3_600_000);
    c.pass(1000);
    expect(c.clock.now() - c.wall()).toBeLessThanOrEqual(2000 * SLEW);
    expect(c.clock.now()).toBeGreaterThan(t0);
    // a restart of the box's clock a day ahead, for good
    c.step(86_400_000);
    for (let k = 0; k <= FAR_FOR_MS / 1000; k++) {
      c.pass(1000);
      c.clock.now();
    }
    expect(c.clock.now()).toBe(c.wall());
    expect(c.events.at(-1)).toMatch(/^taken /);
    expect(FAR_MS).toBeLessThan(86_400_000);
  });

  it('meets a wall clock a little off it (up to IN_STEP_MS) quietly, without standing still', () => {
    const c = clocks();
    const t0 = c.clock.now();
    c.step(-(IN_STEP_MS - 200));
    expect(c.clock.now()).toBe(t0);
    c.pass(500);
    expect(c.clock.now()).toBe(t0 + 500 * (1 - SLEW));
    runFor(c, 50);
    expect(c.clock.now()).toBe(c.wall());
    c.step(IN_STEP_MS - 200);
    expect(c.clock.now()).toBe(c.wall());
    expect(c.events).toEqual([]);
  });

  it('goes on from where the time line had got to before a restart, whatever the wall clock says', () => {
    const c = clocks();
    const before = c.wall() + 120_000; // the wall clock came back 120 s older than the state it restored
    c.clock.notBefore(before);
    c.pass(15_000);
    expect(c.clock.now()).toBe(before + 15_000 * (1 - SLEW));
    expect(c.events).toEqual(['step -120000']);
    expect(c.clock.offsetFromWall()).toBe(before + 15_000 * (1 - SLEW) - c.wall());
    c.clock.notBefore(Number.NEGATIVE_INFINITY); // a state that never saw an input moves nothing
    expect(c.clock.now()).toBe(before + 15_000 * (1 - SLEW));
  });
});
