/**
 * Imports point down. src/ folders form layers (README, Architecture); a folder imports only from its own files and
 * from strictly lower layers, and no file imports itself back through a chain (type-only imports count).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type ImportGraph, findCycles, importSpecifiers, layerViolations, readImportGraph } from './helpers/import-graph.js';

/** Bottom first. Folders in one entry are peers: they import neither each other nor anything above them. */
const LAYERS = [
  ['util'], // errors and exit codes, version, fs checks, colour, seeded random
  ['stats'], // pure functions over numbers
  ['config'], // the run config's zod schema and flag overrides
  ['onnx'], // protobuf writer, graph DSL, inspector
  ['models'], // checkpoints, families, the graph emitter, presets, tokenizers
  ['quality'], // held-out task files, answer checkers, accuracy with Wilson intervals
  ['engines'], // the Engine contract and its implementations
  ['telemetry'], // samplers, FLOPs/bytes, peaks
  ['results'], // the results.json shape, its writer and reader
  ['scenarios'], // measuring cases
  ['claims'], // verdicts on the blog's claims, from results.json
  ['report', 'compare'], // readers of results.json (the HTML report carries the verdicts)
  ['run', 'doctor', 'bench'], // orchestration of whole commands
  ['cli'], // commander wiring: nothing imports it
] as const;

/**
 * Known violations, each in a file another branch is rewriting; an entry that is no longer needed fails the test,
 * so the list only shrinks. Remove an entry once its branch is merged.
 */
const ALLOWED_UPWARD = new Set<string>([]);
/** Import edges left out of the cycle search, in the same form ('from -> to'); none are needed today. */
const ALLOWED_CYCLE_EDGES = new Set<string>([]);

const root = fileURLToPath(new URL('..', import.meta.url));
const edge = (from: string, to: string) => `${from} -> ${to}`;

function withoutEdges(graph: ImportGraph, edges: Set<string>): ImportGraph {
  return new Map([...graph].map(([from, targets]) => [from, targets.filter((to) => !edges.has(edge(from, to)))]));
}

describe('src/ import graph', () => {
  const graph = readImportGraph(root);

  it('reads every source file and its relative imports', () => {
    expect(graph.size).toBeGreaterThan(50);
    expect(graph.get('src/cli/main.ts')!.length).toBeGreaterThan(0);
    for (const [from, targets] of graph) for (const to of targets) expect(graph.has(to), `${from} imports missing ${to}`).toBe(true);
  });

  it('has no import cycle', () => {
    const cycles = findCycles(withoutEdges(graph, ALLOWED_CYCLE_EDGES)).map((c) => c.join(' -> '));
    expect(cycles, `import cycles:\n${cycles.join('\n')}`).toEqual([]);
  });

  it('imports only from lower layers', () => {
    const found = layerViolations(graph, LAYERS).filter((v) => !ALLOWED_UPWARD.has(edge(v.from, v.to)));
    const lines = found.map((v) => `${edge(v.from, v.to)} (${v.why})`);
    expect(lines, `imports against the layer order:\n${lines.join('\n')}`).toEqual([]);
  });

  it('is the order README draws', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const block = /## Architecture[\s\S]*?```\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    // Lines that start with folder names ("report/ compare/ claims/  readers ..."), top layer first.
    const drawn = block
      .split('\n')
      .map((l) => /^((?:[a-z]+\/ ?)+)/.exec(l)?.[1])
      .filter((m): m is string => m !== undefined)
      .map((m) => m.trim().split(/\s+/).map((f) => f.replace(/\/$/, '')));
    expect(drawn.reverse()).toEqual(LAYERS.map((peers) => [...peers]));
  });

  it('allows only violations that still exist', () => {
    const upward = new Set(layerViolations(graph, LAYERS).map((v) => edge(v.from, v.to)));
    expect([...ALLOWED_UPWARD].filter((e) => !upward.has(e)), 'stale ALLOWED_UPWARD entries').toEqual([]);
    const edges = new Set([...graph].flatMap(([from, targets]) => targets.map((to) => edge(from, to))));
    const inCycles = new Set(findCycles(graph).flatMap((c) => c.slice(1).map((to, i) => edge(c[i]!, to))));
    expect([...ALLOWED_CYCLE_EDGES].filter((e) => !edges.has(e) || !inCycles.has(e)), 'stale ALLOWED_CYCLE_EDGES entries').toEqual([]);
  });
});

describe('the import checker', () => {
  it('finds static, re-export, type-only, side-effect and dynamic imports, not those in comments or packages', () => {
    const src = [
      "import { a } from './a.js';",
      "import type { B } from '../b/b.js';",
      'import {',
      '  c,',
      "} from './c.js';",
      "export { d } from './d.js';",
      "export * from './e.js';",
      "import './f.js';",
      "const g = await import('./g.js');",
      "import { z } from 'zod';",
      "/** e.g. import x from './not-me.js' */",
      "// import y from './nor-me.js'",
    ].join('\n');
    expect(importSpecifiers(src).sort()).toEqual(['../b/b.js', './a.js', './c.js', './d.js', './e.js', './f.js', './g.js']);
  });

  it('reports a cycle as a closed path, and none in a tree', () => {
    const cyclic: ImportGraph = new Map([
      ['src/a/x.ts', ['src/b/y.ts']],
      ['src/b/y.ts', ['src/c/z.ts', 'src/a/w.ts']],
      ['src/c/z.ts', ['src/a/x.ts']],
      ['src/a/w.ts', []],
    ]);
    expect(findCycles(cyclic)).toEqual([['src/a/x.ts', 'src/b/y.ts', 'src/c/z.ts', 'src/a/x.ts']]);
    expect(findCycles(new Map([['src/a/s.ts', ['src/a/s.ts']]]))).toEqual([['src/a/s.ts', 'src/a/s.ts']]);
    const tree: ImportGraph = new Map([
      ['src/a/x.ts', ['src/b/y.ts', 'src/c/z.ts']],
      ['src/b/y.ts', ['src/c/z.ts']],
      ['src/c/z.ts', []],
    ]);
    expect(findCycles(tree)).toEqual([]);
  });

  it('flags upward, peer and unlisted-folder imports, and allows downward and same-folder ones', () => {
    const graph: ImportGraph = new Map([
      ['src/low/a.ts', ['src/low/b.ts', 'src/high/h.ts']],
      ['src/low/b.ts', []],
      ['src/mid/m.ts', ['src/low/a.ts', 'src/peer/p.ts', 'src/nowhere/n.ts']],
      ['src/peer/p.ts', []],
      ['src/high/h.ts', ['src/mid/m.ts', 'src/low/b.ts']],
      ['src/nowhere/n.ts', []],
    ]);
    const found = layerViolations(graph, [['low'], ['mid', 'peer'], ['high']]).map((v) => `${v.from} -> ${v.to}: ${v.why}`);
    expect(found).toEqual([
      'src/low/a.ts -> src/high/h.ts: low/ is below high/',
      'src/mid/m.ts -> src/peer/p.ts: mid/ and peer/ are peers',
      'src/mid/m.ts -> src/nowhere/n.ts: folder nowhere/ is in no layer',
      'src/nowhere/n.ts -> src/nowhere/n.ts: folder nowhere/ is in no layer',
    ]);
  });
});
