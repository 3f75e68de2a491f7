/**
 * One transformer emitter for both families (pre-norm RMSNorm, rotate-half RoPE, SwiGLU) and both graph kinds:
 *  - 'diffusion': bidirectional attention with a padding mask, ending in a fused sampling head that outputs x0 and
 *    its confidence per position ([B, L]) so that only 12 bytes per position leave the device each step;
 *  - 'causal': a KV-cache decoder in the I/O layout transformers.js loads (past_key_values.N.key -> present.N.key).
 * Fused contrib ops where onnxruntime's CPU provider runs them (SimplifiedLayerNormalization,
 * SkipSimplifiedLayerNormalization, RotaryEmbedding, MultiHeadAttention, GroupQueryAttention): they are what is
 * fast on GPUs.
 */
import type { AttentionImpl } from '../config/kinds.js';
import { DataType, type DataTypeCode, Graph, f } from '../onnx/graph.js';
import { type OnnxDtype, encodeWeights, toFloat32, transpose2d } from './dtype.js';
import { type WeightRole, expectedShape, familyOf, layouts } from './families.js';
import type { SafetensorsReader } from './safetensors.js';
import { type TransformerSpec, ropeInverseFrequencies } from './spec.js';
import { at } from '../util/indexing.js';

export type GraphKind = 'diffusion' | 'causal';

export interface EmitOptions {
  kind: GraphKind;
  dtype: OnnxDtype;
  /** 'auto': fused com.microsoft attention (see attentionImpl); 'plain': MatMul/Softmax (the unfused reference). */
  attention?: 'auto' | 'plain';
  /**
   * Diffusion only: the Fast-dLLM cached forward (see emitCachedDiffusion). It takes every layer's K/V cache
   * (past_key_values.N.*, [B, KV, C, hd]) and a cache_offset; the fed positions' fresh K/V replace cache rows
   * offset..offset+S-1 (C = 0: no cache, the block-start full forward) and every query attends to all the rows.
   * It returns the spliced K/V (present.N.*) and samples only logits_length positions from logits_start.
   */
  cache?: boolean;
}

export const OPSETS: [string, number][] = [
  ['', 18],
  ['com.microsoft', 1],
];

/** Graph input/output names shared with the engines. */
export const IO = {
  inputIds: 'input_ids',
  attentionMask: 'attention_mask',
  positionIds: 'position_ids',
  logitsStart: 'logits_start',
  cfgScale: 'cfg_scale',
  temperature: 'temperature',
  noiseSeed: 'noise_seed',
  numLogitsToKeep: 'num_logits_to_keep',
  cacheOffset: 'cache_offset',
  logitsLength: 'logits_length',
  x0: 'x0',
  confidence: 'confidence',
  logits: 'logits',
  pastKey: (i: number) => `past_key_values.${i}.key`,
  pastValue: (i: number) => `past_key_values.${i}.value`,
  presentKey: (i: number) => `present.${i}.key`,
  presentValue: (i: number) => `present.${i}.value`,
} as const;

/** Large negative additive bias for masked attention scores (finite, so fully masked rows stay NaN-free). */
const MASK_VALUE = { fp32: -1e9, fp16: -65000 } as const;

/** Which attention kernel a graph uses (one enum, in config/kinds.ts). */
export type { AttentionImpl };

/**
 * 'auto': causal graphs with fewer KV heads than heads use com.microsoft GroupQueryAttention (what fast GQA graphs
 * use on CPU and CUDA); every other graph uses MultiHeadAttention. GroupQueryAttention always applies a causal mask
 * over past + new keys (it has no bidirectional mode), so a diffusion graph with GQA expands its KV heads and uses
 * MultiHeadAttention instead: same fused class, H/KV times the K/V bytes.
 */
export function attentionImpl(spec: TransformerSpec, kind: GraphKind, attention: 'auto' | 'plain' = 'auto'): AttentionImpl {
  if (attention === 'plain') return 'unfused';
  if (kind === 'diffusion' || spec.numKvHeads === spec.numHeads) return 'fused-mha';
  // onnxruntime's GroupQueryAttention kernels need head_size % 8 == 0 (every real Llama has 64 or 128); the
  // cache layout [B, KV, T, hd] rules out MultiHeadAttention over expanded heads, so such toy shapes run unfused.
  return spec.headDim % 8 === 0 ? 'fused-gqa' : 'unfused';
}

