/**
 * What a model family is, in one place: how to recognise its config.json, read it into a TransformerSpec and write
 * it back, where its weights live, which graph features it needs, its special-token names and chat template. Every
 * family-specific decision in the project reads an adapter (models/families.ts is the registry); nothing else
 * compares family names.
 */
import type { DreamAlg } from '../../config/kinds.js';
import { UserError } from '../../util/errors.js';
import type { Family, RopeScaling, TransformerSpec } from '../spec.js';

/** Weight roles of one decoder layer. The *Bias roles exist only in families with features.qkvBias. */
export type WeightRole = 'attnNorm' | 'q' | 'k' | 'v' | 'o' | 'mlpNorm' | 'gate' | 'up' | 'down' | 'qBias' | 'kBias' | 'vBias';

export interface FamilyLayout {
  embed: string;
  finalNorm: string;
  head: string;
  layer(i: number, role: WeightRole): string;
}

/** Which side of the comparison a family's models sit on: a diffusion sampler or an autoregressive decoder. */
export type FamilyRole = 'diffusion' | 'ar';

/** Graph features beyond the shared pre-norm RMSNorm / RoPE / SwiGLU decoder. */
export interface GraphFeatures {
  /** Biases on the q, k and v projections (Qwen2, Dream). */
  qkvBias: boolean;
  /** Diffusion graphs: the logits at position i predict token i + 1 (Dream), so position i reads row i - 1. */
  logitShift: boolean;
}

/** Special-token names of the family's tokenizer, by role; a role the family lacks is absent. */
export interface TokenNames {
  bos?: string;
  eos: string;
  eot: string;
  startHeader: string;
  endHeader?: string;
  mask?: string;
}

/**
 * How a diffusion family's models are decoded: the sampler its authors' code defines, and the settings of that
 * sampler the run's config has no place for (the run's `llada` block gives steps, block length, temperature,
 * threshold and cache mode to either sampler).
 */
export type DiffusionDecoding =
  | { sampler: 'llada' }
  | {
      sampler: 'dream';
      /** Position selection (diffusion_generate's `alg`), `alg_temp`, last timestep `eps`, `top_p` and `top_k`. */
      alg: DreamAlg;
      algTemp: number;
      eps: number;
      topP: number | null;
      topK: number | null;
    };

export interface FamilyAdapter {
  name: Family;
  /** Human label ("LLaDA", "Qwen2"). */
  label: string;
  role: FamilyRole;
  /** config.json's model_type (lower-cased) and architectures that mean this family. */
  modelTypes: string[];
  architectures: string[];
  layout: FamilyLayout;
  features: GraphFeatures;
  /** Diffusion families: the sampler that decodes the model, with its defaults; null on the AR side. */
  decoding: DiffusionDecoding | null;
  specFromConfig(config: Record<string, unknown>, file: string): TransformerSpec;
  /** The family's native config.json for a spec (what a synthetic preset writes into checkpoint/). */
  configFromSpec(spec: TransformerSpec, extra?: Record<string, unknown>): Record<string, unknown>;
  tokens: TokenNames;
  /** The chat template (Jinja, as tokenizer_config.json carries it) for synthetic tokenizers. */
  chatTemplate: string;
}

export function num(config: Record<string, unknown>, key: string, file: string, fallback?: number): number {
  const v = config[key];
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (fallback !== undefined) return fallback;
  throw new UserError(`${file}: missing or invalid "${key}" in config.json`);
}

export function ids(v: unknown): number[] {
  if (typeof v === 'number') return [v];
  if (Array.isArray(v)) return v.filter((x): x is number => typeof x === 'number');
  return [];
}

export function optionalId(v: unknown): number | null {
  return typeof v === 'number' ? v : null;
}

export function positiveInts(spec: TransformerSpec, file: string): TransformerSpec {
  for (const k of ['vocabSize', 'hiddenSize', 'numLayers', 'numHeads', 'numKvHeads', 'headDim', 'intermediateSize'] as const) {
    if (!Number.isInteger(spec[k]) || spec[k] <= 0) throw new UserError(`${file}: ${k} must be a positive integer, got ${spec[k]}`);
  }
  if (spec.numHeads % spec.numKvHeads !== 0) {
    throw new UserError(`${file}: the number of heads (${spec.numHeads}) must be a multiple of the KV heads (${spec.numKvHeads})`);
  }
  return spec;
}

/** Expected [out, in] (HF Linear) or [n] shapes of every weight, from the spec. */
export function expectedShape(spec: TransformerSpec, role: WeightRole | 'embed' | 'finalNorm' | 'head'): number[] {
  const { hiddenSize: d, numHeads: h, numKvHeads: kv, headDim: hd, intermediateSize: m, vocabSize: v } = spec;
  switch (role) {
    case 'embed':
    case 'head':
      return [v, d];
    case 'finalNorm':
    case 'attnNorm':
    case 'mlpNorm':
      return [d];
    case 'q':
      return [h * hd, d];
    case 'k':
    case 'v':
      return [kv * hd, d];
    case 'o':
      return [d, h * hd];
    case 'gate':
    case 'up':
      return [m, d];
    case 'down':
      return [d, m];
    case 'qBias':
      return [h * hd];
    case 'kBias':
    case 'vBias':
      return [kv * hd];
  }
}

/**
 * config.json's rope_scaling (or transformers 5's rope_parameters) -> RopeScaling. Types other than linear and llama3
 * change the function the model computes in ways the emitter does not implement: refuse them rather than ignore them.
 */
