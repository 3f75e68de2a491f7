/** The architecture of one model, family-neutral. Everything downstream (graph emitter, FLOPs, engines) reads this. */

export type Family = 'llada' | 'llama';

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
  rmsNormEps: number;
  maxPositions: number;
  tieWordEmbeddings: boolean;
  /** LLaDA's [MASK] id (126336 for LLaDA-8B); null for llama. */
  maskTokenId: number | null;
  /** EOS and end-of-turn ids: generation is "useful" up to the first of these. */
  eosTokenIds: number[];
  bosTokenId: number | null;
  padTokenId: number | null;
}

/** Parameter count from the architecture (embeddings + head counted once when tied). */
export function parameterCount(s: TransformerSpec): number {
  const attn = s.hiddenSize * s.numHeads * s.headDim * 2 + s.hiddenSize * s.numKvHeads * s.headDim * 2;
  const mlp = 3 * s.hiddenSize * s.intermediateSize;
  const norms = 2 * s.hiddenSize;
  const embed = s.vocabSize * s.hiddenSize;
  return s.numLayers * (attn + mlp + norms) + embed * (s.tieWordEmbeddings ? 1 : 2) + s.hiddenSize;
}

/** The pad id for left padding (the model's, else its EOS; padded positions are masked out either way). */
export function padIdOf(s: TransformerSpec): number {
  return s.padTokenId ?? s.eosTokenIds[0] ?? 0;
}
