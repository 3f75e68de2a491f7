import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { type IoInfo, readGraphIo } from '../onnx/inspect.js';
import { type ModelMeta, loadVerifiedModelFolder } from './folder.js';
import type { TransformerSpec } from './spec.js';

export interface ModelInspection {
  dir: string;
  family: ModelMeta['family'];
  graph: ModelMeta['graph'];
  attention: ModelMeta['attention'];
  /** The op that implements attention in the graph, e.g. com.microsoft.GroupQueryAttention. */
  attentionOp: string;
  dtype: ModelMeta['dtype'];
  parameters: number;
  synthetic: ModelMeta['synthetic'];
  hasTokenizer: boolean;
  spec: TransformerSpec;
  files: { path: string; bytes: number }[];
  inputs: IoInfo[];
  outputs: IoInfo[];
  opsets: Record<string, number>;
}

function walk(dir: string, root: string, out: { path: string; bytes: number }[]): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'checkpoint') walk(p, root, out);
    } else out.push({ path: relative(root, p), bytes: statSync(p).size });
  }
}

const ATTENTION_OPS: Record<ModelMeta['attention'], string> = {
  'fused-mha': 'com.microsoft.MultiHeadAttention',
  'fused-gqa': 'com.microsoft.GroupQueryAttention',
  unfused: 'MatMul + Softmax',
  unknown: 'not recorded: an ONNX export this project did not build',
};

export function inspectModel(dir: string): ModelInspection {
  const folder = loadVerifiedModelFolder(dir);
  const files: { path: string; bytes: number }[] = [];
  walk(folder.dir, folder.dir, files);
  const io = readGraphIo(folder.onnxPath);
  const m = folder.meta;
  return {
    dir: folder.dir,
    family: m.family,
    graph: m.graph,
    attention: m.attention,
    attentionOp: ATTENTION_OPS[m.attention],
    dtype: m.dtype,
    parameters: m.parameters,
    synthetic: m.synthetic,
    hasTokenizer: m.hasTokenizer,
    spec: m.spec,
    files: files.sort((a, b) => a.path.localeCompare(b.path)),
    inputs: io.inputs,
    outputs: io.outputs,
    opsets: io.opsets,
  };
}
