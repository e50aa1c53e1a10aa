/** The alarm-burden comparison (burden.ts) as markdown tables, as `vigil burden` prints them. */
import type { AlarmCount, Detection, EventOutcome, ScenarioBurden } from './burden.js';

/** Both tables, with a line saying how they were made. */
export function renderBurden(results: readonly ScenarioBurden[]): string {
  return `${renderCounts(results)}\n${renderEvents(results)}`;
}

/** Alarms raised per scenario: naive threshold against Vigil, Vigil by kind and priority. */
export function renderCounts(results: readonly ScenarioBurden[]): string {
  const rows = results.map((r) => [
    scenarioName(r),
    hours(r.hours),
    `${r.naive.total} (${r.naive.high} high, ${r.naive.medium} medium)`,
    String(r.vigil.total),
    String(r.vigil.physiological),
    String(r.vigil.technical),
    r.naive.total > 0 ? `${Math.round((100 * r.vigil.total) / r.naive.total)} %` : '—',
    r.vigil.byKind.map(kindCount).join(', ') || '—',
  ]);
  return table(['scenario', 'hours', 'naive threshold', 'Vigil', 'Vigil physiological', 'Vigil technical', 'Vigil / naive', 'Vigil by kind and priority'], rows);
}

/** Each true event: alarmed or not, and how long after onset. */
export function renderEvents(results: readonly ScenarioBurden[]): string {
  const rows: string[][] = [];
  for (const r of results) {
    for (const e of r.events) {
      const criterion = e.criterion === undefined ? '—' : e.criterion === null ? 'never' : `${clock(e.criterion.atS)} (${e.criterion.by})`;
      rows.push([scenarioName(r), eventName(e), clock(e.onsetS), criterion, cell(e.vigil), e.naive === 'n/a' ? 'n/a (values only)' : cell(e.naive)]);
    }
  }
  if (rows.length === 0) return '';
  return table(['scenario', 'true event', 'onset', 'alarm criterion met', 'Vigil (after onset)', 'naive threshold (after onset)'], rows);
}

/** The scenario, with its time scale when it runs compressed (`sepsis (60x)`). */
function scenarioName(r: ScenarioBurden): string {
  return r.timeScale === 1 ? r.scenario : `${r.scenario} (${r.timeScale}x)`;
}

function kindCount(c: AlarmCount): string {
  const what = c.conditions ? ` (${Object.entries(c.conditions).sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${k} ${n}`).join(', ')})` : '';
  return `${c.kind} ${c.priority} ${c.count}${what}`;
}

function eventName(e: EventOutcome): string {
  return e.metric !== undefined && e.kind === 'clinical' ? `${e.name} (${e.metric})` : e.name;
}

function cell(d: Detection | null): string {
  if (d === null) return '**missed**';
  const s = Math.round(d.delayS);
  if (s < 0) return `${-s} s before onset (${d.alarm})`;
  return `+${s} s (${d.alarm})`;
}

function clock(s: number): string {
  const t = Math.round(s);
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const sec = t % 60;
  return `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}`;
}

function hours(h: number): string {
  return Number.isInteger(h) ? String(h) : h.toFixed(2).replace(/0+$/, '');
}

function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => `| ${cells.map((c, i) => c.padEnd(w[i] ?? 0)).join(' | ')} |`;
  const rule = `|${w.map((n) => '-'.repeat(n + 2)).join('|')}|`;
  return [line(head), rule, ...rows.map(line)].join('\n') + '\n';
}
