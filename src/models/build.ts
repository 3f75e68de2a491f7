/**
 * checkpoint folder -> model folder (transformers.js layout):
 *   config.json (the checkpoint's own keys + a "dllm_bench" block), tokenizer files, onnx/model[_fp16].onnx.
 * A synthetic preset first writes a native checkpoint into DIR/checkpoint/ and then goes through the same path.
 */
import { copyFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { UserError } from '../util/errors.js';
import { mkdirp } from '../util/fs.js';
import { writeModel } from '../onnx/graph.js';
import type { OnnxDtype } from './dtype.js';
import { emitBlockLoop } from './block-loop.js';
import { OPSETS, attentionImpl, emitCachedDiffusion, emitTransformer } from './emit.js';
import { emitDecodeLoop } from './emit-loop.js';
import { composeEntries } from './compose.js';
import { configFromSpec, familyOf, specFromConfig } from './families.js';
import { type ModelMeta, META_KEY, MODEL_FORMAT_VERSION } from './folder.js';
import { recordFiles } from './integrity.js';
import { getPreset, presetSpec } from './presets.js';
import { SafetensorsReader } from './safetensors.js';
import { parameterCount } from './spec.js';
import type { Family } from './spec.js';
import { writeSyntheticCheckpoint } from './synthetic.js';
import { buildTokenizerFiles } from './tokenizer.js';

/** Above this many weight bytes the model goes to an external data file (protobuf's 2 GB limit). */
const EXTERNAL_DATA_THRESHOLD = 1.5e9;
const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'generation_config.json'];

export interface ConvertOptions {
  dtype: OnnxDtype;
  /** Extra metadata (preset, seed) recorded in config.json's dllm_bench block. */
  synthetic?: { preset: string; seed: number };
  attention?: 'auto' | 'plain';
  /** Force weights into an external data file (default: only above the protobuf size limit). */
  externalData?: boolean;
}

export interface ConvertResult {
  outDir: string;
  meta: ModelMeta;
  warnings: string[];
  seconds: number;
}

function readJson(file: string): Record<string, unknown> {
  if (!existsSync(file)) throw new UserError(`${file}: not found`);
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
    return v as Record<string, unknown>;
  } catch {
    throw new UserError(`${file}: not valid JSON`);
  }
}

