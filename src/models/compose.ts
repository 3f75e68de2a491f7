/**
 * One ONNX model with several entry points over ONE set of weights: each entry graph (LLaDA: the plain forward, the
 * cached forward, the block loop; AR: the cached decoder step, the decode loop) becomes a branch of a chain of `If`
 * nodes selected by the `entry` input. The branches read the weights from the outer scope, so an onnxruntime
 * session holds one copy of them (on CUDA: one copy in GPU memory) whatever mode it runs.
 *
 *   inputs:  entry [1] (int64: which entry), then the union of the entries' inputs (every dim symbolic; an input an
 *            entry does not read is fed as an empty tensor: see fillEntryFeeds in src/engines/entries.ts)
 *   outputs: the union of the entries' outputs; an entry that has no such output returns an empty tensor there
 *
 * Checkpoint weights (initializers whose bytes are read from the checkpoint when written) and the rotary caches
 * keep their names and are stored once; every other name of entry k is prefixed `e<k>_` (the emitters' generated
 * constants reuse names across graphs).
 */
import { DataType, type DataTypeCode, Graph, type TensorInit } from '../onnx/graph.js';
import { at } from '../util/indexing.js';

export const ENTRY_INPUT = 'entry';

type Node = Graph['nodes'][number];

const SHARED_CONSTANTS = new Set(['rotary_cos_cache', 'rotary_sin_cache']);
/** Streamed (function) data is a checkpoint tensor: the same name means the same bytes in every entry. */
const isShared = (t: TensorInit) => typeof t.data === 'function' || SHARED_CONSTANTS.has(t.name);

function renamer(entry: Graph, k: number): (n: string) => string {
  const keep = new Set([...entry.inputs.map((i) => i.name), ...entry.initializers.filter(isShared).map((t) => t.name)]);
  return (n) => (n === '' || keep.has(n) ? n : `e${k}_${n}`);
}

function copyGraph(g: Graph, rename: (n: string) => string, name: string): Graph {
  const c = new Graph(name);
  for (const t of g.initializers) c.init({ ...t, name: rename(t.name) });
  for (const i of g.inputs) c.input(rename(i.name), i.dtype, i.dims ?? []);
  for (const o of g.outputs) c.output(rename(o.name), o.dtype, o.dims);
  for (const n of g.nodes) c.nodes.push(copyNode(n, rename));
  return c;
}

function copyNode(n: Node, rename: (x: string) => string): Node {
  return {
    ...n,
    name: rename(n.name),
    inputs: n.inputs.map(rename),
    outputs: n.outputs.map(rename),
    attrs: Object.fromEntries(Object.entries(n.attrs).map(([key, v]) => [key, v instanceof Graph ? copyGraph(v, rename, rename(v.name)) : v])),
  };
}

const EMPTY_BYTES = new Uint8Array(0);

/** The union of the entries' value infos by name (the first entry's dtype; a dtype clash is a build bug). */
function union(lists: { name: string; dtype: DataTypeCode }[][], what: string): { name: string; dtype: DataTypeCode }[] {
  const out = new Map<string, DataTypeCode>();
  for (const list of lists) {
    for (const v of list) {
      const had = out.get(v.name);
      if (had !== undefined && had !== v.dtype) throw new Error(`compose: ${what} ${v.name} has two element types`);
      out.set(v.name, v.dtype);
    }
  }
  return [...out].map(([name, dtype]) => ({ name, dtype }));
}

export function composeEntries(name: string, entries: readonly Graph[]): Graph {
  if (entries.length < 2) throw new Error('compose: at least two entries');
  const root = new Graph(name, 'entries_');
  const entry = root.input(ENTRY_INPUT, DataType.INT64, [1]);
  const inputs = union(entries.map((e) => e.inputs), 'input');
  for (const [i, v] of inputs.entries()) root.input(v.name, v.dtype, [`${v.name}_dim0_${i}`, `${v.name}_dim1_${i}`, `${v.name}_dim2_${i}`, `${v.name}_dim3_${i}`].slice(0, rankOf(entries, v.name)));
  const outputs = union(entries.map((e) => e.outputs), 'output');
  const shared = new Set<string>();

  const branches = entries.map((e, k) => {
    const rename = renamer(e, k);
    const b = new Graph(`entry_${k}`);
    for (const t of e.initializers) {
      if (isShared(t)) {
        if (!shared.has(t.name)) root.init(t);
        shared.add(t.name);
      } else {
        root.init({ ...t, name: rename(t.name) });
      }
    }
    for (const n of e.nodes) b.nodes.push(copyNode(n, rename));
    const produced = new Set(e.outputs.map((o) => o.name));
    for (const [j, o] of outputs.entries()) {
      const out = `entry_${k}_out_${j}`;
      if (produced.has(o.name)) b.node('Identity', [rename(o.name)], {}, { outputs: [out], name: `entry_${k}_identity_${j}` });
      else b.node('Constant', [], { value: { name: `entry_${k}_empty_${j}`, dtype: o.dtype, dims: [0], data: EMPTY_BYTES } }, { outputs: [out], name: `entry_${k}_empty_${j}` });
      b.output(out, o.dtype, null);
    }
    return b;
  });

  // If(entry == 0, entry_0, If(entry == 1, entry_1, ... entry_n-1)).
  const scalarEntry = root.op('Squeeze', [entry, root.constI64([0])]);
  let elseBranch = branches.at(-1)!;
  for (let k = entries.length - 2; k >= 0; k--) {
    const outs = outputs.map((_, j) => (k === 0 ? at(outputs, j, 'outputs').name : `select_${k}_out_${j}`));
    const host = k === 0 ? root : new Graph(`select_${k}`, `select_${k}_`);
    const cond = host.op('Equal', [scalarEntry, host.constI64([k], [])]);
    host.node('If', [cond], { then_branch: at(branches, k, 'branches'), else_branch: elseBranch }, { outputs: outs, name: `select_${k}` });
    if (k > 0) for (const [j, o] of outputs.entries()) host.output(at(outs, j, 'outs'), o.dtype, null);
    elseBranch = host;
  }
  for (const o of outputs) root.output(o.name, o.dtype, null);
  return root;
}

function rankOf(entries: readonly Graph[], input: string): number {
  for (const e of entries) {
    const v = e.inputs.find((i) => i.name === input);
    if (v?.dims) return v.dims.length;
  }
  return 0;
}

/** The entries of a diffusion model's composed graph (onnx/model_entries[_fp16].onnx), in order. */
export const LLADA_ENTRY = { forward: 0, cached: 1, blockLoop: 2 } as const;
