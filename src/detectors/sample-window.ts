/**
 * The recent samples of one continuous signal of one patient (NEWS2's median window), kept in
 * typed arrays: a ward of thousands keeps a few hundred thousand of them, and an object a sample
 * would be most of the detectors' memory. Devices are kept as an index into a short list.
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

export class SampleWindow {
  private ts = new Float64Array(8);
  private v = new Float64Array(8);
  private dev = new Uint16Array(8);
  private readonly devices: string[] = [];
  /** Index of the oldest sample. */
  private head = 0;
  private n = 0;

  get length(): number {
    return this.n;
  }

  push(ts: number, v: number, deviceId: string): void {
    if (this.n === this.ts.length) this.grow();
    const i = (this.head + this.n) % this.ts.length;
    this.ts[i] = ts;
    this.v[i] = v;
    this.dev[i] = this.deviceIndex(deviceId);
    this.n++;
  }

  /** Drops the samples older than `cutoff` (epoch ms) from the front. */
  dropBefore(cutoff: number): void {
    while (this.n > 0 && this.ts[this.head]! < cutoff) {
      this.head = (this.head + 1) % this.ts.length;
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
    if (this.n === 0) return undefined;
    const i = (this.head + this.n - 1) % this.ts.length;
    return { ts: this.ts[i]!, v: this.v[i]!, deviceId: this.devices[this.dev[i]!]! };
  }

  /** The median of the values; the mean of the two middle ones for an even count; NaN when empty. */
  median(): number {
    const n = this.n;
    if (n === 0) return Number.NaN;
    if (scratch.values.length < n) scratch.values = new Float64Array(Math.max(n, scratch.values.length * 2));
    for (let k = 0; k < n; k++) scratch.values[k] = this.v[(this.head + k) % this.ts.length]!;
    const s = scratch.values.subarray(0, n).sort();
    const mid = n >> 1;
    return n % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  }

  /** The samples, oldest first. */
  toArray(): Sample[] {
    const out: Sample[] = [];
    for (let k = 0; k < this.n; k++) {
      const i = (this.head + k) % this.ts.length;
      out.push({ ts: this.ts[i]!, v: this.v[i]!, deviceId: this.devices[this.dev[i]!]! });
    }
    return out;
  }

  /** The window as data, for `from`. */
  state(): SampleWindowState {
    const dt: number[] = [];
    const v: number[] = [];
    const dev: number[] = [];
    const t0 = this.n > 0 ? this.ts[this.head]! : 0;
    let prev = t0;
    for (let k = 0; k < this.n; k++) {
      const i = (this.head + k) % this.ts.length;
      dt.push(this.ts[i]! - prev);
      prev = this.ts[i]!;
      v.push(this.v[i]!);
      dev.push(this.dev[i]!);
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
      const i = (this.head + this.n) % this.ts.length;
      this.ts[i] = s.ts;
      this.v[i] = s.v;
      this.dev[i] = d >= 0 ? d : this.devices.push(s.deviceId) - 1;
      this.n++;
    }
  }

  private grow(): void {
    const size = this.ts.length * 2;
    const ts = new Float64Array(size);
    const v = new Float64Array(size);
    const dev = new Uint16Array(size);
    for (let k = 0; k < this.n; k++) {
      const i = (this.head + k) % this.ts.length;
      ts[k] = this.ts[i]!;
      v[k] = this.v[i]!;
      dev[k] = this.dev[i]!;
    }
    this.ts = ts;
    this.v = v;
    this.dev = dev;
    this.head = 0;
  }
}
