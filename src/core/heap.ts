/**
 * The gateway's heap settings. At thousands of devices most of what it allocates lives for a
 * message or a batch: with V8's default young generation (16 MB semi-spaces) much of it survives
 * two scavenges, is promoted, and dies in the old generation, which then grows by megabytes a
 * second and is swept by long major collections (the p99 alarm latency) between which RSS climbs.
 * Measured by `vigil bench` at 5,000 devices on 2 cores (see the README's Performance section):
 * defaults gave 693 MB RSS and a p99 of 268 ms; 32 MB semi-spaces with the old generation let
 * grow by 20 % between major collections (rather than V8's factor of up to 4×) gave 472 MB and
 * 88 ms (40 %: 509 MB and 147 ms).
 *
 * The semi-space size is fixed when the heap is made, so it is a node option at launch
 * (`GATEWAY_NODE_OPTIONS`: the systemd unit, the image and the benchmark give it); the growing
 * factor is read at each collection, so `tuneHeap` sets it at start.
 */
import { setFlagsFromString } from 'node:v8';

/** Node options `vigil start` is launched with. */
export const GATEWAY_NODE_OPTIONS = ['--max-semi-space-size=32'] as const;

/** Sets what can be set after launch. @returns the launch options missing from this process. */
export function tuneHeap(execArgv: readonly string[] = process.execArgv, nodeOptions: string = process.env.NODE_OPTIONS ?? ''): string[] {
  setFlagsFromString('--heap-growing-percent=20');
  const given = [...execArgv, ...nodeOptions.split(/\s+/)];
  return GATEWAY_NODE_OPTIONS.filter((o) => !given.some((g) => g.split('=')[0] === o.split('=')[0]));
}
