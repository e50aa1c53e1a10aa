/**
 * Instruments a nurse-station page to record what it really asks the browser to do, rather than
 * trusting a flag it sets: every oscillator started and stopped on the page's audio contexts
 * (audio-clock times, frequency, and the alarm list as it stood at that moment), when each alarm
 * first appeared in the list, each Web Notification constructed, and each uPlot chart made. The
 * analysis turns the oscillator records into the pulses that actually play and groups them into
 * bursts.
 */
import type { BrowserContext, Page } from 'playwright-core';

/** Runs in the page before its own scripts (`context.addInitScript`). */
function instrument(): void {
  interface Rec {
    starts: Array<{ id: number; when: number; now: number; freq: number; list: string[]; at: number }>;
    stops: Array<{ id: number; when: number; now: number }>;
    contexts: AudioContext[];
    appeared: Record<string, number>;
    notifications: Array<{ title: string; body?: string; tag?: string }>;
    charts: unknown[];
  }
  const rec: Rec = { starts: [], stops: [], contexts: [], appeared: {}, notifications: [], charts: [] };
  (window as unknown as { __probe: Rec }).__probe = rec;
  const Real = window.AudioContext;
  window.AudioContext = class extends Real {
    constructor(...args: ConstructorParameters<typeof AudioContext>) {
      super(...args);
      rec.contexts.push(this);
    }
  };
  const ids = new WeakMap<object, number>();
  let next = 0;
  const idOf = (node: object): number => {
    if (!ids.has(node)) ids.set(node, ++next);
    return ids.get(node)!;
  };
  // What sounds it is asked to make, with the alarms listed (unacknowledged, not held) at that moment.
  const sounding = (): string[] => [...document.querySelectorAll<HTMLElement>('#alarm-list .alarm.unacked:not(.held)')].map((e) => e.dataset.alarm!);
  const start = OscillatorNode.prototype.start;
  OscillatorNode.prototype.start = function (this: OscillatorNode, when = 0) {
    rec.starts.push({ id: idOf(this), when, now: this.context.currentTime, freq: this.frequency.value, list: sounding(), at: performance.now() });
    return start.call(this, when);
  };
  const stop = OscillatorNode.prototype.stop;
  OscillatorNode.prototype.stop = function (this: OscillatorNode, when = 0) {
    rec.stops.push({ id: idOf(this), when, now: this.context.currentTime });
    return stop.call(this, when);
  };
  new MutationObserver(() => {
    for (const e of document.querySelectorAll<HTMLElement>('#alarm-list [data-alarm]')) rec.appeared[e.dataset.alarm!] ??= performance.now();
  }).observe(document, { subtree: true, childList: true });
  if ('Notification' in window) {
    const RealN = window.Notification;
    window.Notification = class extends RealN {
      constructor(title: string, opts?: NotificationOptions) {
        super(title, opts);
        rec.notifications.push({ title, ...(opts?.body !== undefined && { body: opts.body }), ...(opts?.tag !== undefined && { tag: opts.tag }) });
      }
    } as typeof Notification;
  }
  // uPlot arrives as a global from a classic script: each chart it makes is kept.
  let real: unknown;
  Object.defineProperty(window, 'uPlot', {
    configurable: true,
    get: () => real,
    set(U: new (...a: unknown[]) => unknown) {
      const Wrapped = function (this: unknown, ...a: unknown[]) {
        const u = new U(...a);
        rec.charts.push(u);
        return u;
      } as unknown as { paths: unknown };
      Object.assign(Wrapped, U);
      real = Wrapped;
    },
  });
}

/** Records of one page (see `instrument`). */
export interface Probe {
  /** `at`: page time (performance.now) when it was scheduled. */
  starts: Array<{ id: number; when: number; now: number; freq: number; list: string[]; at: number }>;
  stops: Array<{ id: number; when: number; now: number }>;
  appeared: Record<string, number>;
  notifications: Array<{ title: string; body?: string; tag?: string }>;
}

/** A pulse that plays (or played): audio-clock seconds. */
export interface Pulse {
  readonly start: number;
  readonly end: number;
  readonly freq: number;
  /** Audio-clock time at which it was scheduled. */
  readonly scheduledAt: number;
  /** Alarms sounding in the list when it was scheduled. */
  readonly list: readonly string[];
}

export async function instrumentContext(context: BrowserContext): Promise<void> {
  await context.addInitScript(instrument);
}

export function probe(page: Page): Promise<Probe> {
  return page.evaluate(() => {
    const r = (window as unknown as { __probe: Probe & Record<string, unknown> }).__probe;
    return { starts: r.starts, stops: r.stops, appeared: r.appeared, notifications: r.notifications };
  });
}

/** Forgets what was recorded so far (the next checks see only what comes after). */
export function resetProbe(page: Page): Promise<void> {
  return page.evaluate(() => {
    const r = (window as unknown as { __probe: Probe }).__probe;
    r.starts.length = 0;
    r.stops.length = 0;
    r.notifications.length = 0;
  });
}

/** The audio context's state and clock. */
export function audioState(page: Page): Promise<Array<{ state: string; time: number }>> {
  return page.evaluate(() => (window as unknown as { __probe: { contexts: AudioContext[] } }).__probe.contexts.map((c) => ({ state: c.state, time: c.currentTime })));
}

/**
 * Reads a page without touching it. Playwright runs every evaluation (`page.evaluate`, and each
 * locator's look at the page) as if the user had just interacted, which gives the document the
 * user activation a browser asks before it lets sound start. A page that must see no gesture is
 * read through this instead: a DevTools evaluation with no user gesture behind it.
 */
export async function untouched(page: Page): Promise<<T>(expression: string) => Promise<T>> {
  const cdp = await page.context().newCDPSession(page);
  return async <T>(expression: string): Promise<T> => {
    const r = await cdp.send('Runtime.evaluate', { expression, returnByValue: true, userGesture: false });
    if (r.exceptionDetails) throw new Error(`${expression}: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
    return r.result.value as T;
  };
}

/**
 * The pulses that play: each started oscillator, ending at the earliest stop it was given (a
 * stop before its start means it never plays, and it is left out).
 */
export function pulses(p: Probe): Pulse[] {
  const out: Pulse[] = [];
  for (const s of p.starts) {
    const end = Math.min(...p.stops.filter((x) => x.id === s.id).map((x) => Math.max(x.when, x.now)));
    if (end > s.when) out.push({ start: s.when, end, freq: s.freq, scheduledAt: s.now, list: s.list });
  }
  return out.sort((a, b) => a.start - b.start);
}

/** Pulses grouped into bursts: a gap of more than `gapS` between onsets starts a new burst. */
export function bursts(ps: readonly Pulse[], gapS = 2): Pulse[][] {
  const out: Pulse[][] = [];
  for (const p of ps) {
    const last = out[out.length - 1];
    if (last && p.start - last[last.length - 1]!.start <= gapS) last.push(p);
    else out.push([p]);
  }
  return out;
}

/** A burst as onsets from its first pulse and pulse lengths, in ms (rounded), for comparing with a pattern. */
export function shape(burst: readonly Pulse[]): { onsets: number[]; lengths: number[] } {
  const t0 = burst[0]!.start;
  return { onsets: burst.map((p) => Math.round((p.start - t0) * 1000)), lengths: burst.map((p) => Math.round((p.end - p.start) * 1000)) };
}
