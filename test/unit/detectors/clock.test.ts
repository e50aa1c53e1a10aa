import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/detectors/clock.js';

describe('VirtualClock', () => {
  it('fires deadlines in time order, at their own time, never ahead of the clock', () => {
    const c = new VirtualClock();
    const fired: [string, number, number][] = [];
    c.set('b', 20, (at) => fired.push(['b', at, c.now]));
    c.set('a', 10, (at) => fired.push(['a', at, c.now]));
    c.set('c', 30, (at) => fired.push(['c', at, c.now]));
    c.advanceTo(25);
    expect(fired).toEqual([
      ['a', 10, 10],
      ['b', 20, 20],
    ]);
    expect(c.now).toBe(25);
  });

  it('moves and cancels deadlines', () => {
    const c = new VirtualClock();
    const fired: number[] = [];
    c.set('k', 10, (at) => fired.push(at));
    c.set('k', 50, (at) => fired.push(at)); // later: re-arms itself
    c.advanceTo(40);
    expect(fired).toEqual([]);
    c.set('k', 45, (at) => fired.push(at)); // earlier again
    c.advanceTo(100);
    expect(fired).toEqual([45]);
    c.set('x', 200, () => fired.push(-1));
    c.cancel('x');
    c.advanceTo(300);
    expect(fired).toEqual([45]);
  });

  it('gives the same firing order whether time moves in one step or many', () => {
    const order = (steps: number[]): string[] => {
      const c = new VirtualClock();
      const out: string[] = [];
      c.set('a', 10, () => {
        out.push('a');
        c.set('d', 30, () => out.push('d'));
      });
      c.set('b', 30, () => out.push('b'));
      c.set('c', 10, () => out.push('c'));
      c.set('e', 5, () => out.push('e'));
      c.set('e', 30, () => out.push('e'));
      for (const s of steps) c.advanceTo(s);
      return out;
    };
    // ties at one time fire in the order they were (re)armed: b, then e (re-armed at 5), then d
    const once = order([100]);
    expect(once).toEqual(['a', 'c', 'b', 'e', 'd']);
    expect(order([1, 5, 9, 10, 11, 29, 30, 100])).toEqual(once);
  });

  it('does not go back in time', () => {
    const c = new VirtualClock();
    c.advanceTo(100);
    c.advanceTo(50);
    expect(c.now).toBe(100);
  });
});
