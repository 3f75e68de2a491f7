/**
 * An independent plain-TypeScript transformer forward pass (float64), written from the model definitions
 * (pre-norm RMSNorm, rotate-half RoPE, SwiGLU, GQA; Qwen2's q/k/v biases) and reading safetensors with its own parser. It shares no
 * code with src/models, so agreement with the ONNX graph means something.
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

export interface RefSpec {
  family: 'llada' | 'llama' | 'qwen2' | 'dream';
  vocab: number;
  d: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  mlp: number;
  theta: number;
  eps: number;
  tied: boolean;
  /** Hugging Face's rope_scaling block as config.json spells it (rope_type linear | llama3), or absent. */
  ropeScaling?: Record<string, number | string> | null;
}

/**
 * Inverse rotary frequencies, following transformers' _compute_default_rope_parameters,
 * _compute_linear_scaling_rope_parameters and _compute_llama3_parameters step by step (vectorised "where" form).
 */
export function refInverseFrequencies(spec: RefSpec): number[] {
  const base = Array.from({ length: spec.headDim / 2 }, (_, j) => 1 / spec.theta ** ((2 * j) / spec.headDim));
  const rs = spec.ropeScaling;
  if (!rs) return base;
  const kind = rs.rope_type ?? rs.type;
  const factor = Number(rs.factor);
  if (kind === 'linear') return base.map((f) => f / factor);
  if (kind !== 'llama3') throw new Error(`reference: rope type ${String(kind)}`);
  const lowFreqFactor = Number(rs.low_freq_factor);
  const highFreqFactor = Number(rs.high_freq_factor);
  const oldContextLen = Number(rs.original_max_position_embeddings);
  const lowFreqWavelen = oldContextLen / lowFreqFactor;
  const highFreqWavelen = oldContextLen / highFreqFactor;
  const wavelen = base.map((f) => (2 * Math.PI) / f);
  const invFreqLlama = base.map((f, j) => (wavelen[j]! > lowFreqWavelen ? f / factor : f));
  const smoothFactor = wavelen.map((wl) => (oldContextLen / wl - lowFreqFactor) / (highFreqFactor - lowFreqFactor));
  const smoothed = invFreqLlama.map((f, j) => ((1 - smoothFactor[j]!) * f) / factor + smoothFactor[j]! * f);
  const isMedium = wavelen.map((wl) => !(wl < highFreqWavelen) && !(wl > lowFreqWavelen));
  return invFreqLlama.map((f, j) => (isMedium[j] ? smoothed[j]! : f));
}

function bf16(u: number): number {
  const b = new DataView(new ArrayBuffer(4));
  b.setUint32(0, u << 16);
  return b.getFloat32(0);
}
function f16(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 31;
  const m = h & 1023;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** Loads every tensor of a checkpoint folder (single file or sharded index) as float64 arrays. */
export function loadCheckpoint(dir: string): Map<string, { shape: number[]; data: Float64Array }> {
  const files = existsSync(join(dir, 'model.safetensors.index.json'))
    ? [...new Set(Object.values((JSON.parse(readFileSync(join(dir, 'model.safetensors.index.json'), 'utf8')) as { weight_map: Record<string, string> }).weight_map))]
    : ['model.safetensors'];
  const out = new Map<string, { shape: number[]; data: Float64Array }>();
  for (const f of files) {
    const buf = readFileSync(join(dir, f));
    const n = Number(buf.readBigUInt64LE(0));
    const header = JSON.parse(buf.subarray(8, 8 + n).toString()) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
    for (const [name, t] of Object.entries(header)) {
      if (name === '__metadata__') continue;
      const start = 8 + n + t.data_offsets[0];
      const count = t.shape.reduce((a, b) => a * b, 1);
      const data = new Float64Array(count);
      for (let i = 0; i < count; i++) {
        if (t.dtype === 'F32') data[i] = buf.readFloatLE(start + 4 * i);
        else if (t.dtype === 'BF16') data[i] = bf16(buf.readUInt16LE(start + 2 * i));
        else data[i] = f16(buf.readUInt16LE(start + 2 * i));
      }
      out.set(name, { shape: t.shape, data });
    }
  }
  return out;
}

function names(spec: RefSpec) {
  if (spec.family === 'llada') {
    const p = 'model.transformer.';
    return {
      embed: `${p}wte.weight`,
      norm: `${p}ln_f.weight`,
      head: spec.tied ? `${p}wte.weight` : `${p}ff_out.weight`,
      l: (i: number, w: string) =>
        `${p}blocks.${i}.${{ an: 'attn_norm', q: 'q_proj', k: 'k_proj', v: 'v_proj', o: 'attn_out', fn: 'ff_norm', g: 'ff_proj', u: 'up_proj', d: 'ff_out' }[w]}.weight`,
    };
  }
  return {
    embed: 'model.embed_tokens.weight',
    norm: 'model.norm.weight',
    head: spec.tied ? 'model.embed_tokens.weight' : 'lm_head.weight',
    l: (i: number, w: string) =>
      `model.layers.${i}.${{ an: 'input_layernorm', q: 'self_attn.q_proj', k: 'self_attn.k_proj', v: 'self_attn.v_proj', o: 'self_attn.o_proj', fn: 'post_attention_layernorm', g: 'mlp.gate_proj', u: 'mlp.up_proj', d: 'mlp.down_proj' }[w]}.weight`,
  };
}

/** y = W x for HF Linear weight W [out, in]. */
function linear(w: Float64Array, x: Float64Array, out: number, inp: number): Float64Array {
  const y = new Float64Array(out);
  for (let o = 0; o < out; o++) {
    let s = 0;
    for (let i = 0; i < inp; i++) s += w[o * inp + i]! * x[i]!;
    y[o] = s;
  }
  return y;
}

function rmsnorm(x: Float64Array, w: Float64Array, eps: number): Float64Array {
  let ss = 0;
  for (const v of x) ss += v * v;
  const r = 1 / Math.sqrt(ss / x.length + eps);
  return x.map((v, i) => v * r * w[i]!);
}

function rope(x: Float64Array, heads: number, hd: number, pos: number, invFreq: number[]): void {
  const half = hd / 2;
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < half; i++) {
      const a = pos * invFreq[i]!;
      const c = Math.cos(a);
      const s = Math.sin(a);
      const x1 = x[h * hd + i]!;
      const x2 = x[h * hd + half + i]!;
      x[h * hd + i] = x1 * c - x2 * s;
      x[h * hd + half + i] = x2 * c + x1 * s;
    }
  }
}

