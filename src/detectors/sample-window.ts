/**
 * The recent samples of one continuous signal of one patient (NEWS2's median window), kept in
 * one typed array: a ward of thousands keeps a few hundred thousand of them, and an object a
 * sample would be most of the detectors' memory. Devices are kept as an index into a short list.
 *
 * A sample is three floats (time, value, device index). A window holds a few dozen, so what an
 * array costs besides its bytes (its objects and an allocation of its own) weighs: 15,000 windows
 * of 30 samples (three a patient at 5,000) took about 10 MB more RSS as three arrays each (times,
 * values, devices) than as one, though one holds 6 bytes a slot more.
 *
 * The same array also keeps the values in order, after the ring: NEWS2 asks for the median on
 * every value, so a value is put in its place when it comes and taken out when it is dropped
 * (a search and a shift of the values after it), and the median is read off the middle. A
 * device sending faster than once a second fills its window with hundreds of samples: at 300,
 * a value with its median cost about 1 µs by selection over a copy, and a tenth of that so. It
 * costs 8 bytes a slot: a 30-s window at 1 Hz has 32 slots, so 3.8 MB at 5,000 patients with
 * three continuous signals each.
 */

/** One sample, as snapshots and callers see it. */
export interface Sample {
  /** epoch ms */
  ts: number;
  v: number;
  deviceId: string;
}

/**
 * A window as saved: the first time, then each sample's time after the one before (ms), the
 * values, and each sample's device as an index into `devices`; a third of the JSON of a list of
 * samples. (Older saves hold the list; `from` reads both.)
 */
export interface SampleWindowState {
  readonly t0: number;
  readonly dt: readonly number[];
  readonly v: readonly number[];
  readonly dev: readonly number[];
  readonly devices: readonly string[];
}

/** Floats a sample takes in the ring: time, value, device index. */
const STRIDE = 3;
/** Floats a slot takes in all: its sample, and one place in the values in order. */
const SLOT = STRIDE + 1;
const TS = 0;
const V = 1;
const DEV = 2;

export class SampleWindow {
  /**
   * Slot i's time, value and device index are `d[STRIDE * i + TS]`, `… + V]`, `… + DEV]`; after
   * the ring (from `STRIDE * capacity`), the `n` values held, smallest first.
   */
  private d = new Float64Array(SLOT * 8);
  private readonly devices: string[] = [];
  /** Index of the oldest sample. */
  private head = 0;
  private n = 0;

  get length(): number {
    return this.n;
  }

  push(ts: number, v: number, deviceId: string): void {
    // the device first: numbering devices afresh rewrites the ring from slot 0
    const dev = this.deviceIndex(deviceId);
    if (this.n === this.capacity) this.grow();
    this.put(this.slot(this.n), ts, v, dev);
    this.insertValue(v);
    this.n++;
  }

  /** Drops the samples older than `cutoff` (epoch ms) from the front. */
  dropBefore(cutoff: number): void {
    while (this.n > 0 && this.d[STRIDE * this.head + TS]! < cutoff) {
      this.removeValue(this.d[STRIDE * this.head + V]!);
      this.head = (this.head + 1) % this.capacity;
      this.n--;
    }
  }

  /** Drops every sample of a device. */
  removeDevice(deviceId: string): void {
    const d = this.devices.indexOf(deviceId);
    if (d < 0) return;
    const kept = this.toArray().filter((s) => s.deviceId !== deviceId);
    this.clear();
    for (const s of kept) this.push(s.ts, s.v, s.deviceId);
  }

  /** The newest sample, if any. */
  last(): Sample | undefined {
    return this.n === 0 ? undefined : this.sample(this.n - 1);
  }

  /** The median of the values; the mean of the two middle ones for an even count; NaN when empty. */
  median(): number {
    const n = this.n;
    if (n === 0) return Number.NaN;
    const sorted = STRIDE * this.capacity;
    const mid = n >> 1;
    return n % 2 === 1 ? this.d[sorted + mid]! : (this.d[sorted + mid - 1]! + this.d[sorted + mid]!) / 2;
  }

  /** The samples, oldest first. */
  toArray(): Sample[] {
    const out: Sample[] = [];
    for (let k = 0; k < this.n; k++) out.push(this.sample(k));
    return out;
  }

