/**
 * Qwen2 / Qwen2.5 (transformers' Qwen2ForCausalLM): the Llama layout plus biases on the q, k and v projections,
 * tied embeddings in the small sizes (tie_word_embeddings), rope_theta 1e6, ChatML. Sliding-window attention
 * (use_sliding_window, off in every released Qwen2.5 config) would change the function computed: refused.
 */
import { UserError } from '../../util/errors.js';
import { type FamilyAdapter, hfKeysFromSpec, ids, specFromHfKeys } from './base.js';
import { hfDecoderLayout } from './llama.js';

/** ChatML as Qwen2.5-Instruct's tokenizer_config.json writes it, with its default system turn. */
export function chatMlTemplate(defaultSystem: string): string {
  return (
    `{% if messages[0]['role'] != 'system' %}{{ '<|im_start|>system\n${defaultSystem}<|im_end|>\n' }}{% endif %}` +
    `{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n' }}{% endfor %}` +
    `{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}`
  );
}

export function refuseSlidingWindow(config: Record<string, unknown>, file: string): void {
  if (config.use_sliding_window === true) {
    throw new UserError(`${file}: use_sliding_window is true; sliding-window attention is not supported (converting it would compute a different model)`);
  }
}

export const qwen2: FamilyAdapter = {
  name: 'qwen2',
  label: 'Qwen2',
  role: 'ar',
  modelTypes: ['qwen2'],
  architectures: ['Qwen2ForCausalLM'],
  layout: hfDecoderLayout,
  features: { qkvBias: true, logitShift: false },
  decoding: null,
  specFromConfig(config, file) {
    refuseSlidingWindow(config, file);
    return specFromHfKeys('qwen2', { rms_norm_eps: 1e-6, ...config }, file, { maskTokenId: null, eosTokenIds: ids(config.eos_token_id), maxPositionsFallback: 32768 });
  },
  configFromSpec: (spec, extra = {}) => ({
    architectures: ['Qwen2ForCausalLM'],
    model_type: 'qwen2',
    ...hfKeysFromSpec(spec),
    use_sliding_window: false,
    max_window_layers: spec.numLayers,
    torch_dtype: 'bfloat16',
    ...extra,
  }),
  tokens: { eos: '<|endoftext|>', eot: '<|im_end|>', startHeader: '<|im_start|>' },
  chatTemplate: chatMlTemplate('You are Qwen, created by Alibaba Cloud. You are a helpful assistant.'),
};
