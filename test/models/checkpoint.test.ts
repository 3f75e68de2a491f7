/**
 * Checkpoints the project did not write: a BF16, sharded (index.json) checkpoint written here with an independent
 * writer converts and matches the reference forward; broken inputs fail with one clear line naming file and tensor.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import ort from 'onnxruntime-node';
import { convertCheckpoint } from '../../src/models/build.js';
import { UserError } from '../../src/util/errors.js';
import { mulberry32 } from '../../src/models/synthetic.js';
import { tempDir } from '../helpers/models.js';
import { argmax, loadCheckpoint, referenceForward } from '../helpers/reference-forward.js';
import { writeBf16Shard } from '../helpers/hf-checkpoint.js';

const V = 80;
const D = 32;
const H = 4;
const HD = 8;
const M = 40;
const LAYERS = 2;
const llamaConfig = {
  architectures: ['LlamaForCausalLM'],
  model_type: 'llama',
  hidden_size: D,
  num_attention_heads: H,
  num_key_value_heads: 2,
  num_hidden_layers: LAYERS,
  intermediate_size: M,
  vocab_size: V,
  rope_theta: 500000,
  rms_norm_eps: 1e-5,
  max_position_embeddings: 64,
  tie_word_embeddings: true,
  bos_token_id: 1,
  eos_token_id: [2, 3],
};

function llamaTensors(seed: number) {
  const rand = mulberry32(seed);
  const t = (name: string, shape: number[], scale: number, center = 0) => ({
    name,
    shape,
    values: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => center + (rand() * 2 - 1) * scale),
  });
  const out = [t('model.embed_tokens.weight', [V, D], 1), t('model.norm.weight', [D], 0.1, 1)];
  for (let i = 0; i < LAYERS; i++) {
    const p = `model.layers.${i}.`;
    out.push(
      t(`${p}input_layernorm.weight`, [D], 0.1, 1),
      t(`${p}self_attn.q_proj.weight`, [H * HD, D], 0.3),
      t(`${p}self_attn.k_proj.weight`, [2 * HD, D], 0.3),
      t(`${p}self_attn.v_proj.weight`, [2 * HD, D], 0.3),
      t(`${p}self_attn.o_proj.weight`, [D, H * HD], 0.3),
      t(`${p}post_attention_layernorm.weight`, [D], 0.1, 1),
      t(`${p}mlp.gate_proj.weight`, [M, D], 0.3),
      t(`${p}mlp.up_proj.weight`, [M, D], 0.3),
      t(`${p}mlp.down_proj.weight`, [D, M], 0.3),
    );
  }
  return out;
}

/** Writes a sharded BF16 llama checkpoint (tied embeddings, GQA) the way Hugging Face lays one out. */
function writeSharded(dir: string, config: object = llamaConfig, mutate?: (ts: ReturnType<typeof llamaTensors>) => void) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  const ts = llamaTensors(9);
  mutate?.(ts);
  const half = Math.ceil(ts.length / 2);
  const shards = [ts.slice(0, half), ts.slice(half)];
  const map: Record<string, string> = {};
  shards.forEach((s, i) => {
    const name = `model-0000${i + 1}-of-00002.safetensors`;
    writeBf16Shard(join(dir, name), s);
    for (const t of s) map[t.name] = name;
  });
  writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: map }));
}

describe('foreign checkpoints', () => {
  it('a BF16 sharded llama checkpoint converts (with a tokenizer warning) and matches the reference forward', async () => {
    const root = tempDir();
    const ckpt = join(root, 'ckpt');
    writeSharded(ckpt);
    const r = convertCheckpoint(ckpt, join(root, 'out'), { dtype: 'fp32' });
    expect(r.warnings.join(' ')).toMatch(/no tokenizer/);
    const s = await ort.InferenceSession.create(join(root, 'out', 'onnx', 'model.onnx'), { logSeverityLevel: 3 });
    const ids = [1, 7, 9, 30, 44, 12];
    const t = (a: number[]) => new ort.Tensor('int64', BigInt64Array.from(a.map(BigInt)), [1, a.length]);
    const feeds: Record<string, ort.Tensor> = {
      input_ids: t(ids),
      attention_mask: t(ids.map(() => 1)),
      position_ids: t(ids.map((_, i) => i)),
      num_logits_to_keep: new ort.Tensor('int64', BigInt64Array.from([0n]), []),
    };
    for (let l = 0; l < LAYERS; l++) {
      feeds[`past_key_values.${l}.key`] = new ort.Tensor('float32', new Float32Array(0), [1, 2, 0, HD]);
      feeds[`past_key_values.${l}.value`] = new ort.Tensor('float32', new Float32Array(0), [1, 2, 0, HD]);
    }
    const out = await s.run(feeds);
    const ref = referenceForward(
      { family: 'llama', vocab: V, d: D, layers: LAYERS, heads: H, kvHeads: 2, headDim: HD, mlp: M, theta: 500000, eps: 1e-5, tied: true },
      loadCheckpoint(ckpt),
      [ids],
      [ids.map(() => 1)],
      [ids.map((_, i) => i)],
      true,
    );
    const logits = out.logits!.data as Float32Array;
    for (let p = 0; p < ids.length; p++) {
      const row = logits.subarray(p * V, (p + 1) * V);
      let diff = 0;
      for (let k = 0; k < V; k++) diff = Math.max(diff, Math.abs(row[k]! - ref[0]![p]![k]!));
      expect(diff).toBeLessThan(2e-3);
      expect(argmax(row)).toBe(argmax(ref[0]![p]!));
    }
  });

  const cases: [string, (dir: string) => void, RegExp][] = [
    ['missing config.json', (d) => mkdirSync(d, { recursive: true }), /config\.json: not found/],
    ['corrupt config.json', (d) => { mkdirSync(d, { recursive: true }); writeFileSync(join(d, 'config.json'), '{nope'); }, /config\.json: not valid JSON/],
    ['unknown family', (d) => writeSharded(d, { ...llamaConfig, model_type: 'gpt2', architectures: ['GPT2LMHeadModel'] }), /unknown model family \(model_type "gpt2"\)/],
    ['missing tensor', (d) => writeSharded(d, llamaConfig, (ts) => ts.splice(ts.findIndex((t) => t.name === 'model.layers.1.mlp.up_proj.weight'), 1)), /missing tensor model\.layers\.1\.mlp\.up_proj\.weight/],
    ['shape mismatch', (d) => writeSharded(d, { ...llamaConfig, intermediate_size: 48 }), /model-0000\d-of-00002\.safetensors: tensor model\.layers\.0\.mlp\.gate_proj\.weight has shape \[40, 32\], expected \[48, 32\]/],
    ['corrupt safetensors', (d) => { writeSharded(d); writeFileSync(join(d, 'model-00002-of-00002.safetensors'), Buffer.from('garbage!garbage')); }, /model-00002-of-00002\.safetensors: not a safetensors file/],
    ['no weights', (d) => { mkdirSync(d, { recursive: true }); writeFileSync(join(d, 'config.json'), JSON.stringify(llamaConfig)); }, /no model\.safetensors or model\.safetensors\.index\.json/],
  ];
  it.each(cases)('%s: one clear UserError line', (_name, setup, message) => {
    const root = tempDir();
    setup(join(root, 'ckpt'));
    let err: unknown;
    try {
      convertCheckpoint(join(root, 'ckpt'), join(root, 'out'), { dtype: 'fp32' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain('\n');
  });
});
