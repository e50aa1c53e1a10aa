/**
 * Summarises a V8 CPU profile (`node --cpu-prof`): self time by function and by package or
 * source area, so the benchmark can say where the gateway's time goes.
 * Usage: node dist/src/bench/profile-summary.js FILE.cpuprofile [top]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface ProfileShare {
  readonly name: string;
  /** % of sampled time */
  readonly pct: number;
}

/** Where a script lives, coarsely: a package under node_modules, a Vigil folder, or node itself. */
export function area(url: string): string {
  if (url === '') return '(native / garbage collection / idle)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  const own = /dist\/((?:src|devices)\/[^/]+)/.exec(url);
  if (own) return own[1]!;
  if (url.startsWith('node:')) return 'node core';
  return url;
}

/** Self time per function and per area, largest first. */
export function summarise(p: CpuProfile, top = 15): { functions: ProfileShare[]; areas: ProfileShare[] } {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let total = 0;
  p.samples.forEach((id, i) => {
    const dt = p.timeDeltas[i] ?? 0;
    self.set(id, (self.get(id) ?? 0) + dt);
    total += dt;
  });
  const fn = new Map<string, number>();
  const ar = new Map<string, number>();
  for (const [id, t] of self) {
    const f = byId.get(id)?.callFrame;
    if (!f) continue;
    const short = f.url.replace(/^.*node_modules\//, '').replace(/^.*dist\//, '');
    const key = `${f.functionName || '(anonymous)'} ${short ? `${short}:${f.lineNumber + 1}` : ''}`.trim();
    fn.set(key, (fn.get(key) ?? 0) + t);
    const a = f.functionName === '(idle)' ? '(idle)' : area(f.url);
    ar.set(a, (ar.get(a) ?? 0) + t);
  }
  const rank = (m: Map<string, number>): ProfileShare[] => [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, t]) => ({ name, pct: (100 * t) / total }));
  return { functions: rank(fn), areas: rank(ar) };
}

if (process.argv[1]?.endsWith('profile-summary.js') && process.argv[2]) {
  const s = summarise(JSON.parse(readFileSync(process.argv[2], 'utf8')) as CpuProfile, Number(process.argv[3] ?? 25));
  process.stdout.write('self time by area:\n' + s.areas.map((x) => `  ${x.pct.toFixed(1).padStart(5)} %  ${x.name}`).join('\n') + '\n');
  process.stdout.write('self time by function:\n' + s.functions.map((x) => `  ${x.pct.toFixed(1).padStart(5)} %  ${x.name}`).join('\n') + '\n');
}