/** Where the decoder stack's weights live (the model graph, also when the ops are emitted into a Loop body). */
export interface WeightSource {
  layer(i: number, role: WeightRole): string;
  named(name: string, shape: number[], transpose: boolean, onnxName?: string): string;
  cosCache: string;
  sinCache: string;
}

export function weightSource(g: Graph, spec: TransformerSpec, weights: SafetensorsReader, dtype: OnnxDtype): WeightSource {
  const dt: DataTypeCode = dtype === 'fp16' ? DataType.FLOAT16 : DataType.FLOAT;
  const layout = layouts[spec.family];
  /** Registers a checkpoint tensor as an initializer; shape checked now, bytes read when written. */
  const named = (name: string, shape: number[], transpose: boolean, onnxName = name): string => {
    weights.entry(name, shape);
    return g.init({
      name: onnxName,
      dtype: dt,
      dims: transpose ? [at(shape, 1, 'shape'), at(shape, 0, 'shape')] : shape,
      data: () => {
        const e = weights.entry(name);
        let v = toFloat32(weights.read(name), e.dtype);
        if (transpose) v = transpose2d(v, at(shape, 0, 'shape'), at(shape, 1, 'shape'));
        return encodeWeights(v, dtype);
      },
    });
  };
  // Rotary caches [maxPositions, headDim/2] from the (scaled) inverse frequencies, computed in float64.
  const half = spec.headDim / 2;
  const inv = ropeInverseFrequencies(spec);
  const cosV = new Float32Array(spec.maxPositions * half);
  const sinV = new Float32Array(spec.maxPositions * half);
  for (let p = 0; p < spec.maxPositions; p++) {
    for (let i = 0; i < half; i++) {
      cosV[p * half + i] = Math.cos(p * at(inv, i, 'inv'));
      sinV[p * half + i] = Math.sin(p * at(inv, i, 'inv'));
    }
  }
  return {
    named,
    layer: (i, role) => {
      const shape = expectedShape(spec, role);
      return named(layout.layer(i, role), shape, shape.length === 2);
    },
    cosCache: g.init({ name: 'rotary_cos_cache', dtype: dt, dims: [spec.maxPositions, half], data: encodeWeights(cosV, dtype) }),
    sinCache: g.init({ name: 'rotary_sin_cache', dtype: dt, dims: [spec.maxPositions, half], data: encodeWeights(sinV, dtype) }),
  };
}

/** Value names the decoder stack reads and writes. Causal graphs name one past and one present K/V per layer. */
export interface DecoderIo {
  ids: string;
  mask: string;
  pos: string;
  cache?: { pastKey(i: number): string; pastValue(i: number): string; presentKey(i: number): string; presentValue(i: number): string };
  /**
   * Cached diffusion only (Fast-dLLM): the fed positions' fresh K/V replace rows offset..offset+S-1 of each layer's
   * cache (past_key_values.N.* -> present.N.*), and every query attends to all the rows.
   */
  spliceOffset?: string;
}

/**
 * The decoder stack (embedding, layers, final norm) emitted into g, weights taken from w. Returns the final hidden
 * state [B, S, d]. Shared by the model graph and the ar-loop graph's Loop body (one builder).
 */
