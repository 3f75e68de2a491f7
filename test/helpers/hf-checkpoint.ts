/**
 * Checkpoints in native Hugging Face layout, written here independently of src/models: BF16 safetensors
 * (round-to-nearest-even truncation of float32), sharded with a model.safetensors.index.json as the hub stores them.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mulberry32 } from '../../src/util/random.js';
import type { RefSpec } from './reference-forward.js';

export interface HfTensor {
  name: string;
  shape: number[];
  values: Float32Array;
}

export function writeBf16Shard(file: string, tensors: HfTensor[]): void {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let off = 0;
  const bufs: Buffer[] = [];
  for (const t of tensors) {
    const b = Buffer.alloc(t.values.length * 2);
    const u32 = new Uint32Array(t.values.buffer, t.values.byteOffset, t.values.length);
    for (let i = 0; i < u32.length; i++) {
      const u = u32[i]!;
      b.writeUInt16LE(((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff, i * 2);
    }
    header[t.name] = { dtype: 'BF16', shape: t.shape, data_offsets: [off, off + b.length] };
    off += b.length;
    bufs.push(b);
  }
  const h = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  writeFileSync(file, Buffer.concat([len, h, ...bufs]));
}

/** config.json + `shards` BF16 shards + index; returns the shard file names. */
export function writeShardedCheckpoint(dir: string, config: object, tensors: HfTensor[], shards = 2): string[] {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  const per = Math.ceil(tensors.length / shards);
  const map: Record<string, string> = {};
  const files: string[] = [];
  for (let s = 0; s < shards; s++) {
    const name = `model-${String(s + 1).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}.safetensors`;
    const part = tensors.slice(s * per, (s + 1) * per);
    writeBf16Shard(join(dir, name), part);
    for (const t of part) map[t.name] = name;
    files.push(name);
  }
  writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: 0 }, weight_map: map }, null, 2));
  return files;
}

/** The shape fields of a reference spec: what a checkpoint's tensors need. */
export type DecoderShape = Pick<RefSpec, 'vocab' | 'd' | 'layers' | 'heads' | 'kvHeads' | 'headDim' | 'mlp'>;

/** The config.json fields a Qwen2-layout checkpoint (Qwen2, Dream) of this shape states; add the family's own. */
export function qwen2LayoutConfig(s: DecoderShape, tied: boolean): Record<string, unknown> {
  return {
    hidden_size: s.d,
    num_attention_heads: s.heads,
    num_key_value_heads: s.kvHeads,
    num_hidden_layers: s.layers,
    intermediate_size: s.mlp,
    vocab_size: s.vocab,
    rope_theta: 1000000,
    rms_norm_eps: 1e-6,
    max_position_embeddings: 128,
    tie_word_embeddings: tied,
  };
}

/**
 * Seeded uniform weights under transformers' Qwen2 / Llama names (model.layers.N.self_attn.q_proj.weight, ...),
 * with q/k/v biases when `bias`, and an lm_head unless `tied`.
 */
export function hfDecoderTensors(s: DecoderShape, seed: number, opts: { bias: boolean; tied: boolean }): HfTensor[] {
  const rand = mulberry32(seed);
  const t = (name: string, shape: number[], scale: number, center = 0): HfTensor => ({
    name,
    shape,
    values: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => center + (rand() * 2 - 1) * scale),
  });
  const { vocab: V, d: D, heads: H, kvHeads: KV, headDim: HD, mlp: M } = s;
  const out = [t('model.embed_tokens.weight', [V, D], 1), t('model.norm.weight', [D], 0.1, 1)];
  for (let i = 0; i < s.layers; i++) {
    const p = `model.layers.${i}.`;
    out.push(
      t(`${p}input_layernorm.weight`, [D], 0.1, 1),
      t(`${p}self_attn.q_proj.weight`, [H * HD, D], 0.3),
      t(`${p}self_attn.k_proj.weight`, [KV * HD, D], 0.3),
      t(`${p}self_attn.v_proj.weight`, [KV * HD, D], 0.3),
      t(`${p}self_attn.o_proj.weight`, [D, H * HD], 0.3),
      t(`${p}post_attention_layernorm.weight`, [D], 0.1, 1),
      t(`${p}mlp.gate_proj.weight`, [M, D], 0.3),
      t(`${p}mlp.up_proj.weight`, [M, D], 0.3),
      t(`${p}mlp.down_proj.weight`, [D, M], 0.3),
    );
    if (opts.bias) {
      out.push(t(`${p}self_attn.q_proj.bias`, [H * HD], 0.5), t(`${p}self_attn.k_proj.bias`, [KV * HD], 0.5), t(`${p}self_attn.v_proj.bias`, [KV * HD], 0.5));
    }
  }
  if (!opts.tied) out.push(t('lm_head.weight', [V, D], 0.3));
  return out;
}
