/**
 * The import graph of src/ and the two rules it must obey: no cycle between files, and folders import only from
 * folders in strictly lower layers. Pure functions over a { file -> imported files } map, so the checker itself is
 * tested on small fake graphs.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative } from 'node:path';

export type ImportGraph = Map<string, string[]>;

/** Relative specifiers of every static import/export-from, side-effect import and dynamic import() in `source`. */
export function importSpecifiers(source: string): string[] {
  // Comments may quote code ("import x from './y'"): drop block comments and whole-line // comments first.
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const specs: string[] = [];
  const patterns = [
    /\b(?:import|export)\s[^'"`;]*?\sfrom\s*['"]([^'"]+)['"]/g, // import x from '...', export { y } from '...', import type ...
    /\bimport\s*['"]([^'"]+)['"]/g, // import '...'
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g, // import('...')
  ];
  for (const re of patterns) for (const m of code.matchAll(re)) specs.push(m[1]!);
  return specs.filter((s) => s.startsWith('.'));
}

function listTs(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return listTs(p);
    return e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

/** Files are keyed by their path relative to `root`, with forward slashes ("src/stats/index.ts"). */
export function readImportGraph(root: string, srcDir = 'src'): ImportGraph {
  const graph: ImportGraph = new Map();
  for (const abs of listTs(join(root, srcDir)).sort()) {
    const file = relative(root, abs).split('\\').join('/');
    const targets = importSpecifiers(readFileSync(abs, 'utf8')).map((spec) =>
      posix.normalize(posix.join(posix.dirname(file), spec)).replace(/\.js$/, '.ts'),
    );
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** One cycle per strongly connected component with more than one file (or a self-import), as a closed path. */
export function findCycles(graph: ImportGraph): string[][] {
  // Tarjan's strongly connected components, then a shortest closed path inside each component (BFS) to report.
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1 || (graph.get(v) ?? []).includes(v)) components.push(comp);
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return components.map((comp) => {
    const inComp = new Set(comp);
    const start = [...comp].sort()[0]!;
    const prev = new Map<string, string>();
    const queue = [start];
    while (queue.length) {
      const v = queue.shift()!;
      for (const w of graph.get(v) ?? []) {
        if (!inComp.has(w)) continue;
        if (w === start) {
          const path = [v];
          while (path[0] !== start) path.unshift(prev.get(path[0]!)!);
          return [...path, start];
        }
        if (!prev.has(w)) {
          prev.set(w, v);
          queue.push(w);
        }
      }
    }
    throw new Error(`findCycles: no closed path in component ${comp.join(', ')}`);
  });
}

/** The folder a file belongs to: its first path segment under the source folder ("src/stats/index.ts" -> "stats"). */
export function folderOf(file: string, srcDir = 'src'): string {
  const rest = file.slice(srcDir.length + 1);
  return rest.includes('/') ? rest.slice(0, rest.indexOf('/')) : '(top level)';
}

export interface LayerViolation {
  from: string;
  to: string;
  why: string;
}

/**
 * Imports that break the layer order: `layers` lists folders bottom first; folders in one entry are peers and do
 * not import each other. A file may import its own folder and any folder in a strictly lower layer.
 */
export function layerViolations(graph: ImportGraph, layers: readonly (readonly string[])[], srcDir = 'src'): LayerViolation[] {
  const rank = new Map<string, number>();
  layers.forEach((peers, i) => peers.forEach((f) => rank.set(f, i)));
  const out: LayerViolation[] = [];
  for (const [from, targets] of graph) {
    const a = folderOf(from, srcDir);
    if (!rank.has(a)) {
      out.push({ from, to: from, why: `folder ${a}/ is in no layer` });
      continue;
    }
    for (const to of targets) {
      const b = folderOf(to, srcDir);
      if (a === b) continue;
      if (!rank.has(b)) out.push({ from, to, why: `folder ${b}/ is in no layer` });
      else if (rank.get(b)! === rank.get(a)!) out.push({ from, to, why: `${a}/ and ${b}/ are peers` });
      else if (rank.get(b)! > rank.get(a)!) out.push({ from, to, why: `${a}/ is below ${b}/` });
    }
  }
  return out;
}