export function emitDecoderStack(g: Graph, w: WeightSource, spec: TransformerSpec, kind: GraphKind, impl: AttentionImpl, dtype: OnnxDtype, io: DecoderIo): string {
  const dt: DataTypeCode = dtype === 'fp16' ? DataType.FLOAT16 : DataType.FLOAT;
  const layout = layouts[spec.family];
  const { numHeads: H, numKvHeads: KV, headDim: hd } = spec;
  const causal = kind === 'causal';
  const { ids, mask, pos } = io;

  // ---- attention masks, built once and shared by every layer
  const negative = g.constOfType(MASK_VALUE[dtype], dt);
  const zero = g.constOfType(0, dt);
  const maskBool = g.op('Cast', [mask], { to: DataType.BOOL });
  let bias: string; // additive [B, 1, S or 1, T]
  let T = '';
  if (!causal) {
    const keep = g.op('Unsqueeze', [maskBool, g.constI64([1, 2])]); // [B,1,1,L]
    bias = g.op('Where', [keep, zero, negative]);
  } else {
    const shapeT = g.op('Shape', [mask], { start: 1, end: 2 }); // [1] total length T
    const shapeS = g.op('Shape', [ids], { start: 1, end: 2 }); // [1] new tokens S
    T = g.op('Squeeze', [shapeT, g.constI64([0])]);
    const S = g.op('Squeeze', [shapeS, g.constI64([0])]);
    const P = g.op('Sub', [T, S]);
    const one = g.constI64([1], []);
    const zeroI = g.constI64([0], []);
    const tIdx = g.op('Unsqueeze', [g.op('Range', [zeroI, T, one]), g.constI64([0])]); // [1,T]
    const sIdx = g.op('Unsqueeze', [g.op('Range', [P, T, one]), g.constI64([1])]); // [S,1]
    const causalMask = g.op('LessOrEqual', [tIdx, sIdx]); // [S,T]
    const keep = g.op('Unsqueeze', [maskBool, g.constI64([1, 2])]); // [B,1,1,T]
    bias = g.op('Where', [g.op('And', [causalMask, keep]), zero, negative]); // [B,1,S,T]
  }
  const kpm = !causal && impl === 'fused-mha' ? g.op('Cast', [mask], { to: DataType.INT32 }) : '';
  // GroupQueryAttention sees every row as T long (seqlens_k = T - 1, keys [0, T)). Rotary is applied outside
  // (do_rotary = 0), from position_ids, so left-padded rows keep their own positions.
  let gqaLens: [string, string, string] | null = null;
  if (impl === 'fused-gqa') {
    const batch = g.op('Shape', [ids], { start: 0, end: 1 });
    const last = g.op('Sub', [T, g.constI64([1], [])]);
    const unpadded = g.op('Equal', [g.op('ReduceMin', [mask], { keepdims: 0 }), g.constI64([1], [])]);
    gqaLens = [g.op('Cast', [g.op('Expand', [last, batch])], { to: DataType.INT32 }), g.op('Cast', [T], { to: DataType.INT32 }), unpadded];
  }

  /** MatMul/Softmax attention in gr (the unfused reference; also the padded-batch branch of the GQA path). */
  const plainAttention = (gr: Graph, i: number, q: string, k: string, v: string, present: [string, string] | null): string => {
    const heads = (x: string, n: number) =>
      gr.op('Transpose', [gr.op('Reshape', [x, gr.constI64([0, 0, n, hd])])], { perm: [0, 2, 1, 3] });
    const qh = heads(q, H);
    let kh = heads(k, KV);
    let vh = heads(v, KV);
    if (causal) {
      const c = io.cache!;
      kh = at(gr.node('Concat', [c.pastKey(i), kh], { axis: 2 }, { outputs: [present![0]] }), 0, 'node outputs');
      vh = at(gr.node('Concat', [c.pastValue(i), vh], { axis: 2 }, { outputs: [present![1]] }), 0, 'node outputs');
    }
    if (KV < H) {
      // Grouped-query attention: each KV head serves H/KV query heads.
      const rep = (x: string) =>
        gr.op('Reshape', [gr.op('Expand', [gr.op('Unsqueeze', [x, gr.constI64([2])]), gr.constI64([1, 1, H / KV, 1, 1])]), gr.constI64([0, H, -1, hd])]);
      kh = rep(kh);
      vh = rep(vh);
    }
    const scale = gr.constOfType(1 / Math.sqrt(hd), dt);
    const scores = gr.op('Add', [gr.op('Mul', [gr.op('MatMul', [qh, gr.op('Transpose', [kh], { perm: [0, 1, 3, 2] })]), scale]), bias]);
    const ctx = gr.op('MatMul', [gr.op('Softmax', [scores], { axis: -1 }), vh]);
    return gr.op('Reshape', [gr.op('Transpose', [ctx], { perm: [0, 2, 1, 3] }), gr.constI64([0, 0, H * hd])]);
  };

  const attention = (i: number, q: string, k: string, v: string): string => {
    const c = io.cache;
    if (causal && !c) throw new Error('causal decoder stack without cache names');
    if (io.spliceOffset !== undefined) {
      const kAll = spliceCache(g, IO.pastKey(i), k, io.spliceOffset, KV, hd, dt, IO.presentKey(i));
      const vAll = spliceCache(g, IO.pastValue(i), v, io.spliceOffset, KV, hd, dt, IO.presentValue(i));
      if (impl === 'fused-mha' && KV === H) {
        // Key and value in BNSH layout (as cross-attention takes them); key_padding_mask [B, T].
        return at(g.node('MultiHeadAttention', [q, kAll, vAll, '', kpm], { num_heads: H, scale: f(1 / Math.sqrt(hd)) }, { outputs: 1, domain: 'com.microsoft' }), 0, 'node outputs');
      }
      return attendBnsh(g, q, kAll, vAll, bias, H, KV, hd, g.constOfType(1 / Math.sqrt(hd), dt));
    }
    if (impl === 'fused-gqa') {
      // GroupQueryAttention's CUDA kernel takes no attention bias, and without one it cannot hide left padding.
      // Rows of equal length (batch 1, or a batch without padding) need none: its built-in causal mask is exact.
      // A left-padded batch takes the MatMul/Softmax branch with the bias instead, on every provider alike.
      const [seqlensK, total, unpadded] = gqaLens!;
      const outs = [g.fresh('attn'), c!.presentKey(i), c!.presentValue(i)];
      const fusedBranch = new Graph(`gqa_${i}`, `${g.fresh('gqa')}_`);
      const fo = [fusedBranch.fresh('attn'), fusedBranch.fresh('present_key'), fusedBranch.fresh('present_value')];
      fusedBranch.node('GroupQueryAttention', [q, k, v, c!.pastKey(i), c!.pastValue(i), seqlensK, total], { num_heads: H, kv_num_heads: KV, scale: f(1 / Math.sqrt(hd)) }, { outputs: fo, domain: 'com.microsoft' });
      const paddedBranch = new Graph(`gqa_padded_${i}`, `${g.fresh('gqa_padded')}_`);
      const po: [string, string] = [paddedBranch.fresh('present_key'), paddedBranch.fresh('present_value')];
      const pa = plainAttention(paddedBranch, i, q, k, v, po);
      for (const [gr, names] of [[fusedBranch, fo], [paddedBranch, [pa, ...po]]] as const) {
        for (const n of names) gr.output(n, dt);
      }
      return at(g.node('If', [unpadded], { then_branch: fusedBranch, else_branch: paddedBranch }, { outputs: outs }), 0, 'node outputs');
    }
    if (impl === 'fused-mha') {
      let [kf, vf] = [k, v];
      if (!causal && KV < H) {
        // Expand KV heads for MultiHeadAttention: head h reads KV head floor(h / (H / KV)).
        const rep = (x: string) =>
          g.op('Reshape', [g.op('Expand', [g.op('Reshape', [x, g.constI64([0, 0, KV, 1, hd])]), g.constI64([1, 1, 1, H / KV, 1])]), g.constI64([0, 0, H * hd])]);
        kf = rep(k);
        vf = rep(v);
      }
      const inputs = causal ? [q, kf, vf, '', '', bias, c!.pastKey(i), c!.pastValue(i)] : [q, kf, vf, '', kpm];
      const outs = causal ? [g.fresh('attn'), c!.presentKey(i), c!.presentValue(i)] : [g.fresh('attn')];
      return at(g.node('MultiHeadAttention', inputs, { num_heads: H, scale: f(1 / Math.sqrt(hd)) }, { outputs: outs, domain: 'com.microsoft' }), 0, 'node outputs');
    }
    return plainAttention(g, i, q, k, v, causal ? [c!.presentKey(i), c!.presentValue(i)] : null);
  };

  // ---- decoder stack
  const eps = f(spec.rmsNormEps);
  const { qkvBias } = familyOf(spec.family).features;
  const embed = w.named(layout.embed, expectedShape(spec, 'embed'), false);
  let residual = g.op('Gather', [embed, ids]);
  let delta: string | null = null;
  const norm = (gamma: string): string => {
    if (delta === null) return g.op('SimplifiedLayerNormalization', [residual, gamma], { axis: -1, epsilon: eps });
    const [out, , , sum] = g.node('SkipSimplifiedLayerNormalization', [residual, delta, gamma], { epsilon: eps }, {
      outputs: [g.fresh('norm'), '', '', g.fresh('residual')],
      domain: 'com.microsoft',
    });
    residual = sum!;
    delta = null;
    return out!;
  };
  for (let i = 0; i < spec.numLayers; i++) {
    const h = norm(w.layer(i, 'attnNorm'));
    const rope = (x: string, n: number) =>
      g.op('RotaryEmbedding', [x, pos, w.cosCache, w.sinCache], { interleaved: 0, num_heads: n }, 'com.microsoft');
    // Families with QKV biases (Qwen2) add them before RoPE, as their modeling code does.
    const proj = (role: 'q' | 'k' | 'v') => {
      const y = g.op('MatMul', [h, w.layer(i, role)]);
      return qkvBias ? g.op('Add', [y, w.layer(i, `${role}Bias`)]) : y;
    };
    const q = rope(proj('q'), H);
    const k = rope(proj('k'), KV);
    const v = proj('v');
    delta = g.op('MatMul', [attention(i, q, k, v), w.layer(i, 'o')]);
    const h2 = norm(w.layer(i, 'mlpNorm'));
    const gate = g.op('MatMul', [h2, w.layer(i, 'gate')]);
    const up = g.op('MatMul', [h2, w.layer(i, 'up')]);
    const act = g.op('Mul', [g.op('Mul', [gate, g.op('Sigmoid', [gate])]), up]);
    delta = g.op('MatMul', [act, w.layer(i, 'down')]);
  }
  return norm(w.named(layout.finalNorm, [spec.hiddenSize], false));
}

