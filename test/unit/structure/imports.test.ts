/**
 * The house's structure: imports run one way. Reads the imports of every source file under src/,
 * devices/ and firmware-sim/ (static, dynamic, type-only and re-exports, as TypeScript's own
 * pre-processor finds them) and fails, naming the loop, on any cycle between files, and on any
 * cycle between top-level folders under src/ (with devices/ and firmware-sim/ as folders of their
 * own). It also fails when product code imports a tool: the benchmark, the simulated replay and
 * alarm-burden comparison, and the device simulator are shipped as `vigil bench`, `vigil burden`,
 * `vigil sim` and `vigil demo`, and only those commands import them.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const TREES = ['src', 'devices', 'firmware-sim'];
/** Folders holding tools rather than the product. */
const TOOLS = ['src/bench', 'src/burden', 'firmware-sim'];
/** The commands that ship the tools: the only product files that may import them. */
const TOOL_COMMANDS = ['src/cli/bench.ts', 'src/cli/burden.ts', 'src/cli/demo.ts', 'src/cli/sim.ts'];

/** file → the files it imports, paths relative to the repository with `/`. */
type Graph = Map<string, Set<string>>;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|js|mjs)$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

const rel = (abs: string): string => relative(ROOT, abs).split(sep).join('/');

/** The file a relative specifier names: as written, or its `.ts` source for a `.js` specifier. */
function resolveImport(from: string, spec: string): string | undefined {
  const abs = resolve(dirname(join(ROOT, from)), spec);
  for (const candidate of [abs, abs.replace(/\.js$/, '.ts'), `${abs}.ts`, join(abs, 'index.ts')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return rel(candidate);
  }
  return undefined;
}

function readGraph(): { graph: Graph; unresolved: string[] } {
  const graph: Graph = new Map();
  const unresolved: string[] = [];
  for (const file of TREES.flatMap((t) => sourceFiles(join(ROOT, t))).map(rel)) {
    const info = ts.preProcessFile(readFileSync(join(ROOT, file), 'utf8'), true, true);
    const deps = new Set<string>();
    for (const { fileName } of info.importedFiles) {
      if (!fileName.startsWith('.')) continue; // a package, or a browser path such as /static/…
      const target = resolveImport(file, fileName);
      if (target === undefined) unresolved.push(`${file} imports ${fileName}`);
      else if (target !== file) deps.add(target);
    }
    graph.set(file, deps);
  }
  return { graph, unresolved };
}

/** `src/alarms/live.ts` → `src/alarms`; `src/gateway.ts` stays itself; `devices/x/y.ts` → `devices`. */
export function folderOf(file: string): string {
  const parts = file.split('/');
  if (parts[0] !== 'src') return parts[0]!;
  return parts.length > 2 ? `src/${parts[1]}` : file;
}

/** The graph between folders: an edge wherever a file of one imports a file of another. */
function folderGraph(graph: Graph): Graph {
  const out: Graph = new Map();
  for (const [file, deps] of graph) {
    const from = folderOf(file);
    if (!out.has(from)) out.set(from, new Set());
    for (const d of deps) if (folderOf(d) !== from) out.get(from)!.add(folderOf(d));
  }
  return out;
}

/**
 * Every cycle's strongly connected component (Tarjan), each told as one loop through it,
 * `a -> b -> c -> a`, followed by the rest of the component when it holds more. Empty when the
 * graph is acyclic.
 */
export function cycles(graph: Graph): string[] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component = new Set<string>();
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.add(w);
    } while (w !== v);
    if (component.size === 1 && !graph.get(v)?.has(v)) return;
    const loop = loopThrough(graph, component, v);
    const others = [...component].filter((c) => !loop.split(' -> ').includes(c)).sort();
    found.push(others.length > 0 ? `${loop} (and in the same circle: ${others.join(', ')})` : loop);
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return found;
}

/** A shortest loop from `start` back to itself inside one component (breadth first). */
function loopThrough(graph: Graph, component: ReadonlySet<string>, start: string): string {
  const cameFrom = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of [...(graph.get(v) ?? [])].sort()) {
      if (!component.has(w)) continue;
      if (w === start) {
        const path = [v];
        while (path[0] !== start) path.unshift(cameFrom.get(path[0]!)!);
        return [...path, start].join(' -> ');
      }
      if (!cameFrom.has(w) && w !== start) {
        cameFrom.set(w, v);
        queue.push(w);
      }
    }
  }
  return [...component].join(', ');
}

const isTool = (file: string): boolean => TOOLS.some((t) => file.startsWith(`${t}/`));

/** Imports of a tool by product code (anything that is neither a tool nor a tool's command). */
export function productImportsOfTools(graph: Graph): string[] {
  const out: string[] = [];
  for (const [file, deps] of graph) {
    if (isTool(file) || TOOL_COMMANDS.includes(file)) continue;
    for (const d of deps) if (isTool(d)) out.push(`${file} -> ${d}`);
  }
  return out.sort();
}

const { graph, unresolved } = readGraph();

describe('imports', () => {
  it('reads the whole tree, and every relative import names a file in it', () => {
    expect(graph.size).toBeGreaterThan(150);
    expect([...graph.keys()]).toEqual(expect.arrayContaining(['src/gateway.ts', 'src/alarms/pipeline.ts', 'devices/registry.ts', 'firmware-sim/ward.ts']));
    expect(unresolved).toEqual([]);
  });

  it('has no cycle between files', () => {
    expect(cycles(graph)).toEqual([]);
  });

  it('has no cycle between the folders under src/ (devices/ and firmware-sim/ included)', () => {
    expect(cycles(folderGraph(graph))).toEqual([]);
  });

  it('keeps tools out of the product: only the commands that ship them import them', () => {
    expect(productImportsOfTools(graph)).toEqual([]);
  });
});

describe('the checks themselves', () => {
  const g = (edges: Record<string, string[]>): Graph => new Map(Object.entries(edges).map(([k, v]) => [k, new Set(v)]));

  it('name a loop between files, and only the loop', () => {
    const graph = g({ 'src/a/x.ts': ['src/a/y.ts'], 'src/a/y.ts': ['src/b/z.ts'], 'src/b/z.ts': ['src/a/x.ts', 'src/c/w.ts'], 'src/c/w.ts': [] });
    expect(cycles(graph)).toEqual(['src/a/x.ts -> src/a/y.ts -> src/b/z.ts -> src/a/x.ts']);
  });

  it('name a loop between folders that no two files close', () => {
    const graph = g({ 'src/a/x.ts': ['src/b/y.ts'], 'src/b/y.ts': [], 'src/b/z.ts': ['src/a/w.ts'], 'src/a/w.ts': [] });
    expect(cycles(graph)).toEqual([]);
    expect(cycles(folderGraph(graph))).toEqual(['src/a -> src/b -> src/a']);
  });

  it('name a product file that imports a tool, and let the tool commands and tools do so', () => {
    const graph = g({ 'src/gateway.ts': ['src/bench/run.ts'], 'src/cli/sim.ts': ['firmware-sim/ward.ts'], 'src/bench/run.ts': ['src/burden/simulated.ts'], 'devices/x/index.ts': ['firmware-sim/rng.ts'] });
    expect(productImportsOfTools(graph)).toEqual(['devices/x/index.ts -> firmware-sim/rng.ts', 'src/gateway.ts -> src/bench/run.ts']);
  });
});
