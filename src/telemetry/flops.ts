/**
 * Work per forward pass from the architecture alone, for MFU (FLOPs / time / peak FLOPS) and MBU (bytes / time /
 * peak bandwidth). Counts model FLOPs (what the maths needs), not what a kernel happens to execute: a causal
 * prefill counts the lower triangle even if the kernel computes the square and masks it.
 *
 * FLOPs: 2 per multiply-add.
 *  - Linear layers: 2 x (matmul parameters of the layers) per token. Norms, RoPE, softmax, activations and residual
 *    adds are elementwise and left out (well under 1% at these sizes).
 *  - Attention scores (QK^T) and weighted values (PV): 2 + 2 = 4 x headDim x heads per (query, key) pair, per layer.
 *    Bidirectional (LLaDA): every query sees pastLen + seqLen keys, the full square. Causal: query i sees
 *    pastLen + i + 1 keys; one decode step (seqLen 1) is 1 x (pastLen + 1).
 *  - LM head: 2 x hidden x vocab per logits position (only positions whose logits are computed).
 *
 * Bytes: each weight read once per forward (it is, at small batch, and that is what MBU is about) and the KV cache
 * of pastLen positions read once per layer: `memoryBytes`, what MBU divides (the common definition). `bytes` adds an
 * approximation of activation traffic, as if every
 * matmul and attention op read its inputs from and wrote its outputs to device memory once: per token per layer
 * 7*hidden + 4*heads*headDim + 4*kvHeads*headDim + 3*intermediate elements (fused elementwise ops and flash-style
 * attention keep scores on chip, so those are not counted), plus the embedding rows gathered and the LM head's
 * input and output per logits position. All at dtypeBytes.
 */
import { familyOf } from '../models/families.js';
import type { PhaseEfficiency } from './schema.js';
import { type TransformerSpec, layerMatmulParams } from '../models/spec.js';
import type { PeakFigures } from './peaks.js';

export type AttentionKind = 'bidirectional' | 'causal';

export interface ForwardShape {
  /** Batch rows (CFG copies count as rows). */
  batch: number;
  /** New positions per row in this forward (diffusion: the whole sequence; AR decode: 1). */
  seqLen: number;
  /** Cached positions per row that attention reads from a KV cache (0 without a cache). */
  pastLen: number;
  /** Positions per row whose logits are computed (diffusion: gen positions or all; AR: 1). */
  logitsPositions: number;
  /** Bytes per weight / activation element (fp16: 2, fp32: 4). */
  dtypeBytes: number;
  /** Default: 'bidirectional' for llada, 'causal' otherwise. */
  attention?: AttentionKind;
}

export interface ForwardCost {
  flops: number;
  /** Weights + KV cache read: the bytes MBU counts. */
  memoryBytes: number;
  /** memoryBytes plus the activation traffic estimate. */
  bytes: number;
  breakdown: {
    linearFlops: number;
    attentionFlops: number;
    lmHeadFlops: number;
    weightBytes: number;
    kvCacheBytes: number;
    activationBytes: number;
  };
}

export function forwardCost(spec: TransformerSpec, shape: ForwardShape): ForwardCost {
  const { batch, seqLen, pastLen, logitsPositions, dtypeBytes } = shape;
  const attention = shape.attention ?? (familyOf(spec.family).role === 'diffusion' ? 'bidirectional' : 'causal');
  const { hiddenSize: d, numLayers: layers, numHeads: h, numKvHeads: kv, headDim: hd } = spec;
  const tokens = batch * seqLen;

  const linearFlops = 2 * layers * layerMatmulParams(spec) * tokens;
  // (query, key) pairs per row per layer.
  const pairs =
    attention === 'bidirectional' ? seqLen * (pastLen + seqLen) : seqLen * pastLen + (seqLen * (seqLen + 1)) / 2;
  const attentionFlops = 4 * h * hd * pairs * layers * batch;
  const headPositions = batch * logitsPositions;
  const lmHeadFlops = 2 * d * spec.vocabSize * headPositions;

  const normParams = layers * 2 * d + d;
  const weightElems = layers * layerMatmulParams(spec) + normParams + (logitsPositions > 0 ? spec.vocabSize * d : 0);
  const kvElems = batch * pastLen * layers * 2 * kv * hd;
  const perTokenPerLayer = 7 * d + 4 * h * hd + 4 * kv * hd + 3 * spec.intermediateSize;
  const activationElems = tokens * layers * perTokenPerLayer + tokens * d + headPositions * (d + spec.vocabSize);

  const weightBytes = weightElems * dtypeBytes;
  const kvCacheBytes = kvElems * dtypeBytes;
  const activationBytes = activationElems * dtypeBytes;
  return {
    flops: linearFlops + attentionFlops + lmHeadFlops,
    memoryBytes: weightBytes + kvCacheBytes,
    bytes: weightBytes + kvCacheBytes + activationBytes,
    breakdown: { linearFlops, attentionFlops, lmHeadFlops, weightBytes, kvCacheBytes, activationBytes },
  };
}

/** Forward passes of one phase, summed over requests: their model work and the time they took. */
export interface PhaseWork {
  forwards: number;
  flops: number;
  /** Weights + KV cache read (ForwardCost.memoryBytes). */
  memoryBytes: number;
  /** Time inside session.run. */
  inRunMs: number;
  /** Wall time of the phase, host overhead included. */
  endToEndMs: number;
}

export const NO_WORK: PhaseWork = { forwards: 0, flops: 0, memoryBytes: 0, inRunMs: 0, endToEndMs: 0 };

export function addWork(a: PhaseWork, b: PhaseWork): PhaseWork {
  return {
    forwards: a.forwards + b.forwards,
    flops: a.flops + b.flops,
    memoryBytes: a.memoryBytes + b.memoryBytes,
    inRunMs: a.inRunMs + b.inRunMs,
    endToEndMs: a.endToEndMs + b.endToEndMs,
  };
}

/** Achieved rate over a peak; null where the peak is unknown or the time is not positive. */
function utilization(amount: number, ms: number, peakPerSec: number | null): number | null {
  const seconds = ms / 1000;
  return peakPerSec && Number.isFinite(seconds) && seconds > 0 ? amount / seconds / peakPerSec : null;
}

/**
 * MFU and MBU of one phase's forwards (summed over `requests` requests), in-run (session.run time) and end to end
 * (wall time, PaLM's MFU). Per-forward figures are means.
 */
export function phaseEfficiency(w: PhaseWork, requests: number, peak: PeakFigures): PhaseEfficiency {
  const per = (x: number) => (w.forwards > 0 ? x / w.forwards : 0);
  return {
    forwards: requests > 0 ? w.forwards / requests : 0,
    flopsPerForward: per(w.flops),
    bytesPerForward: per(w.memoryBytes),
    inRunMsPerForward: per(w.inRunMs),
    endToEndMsPerForward: per(w.endToEndMs),
    mfuInRun: utilization(w.flops, w.inRunMs, peak.flopsPerSec),
    mfuEndToEnd: utilization(w.flops, w.endToEndMs, peak.flopsPerSec),
    mbuInRun: utilization(w.memoryBytes, w.inRunMs, peak.bytesPerSec),
    mbuEndToEnd: utilization(w.memoryBytes, w.endToEndMs, peak.bytesPerSec),
  };
}
