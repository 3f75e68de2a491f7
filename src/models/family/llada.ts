/**
 * LLaDA (GSAI-ML/LLaDA-8B-*, modeling_llada.py, OLMo-derived): model.transformer.{wte, blocks.N.*, ln_f, ff_out}.
 * In a LLaDA block the MLP is ff_out(act(ff_proj(x)) * up_proj(x)), so ff_proj is the gate.
 */
import type { TransformerSpec } from '../spec.js';
import { type FamilyAdapter, type WeightRole, ids, llama3ChatTemplate, num, optionalId, positiveInts, ropeScalingConfig, ropeScalingFromConfig } from './base.js';

const layer: Record<WeightRole, string> = {
  attnNorm: 'attn_norm',
  q: 'q_proj',
  k: 'k_proj',
  v: 'v_proj',
  o: 'attn_out',
  mlpNorm: 'ff_norm',
  gate: 'ff_proj',
  up: 'up_proj',
  down: 'ff_out',
  qBias: 'q_proj',
  kBias: 'k_proj',
  vBias: 'v_proj',
};

export const llada: FamilyAdapter = {
  name: 'llada',
  label: 'LLaDA',
  role: 'diffusion',
  modelTypes: ['llada'],
  architectures: ['LLaDAModelLM'],
  layout: {
    embed: 'model.transformer.wte.weight',
    finalNorm: 'model.transformer.ln_f.weight',
    head: 'model.transformer.ff_out.weight',
    layer: (i, role) => `model.transformer.blocks.${i}.${layer[role]}.${role.endsWith('Bias') ? 'bias' : 'weight'}`,
  },
  features: { qkvBias: false, logitShift: false },
  decoding: { sampler: 'llada' },
  specFromConfig(config: Record<string, unknown>, file: string): TransformerSpec {
    const d = num(config, 'd_model', file);
    const h = num(config, 'n_heads', file);
    // LLaDA-8B's embedding_size may exceed vocab_size (padded); the weights use embedding_size when present.
    const vocab = num(config, 'embedding_size', file, num(config, 'vocab_size', file));
    const eot = typeof config.eot_token_id === 'number' ? [config.eot_token_id] : [];
    return positiveInts(
      {
        family: 'llada',
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
        bosTokenId: optionalId(config.bos_token_id),
        padTokenId: optionalId(config.pad_token_id),
      },
      file,
    );
  },
  configFromSpec(spec, extra = {}) {
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
  },
  tokens: {
    bos: '<|startoftext|>',
    eos: '<|endoftext|>',
    eot: '<|eot_id|>',
    startHeader: '<|start_header_id|>',
    endHeader: '<|end_header_id|>',
    mask: '<|mdm_mask|>',
  },
  chatTemplate: llama3ChatTemplate('<|startoftext|>'),
};