export function ropeScalingFromConfig(config: Record<string, unknown>, file: string): RopeScaling | null {
  const raw = config.rope_scaling ?? config.rope_parameters;
  if (raw === undefined || raw === null) return null;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new UserError(`${file}: "rope_scaling" must be an object or null`);
  const r = raw as Record<string, unknown>;
  const type = String(r.rope_type ?? r.type ?? 'default');
  const key = config.rope_scaling != null ? 'rope_scaling' : 'rope_parameters';
  const factor = (): number => {
    const v = r.factor;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new UserError(`${file}: ${key}.factor must be a positive number for rope type "${type}"`);
    return v;
  };
  switch (type) {
    case 'default':
      return null;
    case 'linear':
      return { type: 'linear', factor: factor() };
    case 'llama3': {
      const sub = { ...r, factor: factor() };
      const low = num(sub, 'low_freq_factor', `${file} (${key})`);
      const high = num(sub, 'high_freq_factor', `${file} (${key})`);
      const orig = num(sub, 'original_max_position_embeddings', `${file} (${key})`);
      if (!(high > low) || low <= 0 || orig <= 0) {
        throw new UserError(`${file}: ${key} needs 0 < low_freq_factor < high_freq_factor and a positive original_max_position_embeddings`);
      }
      return { type: 'llama3', factor: sub.factor, lowFreqFactor: low, highFreqFactor: high, originalMaxPositions: orig };
    }
    default:
      throw new UserError(`${file}: rope scaling type "${type}" is not supported (supported: linear, llama3); converting it would compute a different model`);
  }
}

/** HF's rope_scaling block for a spec (null when plain RoPE). */
export function ropeScalingConfig(r: RopeScaling | null | undefined): Record<string, unknown> | null {
  if (!r) return null;
  if (r.type === 'linear') return { rope_type: 'linear', factor: r.factor };
  return {
    rope_type: 'llama3',
    factor: r.factor,
    low_freq_factor: r.lowFreqFactor,
    high_freq_factor: r.highFreqFactor,
    original_max_position_embeddings: r.originalMaxPositions,
  };
}

function ropeParameterTheta(config: Record<string, unknown>): number | undefined {
  const p = config.rope_parameters;
  if (p && typeof p === 'object' && typeof (p as Record<string, unknown>).rope_theta === 'number') return (p as Record<string, number>).rope_theta;
  return undefined;
}

/**
 * The transformers-style keys (hidden_size, num_attention_heads, ...) that Llama, Qwen2 and Dream share, read into
 * a spec; the family adds its own mask id and EOS handling.
 */
export function specFromHfKeys(
  family: Family,
  config: Record<string, unknown>,
  file: string,
  rest: Pick<TransformerSpec, 'maskTokenId' | 'eosTokenIds'> & { maxPositionsFallback: number },
): TransformerSpec {
  const d = num(config, 'hidden_size', file);
  const h = num(config, 'num_attention_heads', file);
  return positiveInts(
    {
      family,
      vocabSize: num(config, 'vocab_size', file),
      hiddenSize: d,
      numLayers: num(config, 'num_hidden_layers', file),
      numHeads: h,
      numKvHeads: num(config, 'num_key_value_heads', file, h),
      headDim: num(config, 'head_dim', file, d / h),
      intermediateSize: num(config, 'intermediate_size', file),
      ropeTheta: num(config, 'rope_theta', file, ropeParameterTheta(config) ?? 10000),
      ropeScaling: ropeScalingFromConfig(config, file),
      rmsNormEps: num(config, 'rms_norm_eps', file, 1e-5),
      maxPositions: num(config, 'max_position_embeddings', file, rest.maxPositionsFallback),
      tieWordEmbeddings: Boolean(config.tie_word_embeddings),
      maskTokenId: rest.maskTokenId,
      eosTokenIds: rest.eosTokenIds,
      bosTokenId: optionalId(config.bos_token_id),
      padTokenId: optionalId(config.pad_token_id),
    },
    file,
  );
}

/** The transformers-style config keys of a spec (the inverse of specFromHfKeys). */
export function hfKeysFromSpec(spec: TransformerSpec): Record<string, unknown> {
  return {
    hidden_size: spec.hiddenSize,
    num_attention_heads: spec.numHeads,
    num_key_value_heads: spec.numKvHeads,
    num_hidden_layers: spec.numLayers,
    head_dim: spec.headDim,
    intermediate_size: spec.intermediateSize,
    vocab_size: spec.vocabSize,
    rope_theta: spec.ropeTheta,
    rope_scaling: ropeScalingConfig(spec.ropeScaling),
    rms_norm_eps: spec.rmsNormEps,
    max_position_embeddings: spec.maxPositions,
    tie_word_embeddings: spec.tieWordEmbeddings,
    bos_token_id: spec.bosTokenId,
    eos_token_id: spec.eosTokenIds.length === 1 ? spec.eosTokenIds[0] : spec.eosTokenIds,
    pad_token_id: spec.padTokenId,
    hidden_act: 'silu',
  };
}

/** Llama-3 style chat template; LLaDA-8B-Instruct uses the same shape with its own BOS. */
export function llama3ChatTemplate(bos: string): string {
  return (
    `{{ '${bos}' }}{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n' + message['content'] | trim + '<|eot_id|>' }}{% endfor %}` +
    `{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}`
  );
}
