/**
 * The two checkpoint families in their native Hugging Face layouts: config keys -> TransformerSpec, and the
 * tensor name of every weight role. Names follow the public modeling code:
 *  - llada: GSAI-ML/LLaDA-8B-* (modeling_llada.py, OLMo-derived): model.transformer.{wte, blocks.N.*, ln_f, ff_out}.
 *    In a LLaDA block the MLP is ff_out(act(ff_proj(x)) * up_proj(x)), so ff_proj is the gate.
 *  - llama: transformers' LlamaForCausalLM: model.{embed_tokens, layers.N.*, norm}, lm_head.
 */
import { UserError } from '../util/errors.js';
import type { Family, RopeScaling, TransformerSpec } from './spec.js';

export type WeightRole = 'attnNorm' | 'q' | 'k' | 'v' | 'o' | 'mlpNorm' | 'gate' | 'up' | 'down';

export interface FamilyLayout {
  embed: string;
  finalNorm: string;
  head: string;
  layer(i: number, role: WeightRole): string;
}

const lladaLayer: Record<WeightRole, string> = {
  attnNorm: 'attn_norm',
  q: 'q_proj',
  k: 'k_proj',
  v: 'v_proj',
  o: 'attn_out',
  mlpNorm: 'ff_norm',
  gate: 'ff_proj',
  up: 'up_proj',
  down: 'ff_out',
};

const llamaLayer: Record<WeightRole, string> = {
  attnNorm: 'input_layernorm',
  q: 'self_attn.q_proj',
  k: 'self_attn.k_proj',
  v: 'self_attn.v_proj',
  o: 'self_attn.o_proj',
  mlpNorm: 'post_attention_layernorm',
  gate: 'mlp.gate_proj',
  up: 'mlp.up_proj',
  down: 'mlp.down_proj',
};

export const layouts: Record<Family, FamilyLayout> = {
  llada: {
    embed: 'model.transformer.wte.weight',
    finalNorm: 'model.transformer.ln_f.weight',
    head: 'model.transformer.ff_out.weight',
    layer: (i, role) => `model.transformer.blocks.${i}.${lladaLayer[role]}.weight`,
  },
  llama: {
    embed: 'model.embed_tokens.weight',
    finalNorm: 'model.norm.weight',
    head: 'lm_head.weight',
    layer: (i, role) => `model.layers.${i}.${llamaLayer[role]}.weight`,
  },
};

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
  }
}

export function detectFamily(config: Record<string, unknown>, file: string): Family {
  const modelType = String(config.model_type ?? '').toLowerCase();
  const archs = Array.isArray(config.architectures) ? config.architectures.map(String) : [];
  if (modelType === 'llada' || archs.some((a) => a.toLowerCase().includes('llada'))) return 'llada';
  if (modelType === 'llama' || archs.some((a) => a === 'LlamaForCausalLM')) return 'llama';
  throw new UserError(
    `${file}: unknown model family (model_type "${modelType || 'missing'}"); supported: llada (LLaDA-8B layout), llama (Llama-3 layout)`,
  );
}

function num(config: Record<string, unknown>, key: string, file: string, fallback?: number): number {
  const v = config[key];
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (fallback !== undefined) return fallback;
  throw new UserError(`${file}: missing or invalid "${key}" in config.json`);
}

function ids(v: unknown): number[] {
  if (typeof v === 'number') return [v];
  if (Array.isArray(v)) return v.filter((x): x is number => typeof x === 'number');
  return [];
}