/**
 * Full-sequence forward. mask[b][t] = 0 hides key t; causal adds the usual t <= s rule.
 * Returns logits[b][s] as float64 arrays of length vocab.
 */
export function referenceForward(
  spec: RefSpec,
  w: Map<string, { shape: number[]; data: Float64Array }>,
  ids: number[][],
  mask: number[][],
  positions: number[][],
  causal: boolean,
): Float64Array[][] {
  const n = names(spec);
  const W = (k: string) => {
    const t = w.get(k);
    if (!t) throw new Error(`reference: missing ${k}`);
    return t.data;
  };
  const { d, heads: H, kvHeads: KV, headDim: hd } = spec;
  const invFreq = refInverseFrequencies(spec);
  return ids.map((row, b) => {
    const L = row.length;
    let x = row.map((id) => W(n.embed).slice(id * d, (id + 1) * d));
    for (let l = 0; l < spec.layers; l++) {
      const h = x.map((v) => rmsnorm(v, W(n.l(l, 'an')), spec.eps));
      // Qwen2 and Dream: q_proj, k_proj and v_proj carry biases (added before RoPE).
      const bias = (y: Float64Array, which: string) => {
        if (spec.family !== 'qwen2' && spec.family !== 'dream') return y;
        const b = W(`model.layers.${l}.self_attn.${which}_proj.bias`);
        return y.map((val, i) => val + b[i]!);
      };
      const q = h.map((v, s) => {
        const y = bias(linear(W(n.l(l, 'q')), v, H * hd, d), 'q');
        rope(y, H, hd, positions[b]![s]!, invFreq);
        return y;
      });
      const k = h.map((v, s) => {
        const y = bias(linear(W(n.l(l, 'k')), v, KV * hd, d), 'k');
        rope(y, KV, hd, positions[b]![s]!, invFreq);
        return y;
      });
      const v = h.map((u) => bias(linear(W(n.l(l, 'v')), u, KV * hd, d), 'v'));
      const attn = q.map((qs, s) => {
        const o = new Float64Array(H * hd);
        for (let hh = 0; hh < H; hh++) {
          const kh = Math.floor(hh / (H / KV));
          const scores: number[] = [];
          for (let t = 0; t < L; t++) {
            const allowed = mask[b]![t] === 1 && (!causal || t <= s);
            let dot = 0;
            for (let i = 0; i < hd; i++) dot += qs[hh * hd + i]! * k[t]![kh * hd + i]!;
            scores.push(allowed ? dot / Math.sqrt(hd) : -Infinity);
          }
          const m = Math.max(...scores);
          const e = scores.map((z) => (z === -Infinity ? 0 : Math.exp(z - m)));
          const z = e.reduce((a, c) => a + c, 0);
          for (let t = 0; t < L; t++) {
            if (!e[t]) continue;
            for (let i = 0; i < hd; i++) o[hh * hd + i]! += (e[t]! / z) * v[t]![kh * hd + i]!;
          }
        }
        return o;
      });
      x = x.map((xs, s) => {
        const ao = linear(W(n.l(l, 'o')), attn[s]!, d, H * hd);
        const r = xs.map((val, i) => val + ao[i]!);
        const hn = rmsnorm(r, W(n.l(l, 'fn')), spec.eps);
        const g = linear(W(n.l(l, 'g')), hn, spec.mlp, d);
        const u = linear(W(n.l(l, 'u')), hn, spec.mlp, d);
        const act = g.map((gv, i) => (gv / (1 + Math.exp(-gv))) * u[i]!);
        const dn = linear(W(n.l(l, 'd')), act, d, spec.mlp);
        return r.map((val, i) => val + dn[i]!);
      });
    }
    return x.map((xs) => linear(W(n.head), rmsnorm(xs, W(n.norm), spec.eps), spec.vocab, d));
  });
}

/** Masked rows (all keys hidden) are undefined in any implementation; callers compare only unmasked queries. */
export function softmax(logits: Float64Array): Float64Array {
  let m = -Infinity;
  for (const v of logits) m = Math.max(m, v);
  const e = logits.map((v) => Math.exp(v - m));
  const z = e.reduce((a, c) => a + c, 0);
  return e.map((v) => v / z);
}

export function argmax(a: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i]! > a[best]!) best = i;
  return best;
}
