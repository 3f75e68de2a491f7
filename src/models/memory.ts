/**
 * Memory a model needs for one case, from its shapes alone (a preset's spec or a config.json; never a built model):
 *  - weights: parameters x bytes per element, once per engine (every decoding mode shares them: compose.ts);
 *  - KV cache: 2 x layers x kv_heads x head_dim x (prompt + gen) x rows x bytes per element (AR; cached LLaDA over
 *    the whole sequence, both CFG copies);
 *  - activations: the largest transient of one forward pass: hidden states and the MLP's intermediate for every fed
 *    position, one layer's attention scores (heads x L x L), and the logits of the positions that get them (fp32);
 *  - runtime: a fixed allowance for the execution provider (a CUDA context and its workspaces).
 * All figures are estimates for planning; the run measures the real ones (results.json `engines[]`).
 */
import { type TransformerSpec, parameterCount } from './spec.js';

export interface MemoryCase {
  /** 'diffusion': LLaDA (bidirectional, logits over the generated region); 'causal': AR. */
  graph: 'diffusion' | 'causal';
  batchSize: number;
  promptTokens: number;
  genLength: number;
  /** LLaDA's Fast-dLLM cache mode (none: no cache kept). */
  cache?: 'none' | 'prefix' | 'dual';
  /** LLaDA classifier-free guidance doubles the rows. */
  cfg?: boolean;
}

export interface MemoryNeed {
  weightsBytes: number;
  kvCacheBytes: number;
  activationBytes: number;
  runtimeBytes: number;
  totalBytes: number;
}

export const GIB = 2 ** 30;

/** The CUDA context, cuBLAS/cuDNN workspaces and the allocator's slack: what a session costs before any tensor. */
export const CUDA_RUNTIME_BYTES = 0.75 * GIB;

export function bytesPerElement(dtype: 'fp16' | 'fp32'): number {
  return dtype === 'fp16' ? 2 : 4;
}

export function weightBytes(spec: TransformerSpec, dtype: 'fp16' | 'fp32'): number {
  return parameterCount(spec) * bytesPerElement(dtype);
}

export function caseMemory(spec: TransformerSpec, dtype: 'fp16' | 'fp32', device: 'cpu' | 'cuda', c: MemoryCase): MemoryNeed {
  const b = bytesPerElement(dtype);
  const rows = c.batchSize * (c.graph === 'diffusion' && c.cfg ? 2 : 1);
  const L = c.promptTokens + c.genLength;
  const kvPerToken = 2 * spec.numLayers * spec.numKvHeads * spec.headDim * b;
  const cached = c.graph === 'causal' || (c.cache ?? 'none') !== 'none';
  const kvCacheBytes = cached ? kvPerToken * L * rows : 0;
  // Fed positions of the largest forward: the whole sequence (LLaDA: every step or block start; AR: the prefill).
  const fed = c.graph === 'causal' ? c.promptTokens : L;
  const hidden = rows * fed * (4 * spec.hiddenSize + 2 * spec.intermediateSize) * b;
  const scores = rows * spec.numHeads * fed * fed * Math.max(b, 4);
  // LLaDA scores every generated position (x0 + confidence from fp32 logits); AR one position per row.
  const logits = rows * (c.graph === 'diffusion' ? c.genLength : 1) * spec.vocabSize * 4 * 2;
  const activationBytes = hidden + scores + logits;
  const weightsBytes = weightBytes(spec, dtype);
  const runtimeBytes = device === 'cuda' ? CUDA_RUNTIME_BYTES : 0;
  return { weightsBytes, kvCacheBytes, activationBytes, runtimeBytes, totalBytes: weightsBytes + kvCacheBytes + activationBytes + runtimeBytes };
}

/** "15.2 GiB" / "512 MiB" / "4.5 MiB". */
export function formatBytes(n: number): string {
  const abs = Math.abs(n);
  if (abs >= GIB) return `${(n / GIB).toFixed(1)} GiB`;
  if (abs >= 2 ** 20) return `${(n / 2 ** 20).toFixed(abs >= 100 * 2 ** 20 ? 0 : 1)} MiB`;
  return `${(n / 1024).toFixed(0)} KiB`;
}
