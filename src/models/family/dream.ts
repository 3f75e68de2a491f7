/**
 * Dream-v0 (Dream-org/Dream-v0-*-7B, HKUNLP; model_type "Dream"): Qwen2.5 weights under the same names
 * (q/k/v biases included) run as a masked diffusion model with bidirectional attention. Its logits are shifted:
 * the logits at position i predict token i + 1, so the sampler reads position i from the row before it (position 0
 * from itself). The [MASK] id comes from config.json's mask_token_id (151666 in the released models).
 */
import { UserError } from '../../util/errors.js';
import { type FamilyAdapter, hfKeysFromSpec, ids, specFromHfKeys } from './base.js';
import { hfDecoderLayout } from './llama.js';
import { chatMlTemplate, refuseSlidingWindow } from './qwen2.js';

export const dream: FamilyAdapter = {
  name: 'dream',
  label: 'Dream',
  role: 'diffusion',
  modelTypes: ['dream'],
  architectures: ['DreamModel'],
  layout: hfDecoderLayout,
  features: { qkvBias: true, logitShift: true },
  // Dream's own sampler with the settings of the Dream README's example (entropy ordering, alg_temp 0, top_p 0.95,
  // eps 1e-3); temperature, steps and the Fast-dLLM threshold/cache come from the run, as for LLaDA.
  decoding: { sampler: 'dream', alg: 'entropy', algTemp: 0, eps: 1e-3, topP: 0.95, topK: null },
  specFromConfig(config, file) {
    refuseSlidingWindow(config, file);
    if (typeof config.mask_token_id !== 'number') throw new UserError(`${file}: a Dream config needs "mask_token_id"`);
    return specFromHfKeys('dream', { rms_norm_eps: 1e-6, ...config }, file, { maskTokenId: config.mask_token_id, eosTokenIds: ids(config.eos_token_id), maxPositionsFallback: 32768 });
  },
  configFromSpec: (spec, extra = {}) => ({
    architectures: ['DreamModel'],
    model_type: 'Dream',
    ...hfKeysFromSpec(spec),
    mask_token_id: spec.maskTokenId,
    use_sliding_window: false,
    max_window_layers: spec.numLayers,
    torch_dtype: 'bfloat16',
    ...extra,
  }),
  tokens: { bos: '<|beginoftext|>', eos: '<|endoftext|>', eot: '<|im_end|>', startHeader: '<|im_start|>', mask: '<|mask|>' },
  chatTemplate: chatMlTemplate('You are a helpful assistant.'),
};
