/**
 * The gateway's heap settings. At thousands of devices most of what it allocates lives for a
 * message or a batch, and V8 by default lets the old generation grow by a factor of up to 4×
 * between major collections: RSS climbed and the long collections set the p99 alarm latency.
 * Measured by `vigil bench` at 5,000 devices on 2 cores (see the README's Performance section):
 * - V8's defaults gave 693 MB RSS and a p99 of 268 ms, when every trend point and history entry
 *   was an object; the old generation let grow by 20 % between major collections, with 32 MB
 *   semi-spaces so that per-message garbage died young, gave 472 MB and 88 ms (40 %: 509 MB
 *   and 147 ms).
 * - Once the trends, histories and state save no longer made objects, 32 MB semi-spaces only
 *   held more: in three back-to-back runs (60-s windows, a state save in each), 32 MB gave
 *   443 MB and a p99 of 164 ms, 16 MB 394 MB and 143 ms, 8 MB 381 MB and 176 ms. So 16 MB, which
 *   is V8's default on a 64-bit machine with memory enough, but smaller on a small one: it is
 *   given rather than left to the machine.
 *
 * The semi-space size is fixed when the heap is made, so it is a node option at launch
 * (`GATEWAY_NODE_OPTIONS`: the systemd unit, the image and the benchmark give it). The growing
 * factor is read at each major collection, so it is set while the gateway runs
 * ({@link HeapGovernor}). 20 % keeps a large ward in its memory target, but a ward that holds
 * far less than that gains nothing from it: at the ceiling (thousands of messages in flight,
 * each held across its fsync, so promoted) the old generation filled by 20 % three times a
 * second, and the full collections took CPU the messages needed. With the growth set from what
 * the process holds (up to 100 %, down to 20 % near {@link HEAP_BUDGET_BYTES}), ceiling runs
 * gave 24,500–25,400 msg/s where 20 % gave 21,000–21,700 (3.3 → 1.5 full collections a second),
 * and the 5,000-device loads about the same RSS as before (full runs: 357 → 365 MB, 493 → 498 MB
 * with every history full). A 1,000-device ward holds more: 168 → 209 MB.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';

/** Node options `vigil start` is launched with. */
export const GATEWAY_NODE_OPTIONS = ['--max-semi-space-size=16'] as const;

/** Sets what can be set after launch. @returns the launch options missing from this process. */
export function tuneHeap(execArgv: readonly string[] = process.execArgv, nodeOptions: string = process.env.NODE_OPTIONS ?? ''): string[] {
  setFlagsFromString(`--heap-growing-percent=${MIN_GROWING_PERCENT}`);
  const given = [...execArgv, ...nodeOptions.split(/\s+/)];
  return GATEWAY_NODE_OPTIONS.filter((o) => !given.some((g) => g.split('=')[0] === o.split('=')[0]));
}

/** The old generation's growth between full collections, at most and at least (V8's own is up to 300 %). */
export const MAX_GROWING_PERCENT = 100;
export const MIN_GROWING_PERCENT = 20;
/**
 * What the heap and the memory its objects own may take before the growth falls to the minimum.
 * Besides it, the gateway's RSS holds its code, the young generation (3 × 16 MB semi-spaces) and
 * the allocator's own, about 150 MB: so a ward that holds less than this stays within the
 * 512 MB a 5,000-device ward is held to, and one that holds more (5,000 patients' full
 * histories: some 360 MB) is collected as before.
 */
export const HEAP_BUDGET_BYTES = 320 * 1024 * 1024;

/**
 * The growth to allow when the process holds `heldBytes` (heap in use and memory its objects own
 * outside it, {@link heldBytes}): what takes that to `budgetBytes`, within [MIN, MAX], in steps
 * of 10 %. It is read between collections, so it is at least what the next full collection
 * leaves; the heap limit that collection sets (what it leaves × (1 + growth)) is then at most
 * the budget, or what it leaves + 20 % where that is more (as before).
 */
export function growingPercent(heldBytes: number, budgetBytes: number = HEAP_BUDGET_BYTES): number {
  const room = heldBytes > 0 ? (budgetBytes / heldBytes - 1) * 100 : MAX_GROWING_PERCENT;
  const step = Math.floor(room / 10) * 10;
  return Math.min(MAX_GROWING_PERCENT, Math.max(MIN_GROWING_PERCENT, step));
}

/**
 * What the process holds that grows with the ward: the heap in use and the memory outside it
 * that its objects own (the typed arrays of trends and histories: 200 MB of 5,000 patients'
 * full histories are there, not in the heap).
 */
export function heldBytes(): number {
  const h = getHeapStatistics() as ReturnType<typeof getHeapStatistics> & { external_memory?: number };
  return h.used_heap_size + (h.external_memory ?? 0);
}

/**
 * Sets the old generation's growth after each collection from what the process holds then (scavenges
 * come many times between two full collections under load, so the value is fresh when a full
 * one sets the next limit). Only for the gateway's own process (`vigil start`): it changes a
 * V8 flag for the whole process.
 */
export class HeapGovernor {
  /** The growth set last, %. */
  percent: number = MIN_GROWING_PERCENT;
  private observer: PerformanceObserver | undefined;

  private readonly budgetBytes: number;
  private readonly held: () => number;
  private readonly set: (percent: number) => void;
  /** Told each change, with what the process held. */
  private readonly changed: ((percent: number, heldBytes: number) => void) | undefined;

  constructor(o: { budgetBytes?: number; held?: () => number; set?: (percent: number) => void; changed?: (percent: number, heldBytes: number) => void } = {}) {
    this.budgetBytes = o.budgetBytes ?? HEAP_BUDGET_BYTES;
    this.held = o.held ?? heldBytes;
    this.set = o.set ?? ((p) => setFlagsFromString(`--heap-growing-percent=${p}`));
    this.changed = o.changed;
  }

  start(): void {
    if (this.observer) return;
    this.update();
    this.observer = new PerformanceObserver(() => this.update());
    this.observer.observe({ entryTypes: ['gc'] });
  }

  stop(): void {
    this.observer?.disconnect();
    this.observer = undefined;
  }

  /** Reads what the process holds and sets the growth it allows, when that changed. */
  update(): void {
    const held = this.held();
    const p = growingPercent(held, this.budgetBytes);
    if (p === this.percent) return;
    this.percent = p;
    this.set(p);
    this.changed?.(p, held);
  }
}
