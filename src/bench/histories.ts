/**
 * Histories full: the station keeps, per patient, every vital's trend over its horizon (6 h), the
 * NEWS2 changes and the alarm transitions. A sustained window or a soak of minutes does not fill
 * them, so this phase fills a ward store directly, in a process of its own, and reports the
 * memory it holds at the given number of patients: once at the change rates of the busiest
 * patient of the simulated ward (from the replay phase, per 6 h), once with every log at its cap.
 * A vital's trend is fixed-size from the patient's first value of it, so a gateway under load
 * already holds those of the vitals the load sends; the logs and the other vitals' trends added
 * to its RSS give the steady state of a ward whose histories are all full.
 */
import { fileURLToPath } from 'node:url';
import type { BenchEnv } from './env.js';
import { runNode } from './proc.js';

const CHILD = fileURLToPath(new URL('./histories-child.js', import.meta.url));

/** How many NEWS2 changes and alarm transitions a patient's logs hold. */
export interface HistoryFill {
  readonly label: string;
  readonly news2: number;
  readonly alarms: number;
}

export interface HistoriesResult {
  readonly patients: number;
  /** MB the trends of every trended vital hold (each whole from the patient's first value of it). */
  readonly trendsMB: number;
  /** MB the NEWS2 and alarm logs hold at each fill (what a sustained window or soak has not filled yet). */
  readonly fills: ReadonlyArray<HistoryFill & { readonly logsMB: number }>;
}

export async function runHistories(env: BenchEnv, patients: number, fills: readonly HistoryFill[]): Promise<HistoriesResult> {
  const out: Array<HistoriesResult['fills'][number]> = [];
  let trendsMB = 0;
  for (const f of fills) {
    env.progress(`histories: ${patients} patients, ${f.label} (${f.news2} NEWS2 changes, ${f.alarms} alarm transitions each)`);
    const { stdout } = await runNode(CHILD, [String(patients), String(f.news2), String(f.alarms)], { nodeArgs: ['--expose-gc'] });
    const r = JSON.parse(stdout) as { trendsMB: number; logsMB: number };
    trendsMB = r.trendsMB;
    out.push({ ...f, logsMB: r.logsMB });
  }
  return { patients, trendsMB, fills: out };
}
