/**
 * Synthetic presets: architecture shapes with seeded random weights. Speed measured on them is real (same graph,
 * same FLOPs as real weights of that shape); the text they produce is noise. Every preset can be built in any
 * family, so a llada preset and its llama twin differ only in attention mask and decoding algorithm; `families`
 * names the family each side builds when it is not llada/llama.
 */
import { UserError } from '../util/errors.js';
import { DEFAULT_FAMILY, type FamilyRole, familyOf } from './families.js';
import type { SpecialTokens } from './tokenizer.js';
import type { Family, TransformerSpec } from './spec.js';

export interface Preset {
  name: string;
  description: string;
  dims: Omit<TransformerSpec, 'family' | 'maskTokenId' | 'eosTokenIds' | 'bosTokenId' | 'padTokenId'>;
  special: SpecialTokens;
  /** The family built on each side (default: llada for diffusion, llama for AR). */
  families?: Partial<Record<FamilyRole, Family>>;
}

/** Specials at the top of the vocabulary for the small synthetic presets. */
function topSpecials(v: number): SpecialTokens {
  return { bos: v - 6, eos: v - 5, startHeader: v - 4, endHeader: v - 3, eot: v - 2, mask: v - 1 };
}

const base = { rmsNormEps: 1e-5, tieWordEmbeddings: false };

export const PRESETS: Record<string, Preset> = {
  tiny: {
    name: 'tiny',
    description: '~0.8M parameters: a full benchmark of both engines in seconds on 2 CPU cores (tests, CI, default run)',
    dims: { ...base, vocabSize: 1024, hiddenSize: 128, numLayers: 4, numHeads: 4, numKvHeads: 4, headDim: 32, intermediateSize: 352, ropeTheta: 10000, maxPositions: 2048 },
    special: topSpecials(1024),
  },
  'tiny-long': {
    name: 'tiny-long',
    description: 'tiny with a 4,096-position window: its byte-level tokenizer spells any text, so GSM8K 5-shot prompts (~3,300 bytes) fit (--tasks gsm8k end to end on random weights)',
    dims: { ...base, vocabSize: 1024, hiddenSize: 128, numLayers: 4, numHeads: 4, numKvHeads: 4, headDim: 32, intermediateSize: 352, ropeTheta: 10000, maxPositions: 4096 },
    special: topSpecials(1024),
  },
  small: {
    name: 'small',
    description: '~100M parameters: realistic CPU numbers',
    dims: { ...base, vocabSize: 32000, hiddenSize: 640, numLayers: 12, numHeads: 10, numKvHeads: 10, headDim: 64, intermediateSize: 1728, ropeTheta: 500000, maxPositions: 4096 },
    special: topSpecials(32000),
  },
  'llada-8b': {
    name: 'llada-8b',
    description: 'LLaDA-8B shape (GSAI-ML/LLaDA-8B-Instruct config), random weights: for GPU machines',
    dims: { ...base, vocabSize: 126464, hiddenSize: 4096, numLayers: 32, numHeads: 32, numKvHeads: 32, headDim: 128, intermediateSize: 12288, ropeTheta: 500000, maxPositions: 4096 },
    // LLaDA-8B-Instruct ids: <|startoftext|> 126080, <|endoftext|> 126081, [MASK] 126336, headers 126346/126347, <|eot_id|> 126348.
    special: { bos: 126080, eos: 126081, mask: 126336, startHeader: 126346, endHeader: 126347, eot: 126348 },
  },
  'llama3-8b': {
    name: 'llama3-8b',
    description: 'Llama-3-8B shape (GQA 32/8), random weights: for GPU machines',
    dims: { ...base, vocabSize: 128256, hiddenSize: 4096, numLayers: 32, numHeads: 32, numKvHeads: 8, headDim: 128, intermediateSize: 14336, ropeTheta: 500000, maxPositions: 8192 },
    special: { bos: 128000, eos: 128001, startHeader: 128006, endHeader: 128007, eot: 128009, mask: 128255 },
  },
  'tiny-qwen2': {
    name: 'tiny-qwen2',
    description: '~0.8M parameters in the Qwen2 layout (QKV biases, GQA 4/2, tied embeddings, ChatML): Qwen2 on the AR side, Dream on the diffusion side (tests)',
    dims: { ...base, rmsNormEps: 1e-6, tieWordEmbeddings: true, vocabSize: 1024, hiddenSize: 128, numLayers: 4, numHeads: 4, numKvHeads: 2, headDim: 32, intermediateSize: 352, ropeTheta: 1000000, maxPositions: 2048 },
    special: topSpecials(1024),
    families: { ar: 'qwen2', diffusion: 'dream' },
  },
  'qwen2.5-7b': {
    name: 'qwen2.5-7b',
    description: 'Qwen2.5-7B shape (Qwen/Qwen2.5-7B-Instruct config: GQA 28/4, QKV biases), random weights: for GPU machines',
    dims: { ...base, rmsNormEps: 1e-6, vocabSize: 152064, hiddenSize: 3584, numLayers: 28, numHeads: 28, numKvHeads: 4, headDim: 128, intermediateSize: 18944, ropeTheta: 1000000, maxPositions: 32768 },
    // Qwen2.5 ids: <|endoftext|> 151643, <|im_start|> 151644, <|im_end|> 151645 (no BOS, no end-of-header token).
    special: { bos: 151643, eos: 151643, startHeader: 151644, endHeader: 151646, eot: 151645, mask: 151666 },
    families: { ar: 'qwen2', diffusion: 'dream' },
  },
  'dream-7b': {
    name: 'dream-7b',
    description: 'Dream-v0-7B shape (Dream-org/Dream-v0-Instruct-7B config: Qwen2.5-7B weights, bidirectional, [MASK] 151666), random weights: for GPU machines',
    dims: { ...base, rmsNormEps: 1e-6, vocabSize: 152064, hiddenSize: 3584, numLayers: 28, numHeads: 28, numKvHeads: 4, headDim: 128, intermediateSize: 18944, ropeTheta: 1000000, maxPositions: 131072 },
    // Dream ids: <|endoftext|> 151643 (EOS and pad), <|im_start|> 151644, <|im_end|> 151645, <|beginoftext|> 151665, <|mask|> 151666.
    special: { bos: 151665, eos: 151643, startHeader: 151644, endHeader: 151646, eot: 151645, mask: 151666 },
    families: { diffusion: 'dream', ar: 'qwen2' },
  },
};

