/**
 * The process's garbage collections, by kind, as they end: how many, and the seconds the main
 * thread spent in them (V8's helper threads add their own time, which this does not see). At the
 * ward's rates collection is a small share; past them it is the first cost to grow, so the
 * figures are on /metrics for a dashboard and for `vigil bench`.
 */
import { PerformanceObserver, constants, type PerformanceEntry } from 'node:perf_hooks';
import type { Counters } from './counters.js';

const KIND: Readonly<Record<number, string>> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

/** The kind of a `gc` performance entry: minor (scavenge), major (mark-compact), incremental or weakcb. */
export function gcKind(entry: PerformanceEntry): string {
  const kind = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
  return (kind !== undefined && KIND[kind]) || 'other';
}

export class GcStats {
  readonly name = 'gc-stats';
  /** Collections ended, by kind. */
  readonly collections = new Map<string, number>();
  /** Seconds of the main thread, by kind. */
  readonly seconds = new Map<string, number>();
  private observer: PerformanceObserver | undefined;

  async start(): Promise<void> {
    if (this.observer) return;
    this.observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) this.add(gcKind(e), e.duration / 1000);
    });
    this.observer.observe({ entryTypes: ['gc'] });
  }

  async stop(): Promise<void> {
    this.observer?.disconnect();
    this.observer = undefined;
  }

  /** Counts one collection of `kind` that took `seconds`. */
  add(kind: string, seconds: number): void {
    this.collections.set(kind, (this.collections.get(kind) ?? 0) + 1);
    this.seconds.set(kind, (this.seconds.get(kind) ?? 0) + seconds);
  }

  registerMetrics(c: Counters): void {
    c.countsByLabel('vigil_gc_collections_total', 'Garbage collections of the gateway process, by kind (minor: scavenge; major: mark-compact)', 'kind', this.collections);
    c.countsByLabel('vigil_gc_seconds_total', "Seconds the gateway's main thread spent in garbage collection, by kind", 'kind', this.seconds);
  }
}