/** The LM head weight, transposed to [d, V] (the embedding when tied). */
export function headWeight(w: WeightSource, spec: TransformerSpec): string {
  const layout = layouts[spec.family];
  return w.named(spec.tieWordEmbeddings ? layout.embed : layout.head, expectedShape(spec, 'head'), true, 'lm_head_t');
}

export function emitTransformer(spec: TransformerSpec, weights: SafetensorsReader, opts: EmitOptions): Graph {
  const g = new Graph(opts.kind === 'diffusion' ? 'llada_diffusion' : 'llama_decoder');
  const dt: DataTypeCode = opts.dtype === 'fp16' ? DataType.FLOAT16 : DataType.FLOAT;
  const { numKvHeads: KV, headDim: hd } = spec;
  const impl = attentionImpl(spec, opts.kind, opts.attention);

  // ---- inputs
  // Symbolic dim names matter: transformers.js sizes the empty first-step cache by resolving 'batch_size'.
  const ids = g.input(IO.inputIds, DataType.INT64, ['batch_size', 'sequence_length']);
  const cached = opts.kind === 'diffusion' && opts.cache === true;
  const mask = g.input(IO.attentionMask, DataType.INT64, ['batch_size', opts.kind === 'causal' || cached ? 'total_sequence_length' : 'sequence_length']);
  const pos = g.input(IO.positionIds, DataType.INT64, ['batch_size', 'sequence_length']);
  const io: DecoderIo = { ids, mask, pos };
  if (cached) io.spliceOffset = g.input(IO.cacheOffset, DataType.INT64, [1]);
  if (opts.kind === 'causal') {
    for (let i = 0; i < spec.numLayers; i++) {
      g.input(IO.pastKey(i), dt, ['batch_size', KV, 'past_sequence_length', hd]);
      g.input(IO.pastValue(i), dt, ['batch_size', KV, 'past_sequence_length', hd]);
      g.output(IO.presentKey(i), dt, ['batch_size', KV, 'total_sequence_length', hd]);
      g.output(IO.presentValue(i), dt, ['batch_size', KV, 'total_sequence_length', hd]);
    }
    io.cache = { pastKey: IO.pastKey, pastValue: IO.pastValue, presentKey: IO.presentKey, presentValue: IO.presentValue };
  }
  const w = weightSource(g, spec, weights, opts.dtype);
  let hidden = emitDecoderStack(g, w, spec, opts.kind, impl, opts.dtype, io);

  const head = headWeight(w, spec);

  if (opts.kind === 'causal') {
    // num_logits_to_keep (transformers.js sets 1): the head runs on the last n positions only; 0 keeps all.
    const keep = g.input(IO.numLogitsToKeep, DataType.INT64, []);
    const from = g.op('Unsqueeze', [g.op('Neg', [keep]), g.constI64([0])]);
    const tail = g.op('Slice', [hidden, from, g.constI64([2 ** 53]), g.constI64([1])]);
    const logits = g.op('MatMul', [tail, head]);
    g.node('Cast', [logits], { to: DataType.FLOAT }, { outputs: [IO.logits] });
    g.output(IO.logits, DataType.FLOAT, ['batch_size', 'logits_length', spec.vocabSize]);
    return g;
  }

  // ---- diffusion: logits only for positions >= logits_start (the generated region), then the sampling head.
  const start = g.input(IO.logitsStart, DataType.INT64, [1]);
  const cfg = g.input(IO.cfgScale, DataType.FLOAT, [1]);
  const temperature = g.input(IO.temperature, DataType.FLOAT, [1]);
  const seed = g.input(IO.noiseSeed, DataType.INT64, [1]);
  const end = cached ? g.op('Add', [start, g.input(IO.logitsLength, DataType.INT64, [1])]) : g.constI64([2 ** 53]);
  if (familyOf(spec.family).features.logitShift) {
    // Position i reads the row before it (position 0 itself), over the fed sequence, as Dream and Fast-dLLM do.
    const axis = g.constI64([1]);
    hidden = g.op('Concat', [g.op('Slice', [hidden, g.constI64([0]), g.constI64([1]), axis]), g.op('Slice', [hidden, g.constI64([0]), g.constI64([-1]), axis])], { axis: 1 });
  }
  hidden = g.op('Slice', [hidden, start, end, g.constI64([1])]);
  const raw = g.op('Cast', [g.op('MatMul', [hidden, head])], { to: DataType.FLOAT });

  // Classifier-free guidance: rows [0, B) are conditional, [B, 2B) the same with the prompt masked.
  const cfgThen = new Graph('cfg_then', 'cfg_');
  {
    const [cond, uncond] = cfgThen.node('Split', [raw], { axis: 0, num_outputs: 2 }, { outputs: 2 });
    const s1 = cfgThen.op('Add', [cfg, cfgThen.constF32([1], [])]);
    cfgThen.node('Add', [uncond!, cfgThen.op('Mul', [s1, cfgThen.op('Sub', [cond!, uncond!])])], {}, { outputs: ['cfg_guided'] });
    cfgThen.output('cfg_guided', DataType.FLOAT);
  }
  const cfgElse = new Graph('cfg_else', 'nocfg_');
  cfgElse.node('Identity', [raw], {}, { outputs: ['cfg_plain'] });
  cfgElse.output('cfg_plain', DataType.FLOAT);
  const zeroF = g.constF32([0], []);
  const logits = at(g.node('If', [g.op('Greater', [g.op('Squeeze', [cfg]), zeroF])], { then_branch: cfgThen, else_branch: cfgElse }, { outputs: [IO.logits] }), 0, 'node outputs');

  // Temperature: Gumbel-max, argmax(logits + T * g). The noise comes from a counter-based integer hash of
  // (seed, flat index) so that a seed reproduces a run on any device without shipping [B, L, V] noise.
  const noisyThen = new Graph('gumbel_then', 'gumbel_');
  {
    const n = noisyThen;
    const shape = n.op('Shape', [logits]);
    const count = n.op('ReduceProd', [shape], { keepdims: 0 });
    const idx = n.op('Reshape', [n.op('Range', [n.constI64([0], []), count, n.constI64([1], [])]), shape]);
    const M = n.constI64([0xffffffff], []);
    const shr = (x: string, bits: number) => n.op('Div', [x, n.constI64([2 ** bits], [])]);
    const xor = (a: string, b: string) => n.op('BitwiseXor', [a, b]);
    const mulMask = (x: string, c: number) => n.op('BitwiseAnd', [n.op('Mul', [x, n.constI64([c], [])]), M]);
    let x = n.op('BitwiseAnd', [n.op('Add', [n.op('Mul', [idx, n.constI64([0x9e3779b1 >>> 1], [])]), n.op('Mul', [seed, n.constI64([0x27d4eb2f], [])])]), M]);
    x = xor(x, shr(x, 16));
    x = mulMask(x, 0x21f0aaad);
    x = xor(x, shr(x, 15));
    x = mulMask(x, 0x735a2d97);
    x = xor(x, shr(x, 15));
    // 24 high bits -> exactly representable uniform in (0, 1).
    const u = n.op('Div', [n.op('Add', [n.op('Cast', [shr(x, 8)], { to: DataType.FLOAT }), n.constF32([0.5], [])]), n.constF32([2 ** 24], [])]);
    const gumbel = n.op('Neg', [n.op('Log', [n.op('Neg', [n.op('Log', [u])])])]);
    n.node('Add', [logits, n.op('Mul', [gumbel, temperature])], {}, { outputs: ['gumbel_scores'] });
    n.output('gumbel_scores', DataType.FLOAT);
  }
  const plainElse = new Graph('greedy_else', 'greedy_');
  plainElse.node('Identity', [logits], {}, { outputs: ['greedy_scores'] });
  plainElse.output('greedy_scores', DataType.FLOAT);
  const scores = at(g.node('If', [g.op('Greater', [g.op('Squeeze', [temperature]), zeroF])], { then_branch: noisyThen, else_branch: plainElse }, { outputs: 1 }), 0, 'node outputs');

  // x0 = argmax of the (noised) scores; confidence = softmax(un-noised logits)[x0].
  g.node('ArgMax', [scores], { axis: -1, keepdims: 0 }, { outputs: [IO.x0] });
  const lse = g.op('ReduceLogSumExp', [logits, g.constI64([-1])], { keepdims: 1 });
  const picked = g.op('GatherElements', [logits, g.op('Unsqueeze', [IO.x0, g.constI64([-1])])], { axis: -1 });
  g.node('Squeeze', [g.op('Exp', [g.op('Sub', [picked, lse])]), g.constI64([-1])], {}, { outputs: [IO.confidence] });
  g.output(IO.x0, DataType.INT64, ['batch_size', 'gen_length']);
  g.output(IO.confidence, DataType.FLOAT, ['batch_size', 'gen_length']);
  g.output(IO.logits, DataType.FLOAT, ['batch_size', 'gen_length', spec.vocabSize]);
  return g;
}

