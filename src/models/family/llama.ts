/** Llama (transformers' LlamaForCausalLM): model.{embed_tokens, layers.N.*, norm}, lm_head. */
import { type FamilyAdapter, type FamilyLayout, hfKeysFromSpec, ids, llama3ChatTemplate, specFromHfKeys } from './base.js';
import type { WeightRole } from './base.js';

const layer: Record<WeightRole, string> = {
  attnNorm: 'input_layernorm.weight',
  q: 'self_attn.q_proj.weight',
  k: 'self_attn.k_proj.weight',
  v: 'self_attn.v_proj.weight',
  o: 'self_attn.o_proj.weight',
  mlpNorm: 'post_attention_layernorm.weight',
  gate: 'mlp.gate_proj.weight',
  up: 'mlp.up_proj.weight',
  down: 'mlp.down_proj.weight',
  qBias: 'self_attn.q_proj.bias',
  kBias: 'self_attn.k_proj.bias',
  vBias: 'self_attn.v_proj.bias',
};

/** transformers' layout shared by Llama, Qwen2 and Dream (model.embed_tokens, model.layers.N.self_attn.*, lm_head). */
export const hfDecoderLayout: FamilyLayout = {
  embed: 'model.embed_tokens.weight',
  finalNorm: 'model.norm.weight',
  head: 'lm_head.weight',
  layer: (i, role) => `model.layers.${i}.${layer[role]}`,
};

export const llama: FamilyAdapter = {
  name: 'llama',
  label: 'Llama',
  role: 'ar',
  modelTypes: ['llama'],
  architectures: ['LlamaForCausalLM'],
  layout: hfDecoderLayout,
  features: { qkvBias: false, logitShift: false },
  decoding: null,
  specFromConfig: (config, file) => specFromHfKeys('llama', config, file, { maskTokenId: null, eosTokenIds: ids(config.eos_token_id), maxPositionsFallback: 8192 }),
  configFromSpec: (spec, extra = {}) => ({
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    ...hfKeysFromSpec(spec),
    attention_bias: false,
    mlp_bias: false,
    torch_dtype: 'float32',
    ...extra,
  }),
  tokens: {
    bos: '<|begin_of_text|>',
    eos: '<|end_of_text|>',
    eot: '<|eot_id|>',
    startHeader: '<|start_header_id|>',
    endHeader: '<|end_header_id|>',
    mask: '<|mdm_mask|>',
  },
  chatTemplate: llama3ChatTemplate('<|begin_of_text|>'),
};