function positiveInts(spec: TransformerSpec, file: string): TransformerSpec {
  for (const k of ['vocabSize', 'hiddenSize', 'numLayers', 'numHeads', 'numKvHeads', 'headDim', 'intermediateSize'] as const) {
    if (!Number.isInteger(spec[k]) || spec[k] <= 0) throw new UserError(`${file}: ${k} must be a positive integer, got ${spec[k]}`);
  }
  if (spec.numHeads % spec.numKvHeads !== 0) {
    throw new UserError(`${file}: the number of heads (${spec.numHeads}) must be a multiple of the KV heads (${spec.numKvHeads})`);
  }
  return spec;
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

/** Reads a family's native config.json keys into a TransformerSpec. */
export function specFromConfig(config: Record<string, unknown>, file: string): TransformerSpec {
  const family = detectFamily(config, file);
  if (family === 'llada') {
    const d = num(config, 'd_model', file);
    const h = num(config, 'n_heads', file);
    // LLaDA-8B's embedding_size may exceed vocab_size (padded); the weights use embedding_size when present.
    const vocab = num(config, 'embedding_size', file, num(config, 'vocab_size', file));
    const eot = typeof config.eot_token_id === 'number' ? [config.eot_token_id] : [];
    return positiveInts(
      {
        family,
        vocabSize: vocab,
        hiddenSize: d,
        numLayers: num(config, 'n_layers', file),
        numHeads: h,
        numKvHeads: num(config, 'n_kv_heads', file, h),
        headDim: d / h,
        intermediateSize: num(config, 'mlp_hidden_size', file),
        ropeTheta: num(config, 'rope_theta', file, 10000),
        ropeScaling: ropeScalingFromConfig(config, file),
        rmsNormEps: num(config, 'rms_norm_eps', file, 1e-5),
        maxPositions: num(config, 'max_sequence_length', file, 4096),
        tieWordEmbeddings: Boolean(config.weight_tying),
        maskTokenId: num(config, 'mask_token_id', file, 126336),
        eosTokenIds: [...new Set([...ids(config.eos_token_id), ...eot])],
        bosTokenId: typeof config.bos_token_id === 'number' ? config.bos_token_id : null,
        padTokenId: typeof config.pad_token_id === 'number' ? config.pad_token_id : null,
      },
      file,
    );
  }
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
      maxPositions: num(config, 'max_position_embeddings', file, 8192),
      tieWordEmbeddings: Boolean(config.tie_word_embeddings),
      maskTokenId: null,
      eosTokenIds: ids(config.eos_token_id),
      bosTokenId: typeof config.bos_token_id === 'number' ? config.bos_token_id : null,
      padTokenId: typeof config.pad_token_id === 'number' ? config.pad_token_id : null,
    },
    file,
  );
}

function ropeParameterTheta(config: Record<string, unknown>): number | undefined {
  const p = config.rope_parameters;
  if (p && typeof p === 'object' && typeof (p as Record<string, unknown>).rope_theta === 'number') return (p as Record<string, number>).rope_theta;
  return undefined;
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

/** The family's native config.json for a spec (what a preset writes into checkpoint/). */
export function configFromSpec(spec: TransformerSpec, extra: Record<string, unknown> = {}): Record<string, unknown> {
  if (spec.family === 'llada') {
    return {
      architectures: ['LLaDAModelLM'],
      model_type: 'llada',
      d_model: spec.hiddenSize,
      n_heads: spec.numHeads,
      n_kv_heads: spec.numKvHeads,
      n_layers: spec.numLayers,
      mlp_hidden_size: spec.intermediateSize,
      vocab_size: spec.vocabSize,
      embedding_size: spec.vocabSize,
      rope_theta: spec.ropeTheta,
      ...(spec.ropeScaling ? { rope_scaling: ropeScalingConfig(spec.ropeScaling) } : {}),
      rms_norm_eps: spec.rmsNormEps,
      max_sequence_length: spec.maxPositions,
      weight_tying: spec.tieWordEmbeddings,
      mask_token_id: spec.maskTokenId,
      eos_token_id: spec.eosTokenIds[0],
      ...(spec.eosTokenIds[1] !== undefined ? { eot_token_id: spec.eosTokenIds[1] } : {}),
      pad_token_id: spec.padTokenId,
      bos_token_id: spec.bosTokenId,
      activation_type: 'silu',
      block_type: 'llama',
      include_bias: false,
      rope: true,
      ...extra,
    };
  }
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
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
    attention_bias: false,
    mlp_bias: false,
    torch_dtype: 'float32',
    ...extra,
  };
}
