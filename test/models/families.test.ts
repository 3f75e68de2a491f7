/** The family registry: detection by model_type, refusal by name, sides, presets in a family's native layout. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveModelRef } from '../../src/models/cache.js';
import { FAMILIES, FAMILY_NAMES, detectFamily, familiesFor, familyOf } from '../../src/models/families.js';
import { loadModelFolder } from '../../src/models/folder.js';
import { PRESETS, presetFamily } from '../../src/models/presets.js';
import { loadTokenizer } from '../../src/models/tokenize.js';
import { tempDir } from '../helpers/models.js';

describe('family registry', () => {
  it('detects each family by its model_type, and by architectures when model_type is absent', () => {
    expect(detectFamily({ model_type: 'llada' }, 'c')).toBe('llada');
    expect(detectFamily({ model_type: 'LLaMA' }, 'c')).toBe('llama');
    expect(detectFamily({ model_type: 'qwen2' }, 'c')).toBe('qwen2');
    expect(detectFamily({ model_type: 'Dream' }, 'c')).toBe('dream');
    expect(detectFamily({ architectures: ['Qwen2ForCausalLM'] }, 'c')).toBe('qwen2');
    expect(detectFamily({ architectures: ['LLaDAModelLM'] }, 'c')).toBe('llada');
  });

  it('refuses an unknown model_type by name even when its architecture names a known family', () => {
    expect(() => detectFamily({ model_type: 'mistral', architectures: ['LlamaForCausalLM'] }, 'x/config.json')).toThrow(
      /x\/config\.json: unknown model family \(model_type "mistral"\); supported: llada .*llama .*qwen2/,
    );
    expect(() => familyOf('gpt2' as never)).toThrow(/unknown model family "gpt2"/);
  });

  it('every family names a side, a layout and a chat template; sides have their defaults', () => {
    for (const f of FAMILY_NAMES) {
      expect(FAMILIES[f].name).toBe(f);
      expect(FAMILIES[f].chatTemplate).toMatch(/add_generation_prompt/);
    }
    expect(familiesFor('diffusion')).toEqual(['llada', 'dream']);
    expect(familiesFor('ar')).toEqual(['llama', 'qwen2']);
    expect(presetFamily(PRESETS.tiny!, 'ar')).toBe('llama');
    expect(presetFamily(PRESETS['tiny-qwen2']!, 'ar')).toBe('qwen2');
    expect(presetFamily(PRESETS['qwen2.5-7b']!, 'ar')).toBe('qwen2');
    expect(presetFamily(PRESETS['dream-7b']!, 'diffusion')).toBe('dream');
    expect(presetFamily(PRESETS['tiny-qwen2']!, 'diffusion')).toBe('dream');
  });
});

describe('the tiny-qwen2 preset on the AR side', () => {
  const saved = process.env.DLLM_BENCH_CACHE;
  beforeAll(() => {
    process.env.DLLM_BENCH_CACHE = tempDir('dllm-qwen-preset-');
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.DLLM_BENCH_CACHE;
    else process.env.DLLM_BENCH_CACHE = saved;
  });

  it('builds in the native Qwen2 layout (biases, tied embeddings) with a ChatML tokenizer, once', async () => {
    const r = resolveModelRef('tiny-qwen2', 'ar', { dtype: 'fp32', seed: 0 });
    expect(r).toMatchObject({ built: true, family: 'qwen2' });
    expect(r.dir).toMatch(/tiny-qwen2-qwen2-fp32-seed0-v\d+$/);
    const folder = loadModelFolder(r.dir);
    expect(folder.meta).toMatchObject({ family: 'qwen2', graph: 'causal', attention: 'fused-gqa' });
    const ckptConfig = JSON.parse(readFileSync(join(r.dir, 'checkpoint', 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(ckptConfig).toMatchObject({ model_type: 'qwen2', tie_word_embeddings: true, use_sliding_window: false });
    const header = readFileSync(join(r.dir, 'checkpoint', 'model.safetensors'));
    const names = Object.keys(JSON.parse(header.subarray(8, 8 + Number(header.readBigUInt64LE(0))).toString()) as object);
    expect(names).toContain('model.layers.0.self_attn.q_proj.bias');
    expect(names).not.toContain('lm_head.weight');
    const tok = await loadTokenizer(folder);
    const ids = tok.encode('hi', true);
    expect(tok.decode(ids)).toBe('<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n');
    expect(resolveModelRef('tiny-qwen2', 'ar', { dtype: 'fp32', seed: 0 }).built).toBe(false);
    expect(existsSync(join(r.dir, 'generation_config.json'))).toBe(true);
  });

  it('builds Dream on the diffusion side: Qwen2 weights, mask id, every decoding mode in its entries graph too', () => {
    const r = resolveModelRef('tiny-qwen2', 'diffusion', { dtype: 'fp32', seed: 0 });
    expect(r).toMatchObject({ built: true, family: 'dream' });
    const m = loadModelFolder(r.dir).meta;
    expect(m).toMatchObject({ family: 'dream', graph: 'diffusion' });
    expect(m.spec.maskTokenId).toBe(PRESETS['tiny-qwen2']!.special.mask);
    expect(m.entriesOnnxFile).toBeTruthy();
    const ckptConfig = JSON.parse(readFileSync(join(r.dir, 'checkpoint', 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(ckptConfig).toMatchObject({ model_type: 'Dream', mask_token_id: PRESETS['tiny-qwen2']!.special.mask });
  });

  it('a qwen2 model folder is refused on the diffusion side by name', () => {
    const dir = resolveModelRef('tiny-qwen2', 'ar', { dtype: 'fp32', seed: 0 }).dir;
    expect(() => resolveModelRef(dir, 'diffusion', { dtype: 'fp32', seed: 0 })).toThrow(/a qwen2 model, but this side needs a llada model or a dream model/);
  });
});
