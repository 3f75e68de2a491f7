/** What the two in-process autoregressive engines share: the causal-folder check, left padding, cache accounting. */
import { UserError } from '../util/errors.js';
import { familiesFor } from '../models/families.js';
import type { ModelFolder } from '../models/folder.js';
import type { TransformerSpec } from '../models/spec.js';
import type { Handicap } from './local-info.js';

export type { ArGenerateOptions } from './options.js';

export function requireCausal(folder: ModelFolder, dirArg: string): void {
  if (folder.meta.graph !== 'causal') {
    throw new UserError(`${dirArg}: a ${folder.meta.family} diffusion model; the autoregressive engines need a ${familiesFor('ar').join(' or ')} (causal) model folder`);
  }
}

/** Left-padded ids, mask and positions (positions count real tokens only, as transformers.js computes them). */
export function leftPad(prompts: number[][], padId: number): { P: number; ids: bigint[][]; mask: bigint[][]; positions: bigint[][] } {
  const P = Math.max(...prompts.map((p) => p.length));
  const ids = prompts.map((p) => [...Array<number>(P - p.length).fill(padId), ...p].map(BigInt));
  const mask = prompts.map((p) => [...Array<number>(P - p.length).fill(0), ...Array<number>(p.length).fill(1)].map(BigInt));
  const positions = prompts.map((p) => Array.from({ length: P }, (_, t) => BigInt(Math.max(0, t - (P - p.length)))));
  return { P, ids, mask, positions };
}

/** Bytes of the whole KV cache at a total length (both directions of a host round trip counted once here). */
export function kvCacheBytes(spec: TransformerSpec, batch: number, totalLen: number, dtypeBytes: number): number {
  return 2 * spec.numLayers * batch * spec.numKvHeads * totalLen * spec.headDim * dtypeBytes;
}

/**
 * On CUDA, onnxruntime-node has no IO binding: every present.* output is copied to the host and fed back as
 * past_key_values.* the next step. Mean bytes per forward (download + upload) over a generation of `gen` tokens.
 */
export function cudaRoundTripBytes(spec: TransformerSpec, batch: number, promptLen: number, gen: number, dtypeBytes: number): number {
  let total = 0;
  for (let i = 0; i < gen; i++) {
    const past = i === 0 ? 0 : promptLen + i - 1;
    total += kvCacheBytes(spec, batch, past, dtypeBytes) + kvCacheBytes(spec, batch, promptLen + i, dtypeBytes) + batch * spec.vocabSize * 4;
  }
  return total / gen;
}

export function roundTripHandicap(bytesPerForward: number): Handicap {
  return { code: 'kv-round-trip', text: `KV cache copied device->host->device every token (onnxruntime-node has no IO binding): ~${(bytesPerForward / 1e6).toFixed(1)} MB per forward` };
}