/**
 * Trained presets: real checkpoints shipped with the package in their native Hugging Face layout
 * (FOLDER/llada, FOLDER/llama, relative to the package root) and converted like any checkpoint on first use.
 */
export interface TrainedPreset {
  name: string;
  description: string;
  folder: string;
}

export const TRAINED_PRESETS: Record<string, TrainedPreset> = {
  twins: {
    name: 'twins',
    description: '~0.8M parameters trained from scratch (training/train.py): a LLaDA model and its Llama twin that answer the held-out tasks in models/twins/heldout.json',
    folder: 'models/twins',
  },
};

export function getPreset(name: string): Preset {
  const p = PRESETS[name];
  if (!p) throw new UserError(`unknown preset "${name}"; available: ${Object.keys(PRESETS).join(', ')}`);
  return p;
}

/** The family a preset is built in on one side of the comparison. */
export function presetFamily(preset: Preset, role: FamilyRole): Family {
  return preset.families?.[role] ?? DEFAULT_FAMILY[role];
}

export function presetSpec(preset: Preset, family: Family): TransformerSpec {
  const diffusion = familyOf(family).role === 'diffusion';
  return {
    ...preset.dims,
    family,
    maskTokenId: diffusion ? preset.special.mask : null,
    eosTokenIds: [preset.special.eos, preset.special.eot],
    bosTokenId: preset.special.bos,
    padTokenId: preset.special.eos,
  };
}
