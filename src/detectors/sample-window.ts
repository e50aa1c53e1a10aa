/**
 * The recent samples of one continuous signal of one patient (NEWS2's median window), kept in
 * one typed array: a ward of thousands keeps a few hundred thousand of them, and an object a
 * sample would be most of the detectors' memory. Devices are kept as an index into a short list.
 *
 * A sample is three floats (time, value, device index). A window holds a few dozen, so what an
 * array costs besides its bytes (its objects and an allocation of its own) weighs: 15,000 windows
 * of 30 samples (three a patient at 5,000) took about 10 MB more RSS as three arrays each (times,
 * values, devices) than as one, though one holds 6 bytes a slot more.
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

const scratch = { values: new Float64Array(64) };
/** Floats a sample takes: time, value, device index. */
const STRIDE = 3;
const TS = 0;
const V = 1;
const DEV = 2;

export class SampleWindow {
  /** Slot i's time, value and device index are `d[STRIDE * i + TS]`, `… + V]`, `… + DEV]`. */
  private d = new Float64Array(STRIDE * 8);
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
    this.n++;
  }

  /** Drops the samples older than `cutoff` (epoch ms) from the front. */
  dropBefore(cutoff: number): void {
    while (this.n > 0 && this.d[STRIDE * this.head + TS]! < cutoff) {
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

  /**
   * The median of the values; the mean of the two middle ones for an even count; NaN when empty.
   * Found by selection, not by sorting the window: NEWS2 asks for it on every value, and a device
   * sending faster than once a second fills its window with hundreds of samples.
   */
  median(): number {
    const n = this.n;
    if (n === 0) return Number.NaN;
    if (scratch.values.length < n) scratch.values = new Float64Array(Math.max(n, scratch.values.length * 2));
    const a = scratch.values;
    for (let k = 0; k < n; k++) a[k] = this.d[STRIDE * this.slot(k) + V]!;
    const mid = n >> 1;
    const upper = selectKth(a, n, mid);
    if (n % 2 === 1) return upper;
    // every value before `mid` is at most `upper` now: the largest of them is the lower middle
    let lower = a[0]!;
    for (let k = 1; k < mid; k++) if (a[k]! > lower) lower = a[k]!;
    return (lower + upper) / 2;
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
    return this.d.length / STRIDE;
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
    const d = new Float64Array(2 * this.d.length);
    // oldest first: the ring from its head to the end, then from the start up to the head
    const head = STRIDE * this.head;
    const used = STRIDE * this.n;
    const toEnd = Math.min(used, this.d.length - head);
    d.set(this.d.subarray(head, head + toEnd), 0);
    d.set(this.d.subarray(0, used - toEnd), toEnd);
    this.d = d;
    this.head = 0;
  }
}

/**
 * The k-th smallest of `a[0..n)` (k from 0), moving values so that those before index k are at
 * most it and those after at least it (Wirth's selection: a partition around the middle value
 * narrowed to the side holding k, with no worse case for the many equal values a vital sign has).
 */
function selectKth(a: Float64Array, n: number, k: number): number {
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const x = a[(lo + hi) >> 1]!;
    let i = lo;
    let j = hi;
    do {
      while (a[i]! < x) i++;
      while (x < a[j]!) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    } while (i <= j);
    if (j < k) lo = i;
    if (k < i) hi = j;
  }
  return a[k]!;
}
