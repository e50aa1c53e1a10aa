/**
 * VictoriaMetrics for integration tests: the benchmark's harness (src/bench/victoria.ts), on a
 * free 127.0.0.1 port and a temporary data directory unless told otherwise. Read the harness for
 * how line protocol maps to series and when writes become visible.
 */
import { Victoria, type VictoriaOptions } from '../../src/bench/victoria.js';
import { trackPid } from './children.js';

export { freePort } from '../../src/bench/ports.js';
export type { ExportedSeries, Victoria } from '../../src/bench/victoria.js';

export async function startVictoria(opts: VictoriaOptions = {}): Promise<Victoria> {
  const vm = await Victoria.start(opts);
  trackPid(() => vm.pid);
  return vm;
}
