/** The architecture of one model, family-neutral. Everything downstream (graph emitter, FLOPs, engines) reads this. */

/** Model families (one adapter each: models/family/, registered in models/families.ts). */
export const FAMILY_IDS = ['llada', 'llama', 'qwen2', 'dream'] as const;
export type Family = (typeof FAMILY_IDS)[number];

/**
 * Rotary frequency scaling as Hugging Face applies it (transformers' modeling_rope_utils): 'linear' divides every
 * inverse frequency by factor; 'llama3' (Llama 3.1/3.2) divides only the low frequencies (wavelength above
 * originalMaxPositions / lowFreqFactor), keeps the high ones (below originalMaxPositions / highFreqFactor) and
 * interpolates smoothly in between. Neither changes the attention scale.
 */
export type RopeScaling =
  | { type: 'linear'; factor: number }
  | { type: 'llama3'; factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositions: number };

export interface TransformerSpec {
  family: Family;
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  intermediateSize: number;
  ropeTheta: number;
  /** Absent or null: plain RoPE. */
  ropeScaling?: RopeScaling | null;
  rmsNormEps: number;
  maxPositions: number;
  tieWordEmbeddings: boolean;
  /** A diffusion family's [MASK] id (126336 for LLaDA-8B); null for autoregressive families. */
  maskTokenId: number | null;
  /** EOS and end-of-turn ids: generation is "useful" up to the first of these. */
  eosTokenIds: number[];
  bosTokenId: number | null;
  padTokenId: number | null;
}

/** Parameter count from the architecture (embeddings + head counted once when tied). */
export function parameterCount(s: TransformerSpec): number {
  const norms = 2 * s.hiddenSize;
  const embed = s.vocabSize * s.hiddenSize;
  return s.numLayers * (layerMatmulParams(s) + norms) + embed * (s.tieWordEmbeddings ? 1 : 2) + s.hiddenSize;
}

/** Parameters inside one layer's matmuls (q, k, v, o, gate, up, down). */
export function layerMatmulParams(s: TransformerSpec): number {
  const q = s.hiddenSize * s.numHeads * s.headDim;
  const kv = 2 * s.hiddenSize * s.numKvHeads * s.headDim;
  const o = s.numHeads * s.headDim * s.hiddenSize;
  const mlp = 3 * s.hiddenSize * s.intermediateSize;
  return q + kv + o + mlp;
}

/** The pad id for left padding (the model's, else its EOS; padded positions are masked out either way). */
export function padIdOf(s: TransformerSpec): number {
  return s.padTokenId ?? s.eosTokenIds[0] ?? 0;
}

/** Inverse rotary frequencies theta^(-2i/d), i < headDim/2, after the spec's rope scaling. */
export function ropeInverseFrequencies(s: TransformerSpec): Float64Array {
  const half = s.headDim / 2;
  const inv = new Float64Array(half);
  for (let i = 0; i < half; i++) inv[i] = s.ropeTheta ** (-(2 * i) / s.headDim);
  const r = s.ropeScaling;
  if (!r) return inv;
  if (r.type === 'linear') return inv.map((v) => v / r.factor);
  const lowWavelen = r.originalMaxPositions / r.lowFreqFactor;
  const highWavelen = r.originalMaxPositions / r.highFreqFactor;
  return inv.map((v) => {
    const wavelen = (2 * Math.PI) / v;
    if (wavelen < highWavelen) return v;
    if (wavelen > lowWavelen) return v / r.factor;
    const smooth = (r.originalMaxPositions / wavelen - r.lowFreqFactor) / (r.highFreqFactor - r.lowFreqFactor);
    return (1 - smooth) * (v / r.factor) + smooth * v;
  });
}