export function convertCheckpoint(checkpointDir: string, outDir: string, opts: ConvertOptions): ConvertResult {
  const t0 = performance.now();
  const src = resolve(checkpointDir);
  if (!existsSync(src) || !statSync(src).isDirectory()) throw new UserError(`${checkpointDir}: checkpoint folder not found`);
  const configFile = join(src, 'config.json');
  const config = readJson(configFile);
  const spec = specFromConfig(config, configFile);
  const reader = new SafetensorsReader(src);
  const family = familyOf(spec.family);
  const kind = family.role === 'diffusion' ? 'diffusion' : 'causal';
  // Emitting validates every tensor name and shape before any file is written.
  const graph = emitTransformer(spec, reader, { kind, dtype: opts.dtype, attention: opts.attention });

  const warnings: string[] = [];
  mkdirp(join(outDir, 'onnx'));
  const weightBytes = parameterCount(spec) * (opts.dtype === 'fp16' ? 2 : 4);
  const external = opts.externalData ?? weightBytes > EXTERNAL_DATA_THRESHOLD;
  const onnxFile = opts.dtype === 'fp16' ? 'onnx/model_fp16.onnx' : 'onnx/model.onnx';
  const written = writeModel(join(outDir, onnxFile), graph, {
    opsets: OPSETS,
    producer: 'dllm-bench',
    metadata: { family: spec.family, graph: kind },
    externalDataPath: external ? join(outDir, `${onnxFile}_data`) : null,
  });
  // Diffusion models also get every decoding mode in one graph file (src/models/compose.ts): the plain forward, the
  // Fast-dLLM cached forward (prefix / dual KV cache) and the block loop (one block of cached decoding per call),
  // as If branches over one set of weights, so the engine opens one session and holds the weights once. Inline, the
  // file carries its own copy on disk; with external data (large models) it references the model graph's weight file.
  let entriesOnnxFile: string | null = null;
  let entriesBytes = 0;
  if (kind === 'diffusion') {
    entriesOnnxFile = `onnx/model_entries${opts.dtype === 'fp16' ? '_fp16' : ''}.onnx`;
    const eo = { dtype: opts.dtype, attention: opts.attention };
    const entries = composeEntries('llada_entries', [
      emitTransformer(spec, reader, { ...eo, kind }),
      emitCachedDiffusion(spec, reader, eo),
      emitBlockLoop(spec, reader, eo),
    ]);
    const w = writeModel(join(outDir, entriesOnnxFile), entries, {
      opsets: OPSETS,
      producer: 'dllm-bench',
      metadata: { family: spec.family, graph: 'diffusion-entries' },
      externalDataPath: external ? join(outDir, `${onnxFile}_data`) : null,
      externalIndex: external ? written.index : undefined,
    });
    entriesBytes = w.bytes + w.externalBytes;
  }

  // Causal models also get the ar-loop graph (same decoder stack inside an ONNX Loop). Inline, it holds its own copy
  // of the weights; with external data (large models) it shares the model graph's weight file.
  let loopOnnxFile: string | null = null;
  if (kind === 'causal') {
    loopOnnxFile = opts.dtype === 'fp16' ? 'onnx/model_loop_fp16.onnx' : 'onnx/model_loop.onnx';
    writeModel(join(outDir, loopOnnxFile), emitDecodeLoop(spec, reader, { dtype: opts.dtype, attention: opts.attention }), {
      opsets: OPSETS,
      producer: 'dllm-bench',
      metadata: { family: spec.family, graph: 'decode-loop' },
      // With external data, the loop graph references the model graph's weight file instead of a second copy.
      externalDataPath: external ? join(outDir, `${onnxFile}_data`) : null,
      externalIndex: external ? written.index : undefined,
    });
  }

  let hasTokenizer = true;
  for (const f of TOKENIZER_FILES) {
    if (existsSync(join(src, f))) {
      if (resolve(src, f) !== resolve(outDir, f)) copyFileSync(join(src, f), join(outDir, f));
    } else if (f === 'tokenizer.json' || f === 'tokenizer_config.json') {
      hasTokenizer = false;
    }
  }
  if (!hasTokenizer) {
    warnings.push(`${checkpointDir} has no tokenizer.json/tokenizer_config.json: text prompts are unavailable, use --prompt-ids`);
  }

  const graphFiles = [onnxFile, external ? `${onnxFile}_data` : null, entriesOnnxFile, loopOnnxFile].filter((f): f is string => f !== null);
  const meta: ModelMeta = {
    formatVersion: MODEL_FORMAT_VERSION,
    family: spec.family,
    graph: kind,
    attention: attentionImpl(spec, kind, opts.attention),
    dtype: opts.dtype,
    onnxFile,
    loopOnnxFile,
    externalData: external,
    onnxBytes: written.bytes + written.externalBytes + entriesBytes,
    entriesOnnxFile,
    parameters: parameterCount(spec),
    synthetic: opts.synthetic ? { preset: opts.synthetic.preset, seed: opts.synthetic.seed } : null,
    // Relative when the checkpoint lives inside the model folder (presets), so the folder can be moved.
    source: src.startsWith(`${resolve(outDir)}/`) ? relative(resolve(outDir), src) : src,
    hasTokenizer,
    spec,
    files: recordFiles(outDir, graphFiles),
  };
  const outConfig: Record<string, unknown> = {
    ...config,
    [META_KEY]: meta,
    'transformers.js_config': { dtype: opts.dtype, ...(external ? { use_external_data_format: true } : {}) },
  };
  writeFileSync(join(outDir, 'config.json'), JSON.stringify(outConfig, null, 2));
  if (family.role === 'ar' && !existsSync(join(outDir, 'generation_config.json'))) {
    writeFileSync(
      join(outDir, 'generation_config.json'),
      JSON.stringify({ bos_token_id: spec.bosTokenId, eos_token_id: spec.eosTokenIds, pad_token_id: spec.padTokenId }, null, 2),
    );
  }
  return { outDir, meta, warnings, seconds: (performance.now() - t0) / 1000 };
}

export interface BuildPresetOptions {
  preset: string;
  family: Family;
  seed: number;
  dtype: OnnxDtype;
}

export function buildPreset(outDir: string, opts: BuildPresetOptions): ConvertResult {
  const t0 = performance.now();
  const preset = getPreset(opts.preset);
  const spec = presetSpec(preset, opts.family);
  const ckpt = join(outDir, 'checkpoint');
  mkdirp(ckpt);
  writeFileSync(join(ckpt, 'config.json'), JSON.stringify(configFromSpec(spec), null, 2));
  const { tokenizer, tokenizerConfig } = buildTokenizerFiles(familyOf(opts.family), spec.vocabSize, { ...preset.special, mask: spec.maskTokenId }, spec.maxPositions);
  writeFileSync(join(ckpt, 'tokenizer.json'), JSON.stringify(tokenizer));
  writeFileSync(join(ckpt, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig, null, 2));
  // Large presets are written in BF16, as real checkpoints of that size are (half the disk, same conversion path).
  writeSyntheticCheckpoint(spec, join(ckpt, 'model.safetensors'), opts.seed, parameterCount(spec) > 1e9 ? 'BF16' : 'F32');
  const result = convertCheckpoint(ckpt, outDir, { dtype: opts.dtype, synthetic: { preset: opts.preset, seed: opts.seed } });
  return { ...result, seconds: (performance.now() - t0) / 1000 };
}
