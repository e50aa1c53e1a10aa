/**
 * How the event loop is doing, for `/healthz`: the share of time it was busy and how late timers
 * fired, since the previous reading. One thread runs the broker, the detectors and the writer:
 * a loop busy near 100 % or late by hundreds of ms is a gateway past what it can take.
 */
import { monitorEventLoopDelay, performance, type EventLoopUtilization, type IntervalHistogram } from 'node:perf_hooks';

export interface LoopStats {
  /** Share of wall time the loop was busy since the last reading, 0–1. */
  readonly utilization: number;
  /** ms by which timers were late since the last reading: median, 99th percentile, worst. */
  readonly delayP50Ms: number;
  readonly delayP99Ms: number;
  readonly delayMaxMs: number;
}

export class LoopMonitor {
  private readonly delay: IntervalHistogram;
  private last: EventLoopUtilization;

  constructor() {
    this.delay = monitorEventLoopDelay({ resolution: 10 });
    this.delay.enable();
    this.last = performance.eventLoopUtilization();
  }

  /** The figures since the previous call (or since start). */
  stats(): LoopStats {
    const now = performance.eventLoopUtilization();
    const u = performance.eventLoopUtilization(now, this.last);
    this.last = now;
    const ms = (ns: number): number => Math.round(ns / 1e5) / 10;
    const s = { utilization: Math.round(u.utilization * 1000) / 1000, delayP50Ms: ms(this.delay.percentile(50)), delayP99Ms: ms(this.delay.percentile(99)), delayMaxMs: ms(this.delay.max) };
    this.delay.reset();
    return s;
  }
}

/** The gateway process's own sections of /healthz: its memory and its event loop. */
export class ProcessHealth {
  /** How busy and how late the event loop has been. */
  private readonly loop = new LoopMonitor();

  health(): { memory: Record<'rss' | 'heapTotal' | 'heapUsed' | 'external' | 'arrayBuffers', number>; eventLoop: LoopStats } {
    const mem = process.memoryUsage();
    return {
      // bytes: resident, the JavaScript heap (allocated and in use), and buffers outside it
      memory: { rss: mem.rss, heapTotal: mem.heapTotal, heapUsed: mem.heapUsed, external: mem.external, arrayBuffers: mem.arrayBuffers },
      eventLoop: this.loop.stats(),
    };
  }
}
