import { describe, expect, it } from 'vitest';
import { addWork, forwardCost, phaseEfficiency } from '../../src/telemetry/flops.js';
import { resolvePeak } from '../../src/telemetry/peaks.js';
import { layerMatmulParams, parameterCount, type TransformerSpec } from '../../src/models/spec.js';

function spec(over: Partial<TransformerSpec>): TransformerSpec {
  return {
    family: 'llama',
    vocabSize: 32,
    hiddenSize: 8,
    numLayers: 2,
    numHeads: 2,
    numKvHeads: 1,
    headDim: 4,
    intermediateSize: 16,
    ropeTheta: 10000,
    rmsNormEps: 1e-5,
    maxPositions: 64,
    tieWordEmbeddings: false,
    maskTokenId: null,
    eosTokenIds: [2],
    bosTokenId: 1,
    padTokenId: null,
    ...over,
  };
}

// d=8, heads=2, kvHeads=1, headDim=4, intermediate=16, vocab=32, 2 layers.
// Per layer matmul params: q 8*8=64, k 8*4=32, v 32, o 8*8=64, mlp 3*8*16=384 -> 576.
const tiny = spec({});
const lladaShape = spec({
  family: 'llada',
  vocabSize: 126464,
  hiddenSize: 4096,
  numLayers: 32,
  numHeads: 32,
  numKvHeads: 32,
  headDim: 128,
  intermediateSize: 12288,
  maskTokenId: 126336,
});

/** Matmul FLOPs of one token through every layer and the LM head (no attention), from one 1-token forward. */
function matmulFlopsPerToken(spec: Parameters<typeof forwardCost>[0]): number {
  const c = forwardCost(spec, { batch: 1, seqLen: 1, pastLen: 0, logitsPositions: 1, dtypeBytes: 2 });
  return c.breakdown.linearFlops + c.breakdown.lmHeadFlops;
}

describe('forwardCost on a tiny spec (hand-computed)', () => {
  it('counts the layer params', () => {
    expect(layerMatmulParams(tiny)).toBe(576);
    expect(matmulFlopsPerToken(tiny)).toBe(2 * (2 * 576 + 32 * 8)); // 2816
  });

  it('causal decode-ish forward with a KV cache', () => {
    const c = forwardCost(tiny, { batch: 2, seqLen: 3, pastLen: 5, logitsPositions: 1, dtypeBytes: 2 });
    // linear: 2 * 576 * 2 layers * 6 tokens
    expect(c.breakdown.linearFlops).toBe(13824);
    // causal pairs per row per layer: 3*5 + (1+2+3) = 21; 4 * 2 heads * 4 * 21 = 672; x 2 layers x 2 rows
    expect(c.breakdown.attentionFlops).toBe(2688);
    // head: 2 * 8 * 32 per logits position, 2 rows x 1 position
    expect(c.breakdown.lmHeadFlops).toBe(1024);
    expect(c.flops).toBe(17536);
    // weights: (2*576 matmul + 2*2*8+8 norms + 32*8 head) * 2 bytes
    expect(c.breakdown.weightBytes).toBe(2896);
    // KV read: 2 rows * 5 past * 2 layers * (k,v) * 1 kv head * 4 * 2 bytes
    expect(c.breakdown.kvCacheBytes).toBe(320);
    // activations per token per layer: 7*8 + 4*2*4 + 4*1*4 + 3*16 = 152 elements; 6 tokens x 2 layers = 1824,
    // + embedding rows 6*8 = 48, + head in/out 2 * (8 + 32) = 80 -> 1952 elements x 2 bytes
    expect(c.breakdown.activationBytes).toBe(3904);
    expect(c.bytes).toBe(2896 + 320 + 3904);
    // MBU counts what must be read: weights + KV cache
    expect(c.memoryBytes).toBe(2896 + 320);
  });

  it('bidirectional forward counts the full square and follows the family default', () => {
    const shape = { batch: 2, seqLen: 3, pastLen: 5, logitsPositions: 1, dtypeBytes: 2 };
    const bi = forwardCost(tiny, { ...shape, attention: 'bidirectional' });
    // 3 queries x 8 keys = 24 pairs; 4*2*4*24 = 768 per layer per row
    expect(bi.breakdown.attentionFlops).toBe(768 * 2 * 2);
    expect(forwardCost({ ...tiny, family: 'llada' }, shape).breakdown.attentionFlops).toBe(3072);
  });

  it('one decode step sees pastLen + 1 keys either way', () => {
    const shape = { batch: 1, seqLen: 1, pastLen: 9, logitsPositions: 1, dtypeBytes: 4 };
    const causal = forwardCost(tiny, { ...shape, attention: 'causal' });
    const bi = forwardCost(tiny, { ...shape, attention: 'bidirectional' });
    expect(causal.breakdown.attentionFlops).toBe(4 * 2 * 4 * 10 * 2);
    expect(bi.breakdown.attentionFlops).toBe(causal.breakdown.attentionFlops);
  });

  it('skips the LM head when no logits are computed', () => {
    const c = forwardCost(tiny, { batch: 1, seqLen: 4, pastLen: 0, logitsPositions: 0, dtypeBytes: 2 });
    expect(c.breakdown.lmHeadFlops).toBe(0);
    expect(c.breakdown.weightBytes).toBe((2 * 576 + 40) * 2);
  });
});

