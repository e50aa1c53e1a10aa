import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/detectors/clock.js';

/** A clock whose deadlines run the function registered under their key. */
function clockWith(): { c: VirtualClock; set(key: string, at: number, fn: (at: number) => void): void } {
  const fns = new Map<string, (at: number) => void>();
  const c = new VirtualClock((key, at) => fns.get(key)?.(at));
  return {
    c,
    set(key, at, fn) {
      fns.set(key, fn);
      c.set(key, at);
    },
  };
}

describe('VirtualClock', () => {
  it('fires deadlines in time order, at their own time, never ahead of the clock', () => {
    const { c, set } = clockWith();
    const fired: [string, number, number][] = [];
    set('b', 20, (at) => fired.push(['b', at, c.now]));
    set('a', 10, (at) => fired.push(['a', at, c.now]));
    set('c', 30, (at) => fired.push(['c', at, c.now]));
    c.advanceTo(25);
    expect(fired).toEqual([
      ['a', 10, 10],
      ['b', 20, 20],
    ]);
    expect(c.now).toBe(25);
  });

  it('moves and cancels deadlines', () => {
    const { c, set } = clockWith();
    const fired: number[] = [];
    set('k', 10, (at) => fired.push(at));
    set('k', 50, (at) => fired.push(at)); // later: re-arms itself
    c.advanceTo(40);
    expect(fired).toEqual([]);
    set('k', 45, (at) => fired.push(at)); // earlier again
    c.advanceTo(100);
    expect(fired).toEqual([45]);
    set('x', 200, () => fired.push(-1));
    c.cancel('x');
    c.advanceTo(300);
    expect(fired).toEqual([45]);
  });

  it('gives the same firing order whether time moves in one step or many', () => {
    const order = (steps: number[]): string[] => {
      const { c, set } = clockWith();
      const out: string[] = [];
      set('a', 10, () => {
        out.push('a');
        set('d', 30, () => out.push('d'));
      });
      set('b', 30, () => out.push('b'));
      set('c', 10, () => out.push('c'));
      set('e', 5, () => out.push('e'));
      set('e', 30, () => out.push('e'));
      for (const s of steps) c.advanceTo(s);
      return out;
    };
    // ties at one time fire in the order they were (re)armed: b, then e (re-armed at 5), then d
    const once = order([100]);
    expect(once).toEqual(['a', 'c', 'b', 'e', 'd']);
    expect(order([1, 5, 9, 10, 11, 29, 30, 100])).toEqual(once);
  });

  it('does not go back in time', () => {
    const { c, set } = clockWith();
    c.advanceTo(100);
    c.advanceTo(50);
    expect(c.now).toBe(100);
  });
});
