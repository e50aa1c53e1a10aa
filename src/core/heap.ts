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
 * (`GATEWAY_NODE_OPTIONS`: the systemd unit, the image and the benchmark give it); the growing
 * factor is read at each collection, so `tuneHeap` sets it at start.
 */
import { setFlagsFromString } from 'node:v8';

/** Node options `vigil start` is launched with. */
export const GATEWAY_NODE_OPTIONS = ['--max-semi-space-size=16'] as const;

/** Sets what can be set after launch. @returns the launch options missing from this process. */
export function tuneHeap(execArgv: readonly string[] = process.execArgv, nodeOptions: string = process.env.NODE_OPTIONS ?? ''): string[] {
  setFlagsFromString('--heap-growing-percent=20');
  const given = [...execArgv, ...nodeOptions.split(/\s+/)];
  return GATEWAY_NODE_OPTIONS.filter((o) => !given.some((g) => g.split('=')[0] === o.split('=')[0]));
}