describe('LLaDA-8B shape', () => {
  it('is ~16 GFLOPs per token in matmuls', () => {
    const perToken = matmulFlopsPerToken(lladaShape);
    expect(perToken).toBeGreaterThan(14e9);
    expect(perToken).toBeLessThan(17e9);
    // ~2 x parameters (the difference is the embedding table and norms, which do no matmul).
    expect(perToken / (2 * parameterCount(lladaShape))).toBeGreaterThan(0.9);
    expect(perToken / (2 * parameterCount(lladaShape))).toBeLessThan(1.0);
  });

  it('gives plausible MFU/MBU for one diffusion step on an H100', () => {
    // 64 prompt + 128 generated, one bidirectional forward, logits for the 128 generated positions, fp16.
    const c = forwardCost(lladaShape, { batch: 1, seqLen: 192, pastLen: 0, logitsPositions: 128, dtypeBytes: 2 });
    // ~14 GFLOP/token x 192 + head for 128 positions + small attention: ~2.8-3.0 TFLOP
    expect(c.flops).toBeGreaterThan(2.7e12);
    expect(c.flops).toBeLessThan(3.1e12);
    expect(c.breakdown.attentionFlops / c.flops).toBeLessThan(0.02);
    // weights dominate the bytes at this size: layers + head ~7.5e9 params in fp16 (the embedding table is only
    // gathered, a row per token), plus ~1.2 GB of activations
    expect(c.breakdown.weightBytes).toBeGreaterThan(14.5e9);
    expect(c.breakdown.weightBytes).toBeLessThan(15.5e9);
    expect(c.breakdown.activationBytes).toBeGreaterThan(1e9);
    expect(c.breakdown.activationBytes).toBeLessThan(1.5e9);
    const one = { forwards: 1, flops: c.flops, memoryBytes: c.memoryBytes, inRunMs: 20, endToEndMs: 25 };
    const e = phaseEfficiency(one, 1, resolvePeak({ gpuName: 'NVIDIA H100 80GB HBM3', dtype: 'fp16' }));
    // 2.9e12 / 0.02 s / 989.5e12 ~ 0.15 ; weights 15e9 / 0.02 / 3.35e12 ~ 0.22
    expect(e.mfuInRun).toBeGreaterThan(0.13);
    expect(e.mfuInRun).toBeLessThan(0.16);
    expect(e.mbuInRun).toBeGreaterThan(0.2);
    expect(e.mbuInRun).toBeLessThan(0.24);
    // end to end (25 ms of wall time) is lower by 20 / 25
    expect(e.mfuEndToEnd! / e.mfuInRun!).toBeCloseTo(0.8, 10);
  });
});

describe('phaseEfficiency', () => {
  const peak = { flopsPerSec: 100e12, bytesPerSec: 1e12, source: 'test' };
  // Two requests of 10 forwards each: 20 forwards, 2e13 FLOPs, 1e11 bytes, 400 ms in run, 500 ms of wall time.
  const work = { forwards: 20, flops: 2e13, memoryBytes: 1e11, inRunMs: 400, endToEndMs: 500 };

  it('divides achieved rates by the peaks, in run and end to end', () => {
    expect(phaseEfficiency(work, 2, peak)).toEqual({
      forwards: 10,
      flopsPerForward: 1e12,
      bytesPerForward: 5e9,
      inRunMsPerForward: 20,
      endToEndMsPerForward: 25,
      mfuInRun: 0.5, // 2e13 / 0.4 s = 50 TFLOPS of 100
      mfuEndToEnd: 0.4, // 2e13 / 0.5 s = 40 TFLOPS
      mbuInRun: 0.25, // 1e11 / 0.4 s = 250 GB/s of 1000
      mbuEndToEnd: 0.2,
    });
  });

  it('is null where the peak or the time is unknown', () => {
    const unknown = phaseEfficiency(work, 2, { flopsPerSec: null, bytesPerSec: null, source: null });
    expect(unknown).toMatchObject({ mfuInRun: null, mbuInRun: null, mfuEndToEnd: null, mbuEndToEnd: null, flopsPerForward: 1e12 });
    expect(phaseEfficiency({ ...work, inRunMs: 0, endToEndMs: 0 }, 2, peak)).toMatchObject({ mfuInRun: null, mbuEndToEnd: null });
  });

  it('adds work field by field', () => {
    expect(addWork(work, work)).toEqual({ forwards: 40, flops: 4e13, memoryBytes: 2e11, inRunMs: 800, endToEndMs: 1000 });
  });
});