  /** The window as data, for `from`. */
  state(): SampleWindowState {
    const dt: number[] = [];
    const v: number[] = [];
    const dev: number[] = [];
    const t0 = this.n > 0 ? this.d[STRIDE * this.head + TS]! : 0;
    let prev = t0;
    for (let k = 0; k < this.n; k++) {
      const at = STRIDE * this.slot(k);
      dt.push(this.d[at + TS]! - prev);
      prev = this.d[at + TS]!;
      v.push(this.d[at + V]!);
      dev.push(this.d[at + DEV]!);
    }
    return { t0, dt, v, dev, devices: [...this.devices] };
  }

  static from(saved: readonly Sample[] | SampleWindowState): SampleWindow {
    const w = new SampleWindow();
    if (Array.isArray(saved)) {
      for (const s of saved as readonly Sample[]) w.push(s.ts, s.v, s.deviceId);
      return w;
    }
    const { t0, dt, v, dev, devices } = saved as SampleWindowState;
    let ts = t0;
    for (let k = 0; k < dt.length; k++) {
      ts += dt[k]!;
      w.push(ts, v[k]!, devices[dev[k]!] ?? 'unknown');
    }
    return w;
  }

  private get capacity(): number {
    return this.d.length / SLOT;
  }

  /** The slot of the k-th oldest sample. */
  private slot(k: number): number {
    return (this.head + k) % this.capacity;
  }

  /** The k-th oldest sample. */
  private sample(k: number): Sample {
    const at = STRIDE * this.slot(k);
    return { ts: this.d[at + TS]!, v: this.d[at + V]!, deviceId: this.devices[this.d[at + DEV]!]! };
  }

  private put(i: number, ts: number, v: number, dev: number): void {
    const at = STRIDE * i;
    this.d[at + TS] = ts;
    this.d[at + V] = v;
    this.d[at + DEV] = dev;
  }

  /** Puts `v` among the values in order (after any equal to it), the `n` held before it. */
  private insertValue(v: number): void {
    const sorted = STRIDE * this.capacity;
    const at = sorted + this.search(v, true);
    this.d.copyWithin(at + 1, at, sorted + this.n);
    this.d[at] = v;
  }

  /** Takes one value equal to `v` out of the values in order. */
  private removeValue(v: number): void {
    const d = this.d;
    const sorted = STRIDE * this.capacity;
    let i = this.search(v, false);
    // A value that does not compare (NaN) is not where the search looks: found by going through.
    if (!(d[sorted + i] === v)) for (i = 0; i < this.n && !Object.is(d[sorted + i], v); i++);
    if (i < this.n) d.copyWithin(sorted + i, sorted + i + 1, sorted + this.n);
  }

  /** Where `v` goes among the values in order: after those equal to it (`after`), or before them. */
  private search(v: number, after: boolean): number {
    const d = this.d;
    const sorted = STRIDE * this.capacity;
    let lo = 0;
    let hi = this.n;
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      const x = d[sorted + m]!;
      if (x < v || (after && x === v)) lo = m + 1;
      else hi = m;
    }
    return lo;
  }

  private clear(): void {
    this.head = 0;
    this.n = 0;
    this.devices.length = 0;
  }

  private deviceIndex(deviceId: string): number {
    const d = this.devices.indexOf(deviceId);
    if (d >= 0) return d;
    // devices no sample refers to any more are forgotten first (a patient's devices change rarely)
    if (this.devices.length >= 8) this.compactDevices();
    this.devices.push(deviceId);
    return this.devices.length - 1;
  }

  /** Rewrites the ring with its devices numbered afresh; the values in order stay as they are. */
  private compactDevices(): void {
    const kept = this.toArray();
    this.clear();
    for (const s of kept) {
      const d = this.devices.indexOf(s.deviceId);
      this.put(this.slot(this.n), s.ts, s.v, d >= 0 ? d : this.devices.push(s.deviceId) - 1);
      this.n++;
    }
  }

  private grow(): void {
    const capacity = this.capacity;
    const d = new Float64Array(2 * this.d.length);
    // oldest first: the ring from its head to the end, then from the start up to the head
    const head = STRIDE * this.head;
    const used = STRIDE * this.n;
    const toEnd = Math.min(used, STRIDE * capacity - head);
    d.set(this.d.subarray(head, head + toEnd), 0);
    d.set(this.d.subarray(0, used - toEnd), toEnd);
    const sorted = STRIDE * capacity;
    d.set(this.d.subarray(sorted, sorted + this.n), 2 * sorted);
    this.d = d;
    this.head = 0;
  }
}
