import { describe, expect, it } from 'vitest';
import { SampleWindow } from '../../../src/detectors/sample-window.js';

describe('SampleWindow', () => {
  it('keeps samples in order through growth and dropping, with the median of what it holds', () => {
    const w = new SampleWindow();
    for (let k = 0; k < 40; k++) w.push(k * 1000, k % 7, k % 2 === 0 ? 'a' : 'b');
    w.dropBefore(30_000);
    expect(w.length).toBe(10);
    expect(w.toArray().map((s) => s.ts)).toEqual(Array.from({ length: 10 }, (_, k) => (30 + k) * 1000));
    // values 2,3,4,5,6,0,1,2,3,4 → sorted 0,1,2,2,3,3,4,4,5,6 → (3 + 3) / 2
    expect(w.median()).toBe(3);
    expect(w.last()).toEqual({ ts: 39_000, v: 4, deviceId: 'b' });
  });

  it('grows from a window that has wrapped round, and comes back from its state the same', () => {
    const w = new SampleWindow();
    for (let k = 0; k < 6; k++) w.push(k, 10 + k, 'a');
    w.dropBefore(3);
    for (let k = 6; k < 14; k++) w.push(k, 10 + k, k % 2 === 0 ? 'a' : 'b'); // wraps, then grows at its 9th
    expect(w.toArray().map((s) => [s.ts, s.v, s.deviceId])).toEqual(Array.from({ length: 11 }, (_, j) => [3 + j, 13 + j, j + 3 < 6 || (j + 3) % 2 === 0 ? 'a' : 'b']));
    expect(w.median()).toBe(18);
    expect(SampleWindow.from(JSON.parse(JSON.stringify(w.state())) as ReturnType<SampleWindow['state']>).toArray()).toEqual(w.toArray());
  });

  it('drops one device’s samples, and forgets devices no sample refers to', () => {
    const w = new SampleWindow();
    for (let k = 0; k < 6; k++) w.push(k, k, `d${k % 3}`);
    w.removeDevice('d1');
    expect(w.toArray().map((s) => `${s.deviceId}:${s.v}`)).toEqual(['d0:0', 'd2:2', 'd0:3', 'd2:5']);
    for (let k = 0; k < 20; k++) w.push(10 + k, 1, `x${k}`); // many devices in turn: still right
    expect(w.toArray().slice(-3).map((s) => s.deviceId)).toEqual(['x17', 'x18', 'x19']);
    expect(w.toArray()[0]).toEqual({ ts: 0, v: 0, deviceId: 'd0' });
    expect(SampleWindow.from(w.toArray()).toArray()).toEqual(w.toArray());
    expect(new SampleWindow().median()).toBeNaN();
  });

  it('keeps a new sample whose device makes the window number its devices afresh, when the ring has wrapped', () => {
    const w = new SampleWindow();
    for (let k = 0; k < 8; k++) w.push(k, 60 + k, `d${k}`); // eight devices, a full ring of 8
    w.dropBefore(5); // the head is at slot 5: samples 5, 6, 7 are held
    w.push(8, 90, 'd9'); // a ninth device: the devices no sample refers to are forgotten first
    expect(w.toArray()).toEqual([
      { ts: 5, v: 65, deviceId: 'd5' },
      { ts: 6, v: 66, deviceId: 'd6' },
      { ts: 7, v: 67, deviceId: 'd7' },
      { ts: 8, v: 90, deviceId: 'd9' },
    ]);
    expect(w.median()).toBe(66.5);
  });
});

describe('SampleWindow.median', () => {
  /** The median by sorting a copy: what selection must agree with. */
  function sortedMedian(values: readonly number[]): number {
    const s = [...values].sort((x, y) => x - y);
    const mid = s.length >> 1;
    return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  }

  it('is the sorted median for windows of every size, with many equal values, runs and wrapped rings', () => {
    let seed = 12345;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const shapes: Array<(k: number) => number> = [
      () => 60 + Math.floor(random() * 5), // a heart rate: few distinct values
      () => Math.round(random() * 1000) / 10,
      (k) => k, // rising
      (k) => 500 - k, // falling
      () => 97, // all equal
      (k) => (k % 2 === 0 ? 90 : 99), // two values, alternating
    ];
    let checked = 0;
    for (const shape of shapes) {
      for (const size of [1, 2, 3, 4, 5, 8, 9, 30, 31, 64, 257, 300]) {
        const w = new SampleWindow();
        // a few dropped first, so the ring has wrapped
        for (let k = 0; k < 5; k++) w.push(k, shape(k), 'd');
        w.dropBefore(5);
        const values: number[] = [];
        for (let k = 0; k < size; k++) {
          const v = shape(k);
          values.push(v);
          w.push(5 + k, v, 'd');
        }
        expect(w.median(), `${size} values`).toBe(sortedMedian(values));
        // asking again gives the same (the selection works on a copy)
        expect(w.median()).toBe(sortedMedian(values));
        expect(w.toArray().map((s) => s.v)).toEqual(values);
        checked++;
      }
    }
    expect(checked).toBe(72);
  });

  it('stays the sorted median as samples come and go: drops, growth, a device removed, devices numbered afresh', () => {
    let seed = 777;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const w = new SampleWindow();
    let held: Array<{ ts: number; v: number; d: string }> = [];
    let checked = 0;
    for (let k = 0; k < 3000; k++) {
      const v = 50 + Math.floor(random() * 40) / 2;
      const d = `dev${Math.floor(k / 97) % 11}`; // 11 devices in turn: the device list is renumbered
      w.push(k, v, d);
      held.push({ ts: k, v, d });
      // a window whose length swings between a few and a few hundred samples
      const keep = 5 + Math.floor(300 * Math.abs(Math.sin(k / 250)));
      w.dropBefore(k - keep);
      held = held.filter((s) => s.ts >= k - keep);
      if (k % 500 === 499) {
        w.removeDevice(held.at(-1)!.d);
        held = held.filter((s) => s.d !== held.at(-1)!.d);
      }
      expect(w.median()).toBe(sortedMedian(held.map((s) => s.v)));
      checked++;
    }
    expect(w.toArray().map((s) => s.v)).toEqual(held.map((s) => s.v));
    expect(checked).toBe(3000);
  });
});
