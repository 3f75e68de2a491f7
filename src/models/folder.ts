/** Reading a built model folder: its config.json's "dllm_bench" block says everything the engines need. */
import { at } from '../util/indexing.js';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { UserError } from '../util/errors.js';
import type { OnnxDtype } from './dtype.js';
import { AttentionKind } from '../config/kinds.js';
import type { GraphKind } from './emit.js';
import { FAMILY_IDS, type Family, type TransformerSpec } from './spec.js';
import { checkFiles } from './integrity.js';

export const META_KEY = 'dllm_bench';
/** Bump when the graph's I/O contract changes: cached models of an older version are rebuilt. */
export const MODEL_FORMAT_VERSION = 4;

const FamilySchema = z.enum(FAMILY_IDS);

/** TransformerSpec (src/models/spec.ts) as a schema: a config.json's spec is checked before any engine reads it. */
export const TransformerSpecSchema = z.object({
  family: FamilySchema,
  vocabSize: z.number().int().positive(),
  hiddenSize: z.number().int().positive(),
  numLayers: z.number().int().positive(),
  numHeads: z.number().int().positive(),
  numKvHeads: z.number().int().positive(),
  headDim: z.number().int().positive(),
  intermediateSize: z.number().int().positive(),
  ropeTheta: z.number().positive(),
  ropeScaling: z
    .union([
      z.object({ type: z.literal('linear'), factor: z.number() }),
      z.object({ type: z.literal('llama3'), factor: z.number(), lowFreqFactor: z.number(), highFreqFactor: z.number(), originalMaxPositions: z.number() }),
    ])
    .nullable()
    .optional(),
  rmsNormEps: z.number().positive(),
  maxPositions: z.number().int().positive(),
  tieWordEmbeddings: z.boolean(),
  maskTokenId: z.number().int().nullable(),
  eosTokenIds: z.array(z.number().int()),
  bosTokenId: z.number().int().nullable(),
  padTokenId: z.number().int().nullable(),
}) as unknown as z.ZodType<TransformerSpec>;

/** The "dllm_bench" block of a built model folder's config.json: everything the engines need. Types derive from it. */
export const ModelMetaSchema = z.object({
  formatVersion: z.number().int(),
  family: FamilySchema,
  graph: z.enum(['diffusion', 'causal']),
  attention: AttentionKind.describe("the graph's attention kernel (GQA causal graphs: fused-gqa); 'unknown' for exports this project did not build"),
  dtype: z.enum(['fp32', 'fp16']),
  onnxFile: z.string().min(1).describe('relative to the folder'),
  loopOnnxFile: z.string().nullable().describe('causal models: the ar-loop graph (the whole greedy generation in one ONNX Loop), relative to the folder'),
  entriesOnnxFile: z
    .string()
    .nullable()
    .describe('diffusion models: every decoding mode in one graph over one set of weights (src/models/compose.ts: the plain forward, the Fast-dLLM cached forward, the block loop); else null'),
  externalData: z.boolean(),
  onnxBytes: z.number().nonnegative(),
  parameters: z.number().int().positive(),
  synthetic: z.object({ preset: z.string(), seed: z.number().int() }).nullable(),
  source: z.string().describe('checkpoint folder it was converted from'),
  hasTokenizer: z.boolean(),
  spec: TransformerSpecSchema,
  files: z
    .record(z.string(), z.object({ bytes: z.number().int().nonnegative(), sha256: z.string().regex(/^[0-9a-f]{64}$/) }))
    .optional()
    .describe('size and SHA-256 of every graph and weight file, as built (absent in folders built before they were recorded)'),
});

export type ModelMeta = z.infer<typeof ModelMetaSchema>;
// The schema's enums are the emitter's and dtype module's types, no wider.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const _same: [Same<ModelMeta['graph'], GraphKind>, Same<ModelMeta['attention'], AttentionKind>, Same<ModelMeta['dtype'], OnnxDtype>, Same<ModelMeta['family'], Family>] = [true, true, true, true];
void _same;

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
  const raw = config[META_KEY] as { formatVersion?: unknown; spec?: unknown } | undefined;
  if (!raw || typeof raw !== 'object' || !raw.spec) {
    throw new UserError(`${dirArg}: config.json has no "${META_KEY}" block; convert the checkpoint first with "dllm-bench models convert"`);
  }
  if (raw.formatVersion !== MODEL_FORMAT_VERSION) {
    throw new UserError(`${dirArg}: built by another dllm-bench model format (${String(raw.formatVersion)}, expected ${MODEL_FORMAT_VERSION}); rebuild it`);
  }
  const parsed = ModelMetaSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = at(parsed.error.issues, 0, 'parsed.error.issues');
    throw new UserError(`${dirArg}: config.json's "${META_KEY}" block is invalid at ${[META_KEY, ...issue.path.map(String)].join('.')}: ${issue.message}; rebuild the model folder`);
  }
  const meta = parsed.data;
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
