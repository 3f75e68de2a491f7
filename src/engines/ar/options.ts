/**
 * What both in-process autoregressive engines (transformers.js and the direct onnxruntime loop) take and share:
 * creation options, per-request options, and the host<->device traffic they disclose on CUDA.
 */
import type { TransformerSpec } from '../../models/spec.js';
import type { SessionTuning } from '../session.js';
import type { Cancellable, DeviceRequest } from '../types.js';

// onnxruntime session knobs already live in one shared place (engines/session.ts, used by every in-process engine);
// re-exported here so AR callers import one module. intraOpThreads, interOpThreads, graphOptimization.
export type { SessionTuning } from '../session.js';

export interface ArEngineOptions {
  /** A model folder built by dllm-bench (transformers.js layout, causal graph). */
  modelDir: string;
  device: DeviceRequest;
  session?: SessionTuning;
}

export interface ArGenerateOptions extends Cancellable {
  /**
   * fixed: exactly genLength new tokens per row, EOS generated but ending nothing (like vLLM's ignore_eos), so
   * both engines produce the same count; natural: a row stops at its first EOS/EoT (included in its tokens).
   */
  mode: 'fixed' | 'natural';
}

/** Bytes of one row's K and V over all layers for one cached position. */
export function kvBytesPerPosition(spec: TransformerSpec, dtypeBytes: number): number {
  return 2 * spec.numLayers * spec.numKvHeads * spec.headDim * dtypeBytes;
}

/**
 * Host<->device traffic of one generation on a device without IO binding (onnxruntime-node on CUDA): forward i
 * uploads the past cache (prompt + i - 1 positions; none at prefill), downloads present.* (prompt + i positions)
 * and the logits of the last position. Returns the mean traffic per forward and the mean size of the cache that
 * comes back per token, 2 * layers * batch * KV * seqLen * headDim * dtypeBytes averaged over the forwards'
 * seqLen = prompt .. prompt + gen - 1.
 */
export function kvTraffic(
  spec: TransformerSpec,
  batch: number,
  promptLen: number,
  gen: number,
  dtypeBytes: number,
): { bytesPerForward: number; cacheBytesPerToken: number } {
  const perPos = kvBytesPerPosition(spec, dtypeBytes) * batch;
  const logitsBytes = batch * spec.vocabSize * 4;
  let traffic = 0;
  let cache = 0;
  for (let i = 0; i < gen; i++) {
    const past = i === 0 ? 0 : promptLen + i - 1;
    const present = promptLen + i;
    traffic += (past + present) * perPos + logitsBytes;
    cache += present * perPos;
  }
  return { bytesPerForward: traffic / gen, cacheBytesPerToken: cache / gen };
}

/** Nominal case stated in EngineInfo, which is fixed before any request: batch 1, 128-token prompt, 128 new. */
const NOMINAL = { batch: 1, prompt: 128, gen: 128 } as const;

export function kvRoundTripHandicap(spec: TransformerSpec, dtypeBytes: number): string {
  const { cacheBytesPerToken } = kvTraffic(spec, NOMINAL.batch, NOMINAL.prompt, NOMINAL.gen, dtypeBytes);
  return (
    `KV cache copied device->host->device every token (${Math.round(cacheBytesPerToken)} bytes/token: mean at batch ${NOMINAL.batch}, ` +
    `${NOMINAL.prompt}-token prompt + ${NOMINAL.gen} new; ${kvBytesPerPosition(spec, dtypeBytes)} bytes per cached position per row, growing with ` +
    'length and batch; onnxruntime-node has no IO binding)'
  );
}

export function dtypeBytesOf(dtype: 'fp32' | 'fp16'): number {
  return dtype === 'fp16' ? 2 : 4;
}

/** Left-padding id: the model's pad id, else its first EOS (masked out either way). */
export function padIdOf(spec: TransformerSpec): number {
  return spec.padTokenId ?? spec.eosTokenIds[0] ?? 0;
}
