// Auditory alarm signals generated with the Web Audio API, following IEC 60601-1-8
// (Tables 3 and 4): a burst of pulses per priority, repeated while the alarm sounds.
//
// - high: 10 pulses, 3 + 2, then 3 + 2 again; pulse 75–200 ms; spacing 50–125 ms; between the
//   3rd and 4th pulse 2·spacing + pulse; between the 5th and 6th 0.35–1.30 s; burst repeated
//   every 2.5–15 s;
// - medium: 3 pulses; pulse 125–250 ms; spacing 125–250 ms; repeated every 2.5–30 s;
// - low: 1 or 2 pulses (here 2), like medium's; repeated no more often than every 15 s;
// - each pulse: a fundamental of 150–1,000 Hz with at least 4 harmonics in 300–4,000 Hz within
//   15 dB of it; rise time 10–20 % of the pulse, fall time no longer than the pulse less its rise.

/** Seconds. `onsets` from the start of the burst; `interval` from the end of one burst to the next. */
export const PATTERNS = {
  // [IEC 60601-1-8 Table 3] ts 100 ms; 3rd→4th 2·100 + 150 = 350 ms; 5th→6th 600 ms; tb 5 s
  high: { pulse: 0.15, rise: 0.02, onsets: [0, 0.25, 0.5, 1.0, 1.25, 2.0, 2.25, 2.5, 3.0, 3.25], interval: 5 },
  // [IEC 60601-1-8 Table 3] ts 200 ms; tb 7 s
  medium: { pulse: 0.2, rise: 0.03, onsets: [0, 0.4, 0.8], interval: 7 },
  // [IEC 60601-1-8 Table 3] ts 200 ms; tb 25 s (more than 15 s)
  low: { pulse: 0.2, rise: 0.03, onsets: [0, 0.4], interval: 25 },
};

/** [IEC 60601-1-8 Table 4] fundamental, Hz (C5), and the relative levels of harmonics 1–5 (−3 to −9 dB). */
export const FUNDAMENTAL_HZ = 523.25;
export const HARMONICS = [1, 0.7, 0.5, 0.4, 0.35];

/** Seconds from a burst's start to the next burst's start. */
export function period(priority) {
  const p = PATTERNS[priority];
  return p.onsets[p.onsets.length - 1] + p.pulse + p.interval;
}

/** How far ahead pulses are scheduled, s: enough to ride over a busy page, short enough to stop at once. */
const LOOKAHEAD_S = 0.5;
/** A new signal starts this long after it is asked for, s (time to build its nodes). */
const START_DELAY_S = 0.05;

/**
 * Plays one priority's signal at a time, repeating its burst until told otherwise. The audio
 * context is made on first use; a browser that blocks sound until the user interacts leaves it
 * `suspended`, which `state` reports so the page can say so.
 */
export class AlarmSound {
  constructor(AudioContextClass = globalThis.AudioContext) {
    this.AudioContextClass = AudioContextClass;
    this.ctx = null;
    this.wave = null;
    this.priority = null;
    this.nextBurst = 0;
    /** Pulses scheduled and not yet over: { osc, start }. */
    this.pending = [];
    this.timer = null;
    this.onstatechange = () => {};
  }

  /** 'running' (sound can be heard), 'suspended' (blocked until the user interacts), or 'unavailable'. */
  get state() {
    if (!this.AudioContextClass) return 'unavailable';
    return this.context().state;
  }

  /** Tries to start sound (call from a user's click or key press). Resolves with the state. */
  async enable() {
    if (!this.AudioContextClass) return 'unavailable';
    try {
      await this.context().resume();
    } catch {
      /* still blocked: the state says so */
    }
    this.schedule();
    return this.state;
  }

  /** Sounds `priority`'s signal ('high', 'medium', 'low'), or nothing (null). The same priority again continues its rhythm. */
  play(priority) {
    if (priority === this.priority) return;
    this.cancel();
    this.priority = priority;
    if (!priority || !this.AudioContextClass) return;
    this.nextBurst = this.context().currentTime + START_DELAY_S;
    this.schedule();
    this.timer ??= setInterval(() => this.schedule(), 100);
  }

  context() {
    if (!this.ctx) {
      this.ctx = new this.AudioContextClass();
      this.ctx.addEventListener('statechange', () => {
        if (this.ctx.state === 'running') this.nextBurst = Math.max(this.nextBurst, this.ctx.currentTime + START_DELAY_S);
        this.onstatechange(this.ctx.state);
      });
      const real = new Float32Array(HARMONICS.length + 1);
      const imag = new Float32Array([0, ...HARMONICS]);
      this.wave = this.ctx.createPeriodicWave(real, imag);
    }
    return this.ctx;
  }

  /** Schedules the bursts that start within the lookahead (only while sound runs: a suspended clock stands still). */
  schedule() {
    const ctx = this.ctx;
    if (!this.priority || !ctx || ctx.state !== 'running') return;
    this.pending = this.pending.filter((p) => p.start + PATTERNS[this.priority].pulse > ctx.currentTime);
    while (this.nextBurst < ctx.currentTime + LOOKAHEAD_S) {
      this.burst(this.priority, Math.max(this.nextBurst, ctx.currentTime));
      this.nextBurst += period(this.priority);
    }
  }

  burst(priority, at) {
    const ctx = this.ctx;
    const p = PATTERNS[priority];
    for (const onset of p.onsets) {
      const start = at + onset;
      const osc = ctx.createOscillator();
      osc.setPeriodicWave(this.wave);
      osc.frequency.value = FUNDAMENTAL_HZ;
      const gain = ctx.createGain();
      // [IEC 60601-1-8 Table 4] rise 10–20 % of the pulse; fall within what is left of it
      gain.gain.setValueAtTime(0, start);
      gain.gain.linearRampToValueAtTime(0.5, start + p.rise);
      gain.gain.setValueAtTime(0.5, start + p.pulse - p.rise);
      gain.gain.linearRampToValueAtTime(0, start + p.pulse);
      osc.connect(gain).connect(ctx.destination);
      osc.start(start);
      osc.stop(start + p.pulse);
      this.pending.push({ osc, start });
    }
  }

  /** Stops what is scheduled: pulses not started never play, one playing ends now. */
  cancel() {
    const now = this.ctx?.currentTime ?? 0;
    for (const { osc } of this.pending) {
      try {
        osc.stop(now);
      } catch {
        /* already over */
      }
    }
    this.pending = [];
    clearInterval(this.timer);
    this.timer = null;
  }
}
