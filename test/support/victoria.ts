/**
 * VictoriaMetrics for integration tests: the benchmark's harness (src/bench/victoria.ts), on a
 * free 127.0.0.1 port and a temporary data directory unless told otherwise. Read the harness for
 * how line protocol maps to series and when writes become visible. Its server dies with the test
 * worker, whatever ends it (the harness owns it, src/bench/proc.ts).
 */
import { Victoria, type VictoriaOptions } from '../../src/bench/victoria.js';

export { freePort } from '../../src/bench/ports.js';
export type { ExportedSeries, Victoria } from '../../src/bench/victoria.js';

export function startVictoria(opts: VictoriaOptions = {}): Promise<Victoria> {
  return Victoria.start(opts);
}
