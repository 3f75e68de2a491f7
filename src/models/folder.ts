/** Reading a built model folder: its config.json's "dllm_bench" block says everything the engines need. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UserError } from '../util/errors.js';
import type { OnnxDtype } from './dtype.js';
import type { AttentionKind } from '../config/kinds.js';
import type { GraphKind } from './emit.js';
import type { Family, TransformerSpec } from './spec.js';
import { type FileRecords, checkFiles } from './integrity.js';

export const META_KEY = 'dllm_bench';
/** Bump when the graph's I/O contract changes: cached models of an older version are rebuilt. */
export const MODEL_FORMAT_VERSION = 4;

export interface ModelMeta {
  formatVersion: number;
  family: Family;
  graph: GraphKind;
  /** The attention kernel of the graph (GQA causal graphs: fused-gqa); 'unknown' for exports this project did not build. */
  attention: AttentionKind;
  dtype: OnnxDtype;
  /** Relative to the folder. */
  onnxFile: string;
  /** Causal models: the ar-loop graph (the whole greedy generation in one ONNX Loop), relative to the folder. */
  loopOnnxFile: string | null;
  /**
   * Diffusion models: every decoding mode in one graph over one set of weights (src/models/compose.ts: the plain
   * forward, the Fast-dLLM cached forward, the block loop), relative to the folder; else null.
   */
  entriesOnnxFile: string | null;
  externalData: boolean;
  onnxBytes: number;
  parameters: number;
  synthetic: { preset: string; seed: number } | null;
  /** Checkpoint folder it was converted from. */
  source: string;
  hasTokenizer: boolean;
  spec: TransformerSpec;
  /** Size and SHA-256 of every graph and weight file, as built (absent in folders built before they were recorded). */
  files?: FileRecords;
}

export interface ModelFolder {
  dir: string;
  /** Set when the model comes from the Hugging Face hub (src/models/hub.ts) rather than a local folder. */
  hubId?: string;
  meta: ModelMeta;
  onnxPath: string;
  config: Record<string, unknown>;
}

export function loadModelFolder(dirArg: string): ModelFolder {
  const dir = resolve(dirArg);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UserError(`${dirArg}: model folder not found`);
  const file = join(dir, 'config.json');
  if (!existsSync(file)) throw new UserError(`${dirArg}: not a model folder (no config.json); build one with "dllm-bench models build" or "models convert"`);
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    throw new UserError(`${file}: not valid JSON`);
  }
  const meta = config[META_KEY] as ModelMeta | undefined;
  if (!meta || typeof meta !== 'object' || !meta.spec) {
    throw new UserError(`${dirArg}: config.json has no "${META_KEY}" block; convert the checkpoint first with "dllm-bench models convert"`);
  }
  if (meta.formatVersion !== MODEL_FORMAT_VERSION) {
    throw new UserError(`${dirArg}: built by another dllm-bench model format (${meta.formatVersion}, expected ${MODEL_FORMAT_VERSION}); rebuild it`);
  }
  const onnxPath = join(dir, meta.onnxFile);
  if (!existsSync(onnxPath)) throw new UserError(`${dirArg}: ${meta.onnxFile} is missing; rebuild the model folder`);
  const bad = meta.files ? checkFiles(dir, meta.files, { hash: false }) : null;
  if (bad) throw new UserError(`model folder ${dirArg}: ${bad}; rebuild it`);
  return { dir, meta, onnxPath, config };
}

/**
 * loadModelFolder plus the content check: every recorded file's SHA-256 (reads every byte once: about a second per
 * GB). For what is about to be loaded from a folder the user named or the cache, not for every engine worker.
 */
export function loadVerifiedModelFolder(dirArg: string): ModelFolder {
  const folder = loadModelFolder(dirArg);
  const bad = folder.meta.files ? checkFiles(folder.dir, folder.meta.files, { hash: true }) : null;
  if (bad) throw new UserError(`model folder ${dirArg}: ${bad}; rebuild it`);
  return folder;
}