/**
 * The Fast-dLLM cached diffusion forward (NVlabs/Fast-dLLM, arXiv 2505.22618), from the same emitter:
 *  - block start: no cache (C = 0), all L positions fed; returns every layer's K/V;
 *  - prefix cache: positions s..L-1 fed with the block-start cache (offset s): rows 0..s-1 come from the cache;
 *  - dual cache: only the block s..e-1 fed (offset s): its rows are replaced, prefix and suffix come from the cache.
 * Rotary positions are the fed position_ids (absolute), never restarted at 0.
 */
export function emitCachedDiffusion(spec: TransformerSpec, weights: SafetensorsReader, opts: Omit<EmitOptions, 'kind' | 'cache'>): Graph {
  return emitTransformer(spec, weights, { ...opts, kind: 'diffusion', cache: true });
}

/**
 * keys = past[:, :, :offset] ++ fresh ++ past[:, :, offset+S:], fresh [B, S, KV*hd] -> [B, KV, T, hd] named `out`.
 * With an empty past this is the fresh K/V itself; with S = C - offset (prefix mode) the tail is empty.
 */
function spliceCache(g: Graph, past: string, fresh: string, offset: string, KV: number, hd: number, dt: DataTypeCode, out: string): string {
  g.input(past, dt, ['batch_size', KV, 'cache_length', hd]);
  g.output(out, dt, ['batch_size', KV, 'total_sequence_length', hd]);
  const heads = g.op('Transpose', [g.op('Reshape', [fresh, g.constI64([0, 0, KV, hd])])], { perm: [0, 2, 1, 3] });
  const S = g.op('Shape', [fresh], { start: 1, end: 2 });
  const axis = g.constI64([2]);
  const head = g.op('Slice', [past, g.constI64([0]), offset, axis]);
  const tail = g.op('Slice', [past, g.op('Add', [offset, S]), g.constI64([2 ** 53]), axis]);
  return at(g.node('Concat', [head, heads, tail], { axis: 2 }, { outputs: [out] }), 0, 'node outputs');
}

/** Scaled dot-product attention over [B, KV, T, hd] keys and values (grouped-query when KV < H), plain ops. */
function attendBnsh(g: Graph, q: string, kh: string, vh: string, bias: string, H: number, KV: number, hd: number, scale: string): string {
  const qh = g.op('Transpose', [g.op('Reshape', [q, g.constI64([0, 0, H, hd])])], { perm: [0, 2, 1, 3] });
  if (KV < H) {
    const rep = (x: string) =>
      g.op('Reshape', [g.op('Expand', [g.op('Unsqueeze', [x, g.constI64([2])]), g.constI64([1, 1, H / KV, 1, 1])]), g.constI64([0, H, -1, hd])]);
    kh = rep(kh);
    vh = rep(vh);
  }
  const scores = g.op('Add', [g.op('Mul', [g.op('MatMul', [qh, g.op('Transpose', [kh], { perm: [0, 1, 3, 2] })]), scale]), bias]);
  const ctx = g.op('MatMul', [g.op('Softmax', [scores], { axis: -1 }), vh]);
  return g.op('Reshape', [g.op('Transpose', [ctx], { perm: [0, 2, 1, 3] }), g.constI64([0, 0, H * hd])]);
}
