/**
 * toSample and requestCost: every number a case reports comes from them. Expected values are worked out by hand
 * below from the counting rules (README "What it measures") and the FLOPs/bytes formulas of telemetry/flops.ts.
 */
import { describe, expect, it } from 'vitest';
import type { EngineOptions } from '../../src/engines/options.js';
import type { Engine, EngineResult, GenerateOutput, GenerateRequest } from '../../src/engines/types.js';
import type { TransformerSpec } from '../../src/models/spec.js';
import type { CaseParams } from '../../src/results/types.js';
import { type CostSubject, type EngineHandle, engineCall, requestCost, toSample } from '../../src/scenarios/measure.js';

/**
 * d=4, 1 layer, 2 heads of dim 2, 1 KV head, MLP 8, vocab 10. Matmul parameters per layer:
 * q 4*2*2=16 + k,v 2*4*1*2=16 + o 2*2*4=16 + mlp 3*4*8=96 = 144. Norm parameters 2*4+4 = 12.
 * Activation elements per token per layer: 7*4 + 4*2*2 + 4*1*2 + 3*8 = 28+16+8+24 = 76.
 */
const spec: TransformerSpec = {
  family: 'llama',
  vocabSize: 10,
  hiddenSize: 4,
  numLayers: 1,
  numHeads: 2,
  numKvHeads: 1,
  headDim: 2,
  intermediateSize: 8,
  ropeTheta: 10000,
  rmsNormEps: 1e-5,
  maxPositions: 64,
  tieWordEmbeddings: false,
  maskTokenId: null,
  eosTokenIds: [9],
  bosTokenId: null,
  padTokenId: null,
};

const params: CaseParams = { batchSize: 1, promptTokens: 3, genLength: 2 };
const req = (prompts: number[][], genLength: number): GenerateRequest => ({ prompts, genLength });
const ar: CostSubject = { kind: 'ar-ort', info: { dtype: 'fp32' }, spec };
const llada: CostSubject = { kind: 'llada', info: { dtype: 'fp32' }, spec: { ...spec, family: 'llada' } };

describe('requestCost', () => {
  it('llada: nfe full bidirectional forwards over prompt + answer, logits over the answer', () => {
    // seqLen 5, 1 row: linear 2*144*5 = 1440; pairs 5*5 = 25 -> attention 4*2*2*25 = 400; LM head 2*4*10*2 = 160.
    // Bytes: weights 144+12+40 = 196; activations 5*76 + 5*4 + 2*(4+10) = 428; (196+428)*4 = 2496 per forward.
    expect(requestCost(llada, req([[1, 2, 3]], 2), 2, params)).toEqual({ flops: 2 * 2000, bytes: 2 * 2496 });
  });

  it('llada with CFG doubles the rows', () => {
    // 2 rows: linear 2880, attention 800, LM head 320 = 4000; activations 10*76 + 10*4 + 4*14 = 856; (196+856)*4.
    expect(requestCost(llada, req([[1, 2, 3]], 2), 1, { ...params, cfgScale: 1 })).toEqual({ flops: 4000, bytes: 4208 });
  });

  it('ar: one causal prefill, then one-token decode steps over a growing cache', () => {
    // Prefill (seqLen 3): linear 864, pairs 3*4/2 = 6 -> 96, LM head 80 = 1040 FLOPs; 196 + (3*76+3*4+14) = 450 el.
    // Decode past 3: 288 + 16*(3+1) + 80 = 432 FLOPs; 196 + KV 3*2*2 = 12 + (76+4+14) = 302 elements.
    // Decode past 4: 288 + 16*(4+1) + 80 = 448 FLOPs; 196 + 16 + 94 = 306 elements.
    expect(requestCost(ar, req([[1, 2, 3]], 3), 3, params)).toEqual({ flops: 1040 + 432 + 448, bytes: (450 + 302 + 306) * 4 });
    expect(requestCost({ ...ar, info: { dtype: 'fp16' } }, req([[1, 2, 3]], 3), 3, params)).toEqual({ flops: 1920, bytes: 1058 * 2 });
  });

  it('the longest row sets the prompt length of a batch', () => {
    // Two rows of 3 (the shorter one left-padded): twice the one-row prefill FLOPs, weights read once.
    const one = requestCost(ar, req([[1, 2, 3]], 1), 1, params)!;
    const two = requestCost(ar, req([[1, 2, 3], [4]], 1), 1, params)!;
    expect(two.flops).toBe(2 * one.flops);
    expect(two.bytes).toBe((196 + 2 * 254) * 4);
  });

  it('is null without an architecture (HTTP)', () => {
    expect(requestCost({ kind: 'openai', info: { dtype: 'unknown' }, spec: null }, req([[1]], 4), 1, params)).toBeNull();
  });
});

function output(over: Partial<GenerateOutput> & Pick<GenerateOutput, 'generatedTokenCounts' | 'usefulTokens' | 'totalMs' | 'forwardMs'>, nfe: number): GenerateOutput {
  return {
    tokens: over.generatedTokenCounts.map(() => []),
    failures: [],
    trace: Array.from({ length: nfe }, (_, i) => ({ startMs: i, durationMs: 1, tokensCommitted: 1 })),
    ...over,
  };
}

describe('toSample', () => {
  const outs = [
    output({ generatedTokenCounts: [4], usefulTokens: [3], totalMs: 200, forwardMs: 150, tokenTimesMs: [[10, 40, 70, 100]], hostDeviceBytesPerForward: 0 }, 3),
    output({ generatedTokenCounts: [2], usefulTokens: [2], totalMs: 300, forwardMs: 250, tokenTimesMs: [[20, 60]], failures: [{ row: 1, code: 'stream-cut', message: 'cut' }] }, 3),
  ];
  const reqs = [req([[1, 2, 3]], 4), req([[1, 2, 3]], 4)];

  it('counts generated positions from the per-row counts, and failed requests, over the repetition', () => {
    const { sample } = toSample(ar, reqs, outs, params);
    expect(sample).toEqual({
      latencyMs: 250, // (200 + 300) / 2 requests
      generatedTokens: 6, // 4 + 2 (rows carry no ids here: the counts, not the id rows, are what counts)
      usefulTokens: 5,
      tokensPerSec: 12, // 6 / 0.5 s
      usefulTokensPerSec: 10,
      nfe: 3, // (3 + 3) / 2 requests
      tokensPerForward: 1, // 6 / 6
      timePerForwardMs: 400 / 6,
      forwardMs: 400,
      ttftMs: 15, // mean of 10 and 20
      itlMs: 35, // mean of (100 - 10) / 3 = 30 and (60 - 20) / 1 = 40
      hostDeviceBytesPerForward: 0,
      errors: 1,
    });
  });

  it('sums the requests cost (each: the AR request above, 1920 FLOPs and 4232 bytes)', () => {
    expect(toSample(ar, reqs, outs, params).cost).toEqual({ flops: 2 * 1920, bytes: 2 * 4232 });
    expect(toSample({ ...ar, spec: null }, reqs, outs, params).cost).toBeNull();
  });

  it('leaves out what was not measured', () => {
    const plain = output({ generatedTokenCounts: [2, 2], usefulTokens: [1, 0], totalMs: 100, forwardMs: 80 }, 2);
    const { sample } = toSample(ar, [req([[1], [2]], 2)], [plain], params);
    expect(sample).toEqual({
      latencyMs: 100,
      generatedTokens: 4,
      usefulTokens: 1,
      tokensPerSec: 40,
      usefulTokensPerSec: 10,
      nfe: 2,
      tokensPerForward: 2,
      timePerForwardMs: 40,
      forwardMs: 80,
    });
  });
});

describe('engineCall', () => {
  /** A stand-in engine that records the options of each call. */
  function recording<O>(seen: O[]): Engine<O> {
    const ok: EngineResult = { ok: false, error: { code: 'runtime', message: 'not run' } };
    return {
      info: { kind: 'llada', model: 'm', family: 'llada', device: 'cpu', executionProvider: 'cpu', dtype: 'fp32', synthetic: true, handicaps: [], eosTokenIds: [] },
      generate: async (_r, o) => {
        seen.push(o);
        return ok;
      },
      dispose: async () => {},
    };
  }
  const base = { role: 'diffusion' as const, spec, tokenizer: null, model: 'm' };
  const signal = new AbortController().signal;

  it('binds the case params as LLaDA sampler options, with the run seed', async () => {
    const seen: EngineOptions<'llada'>[] = [];
    const engine = recording(seen);
    const h: EngineHandle = { ...base, kind: 'llada', engine, info: engine.info };
    await engineCall(h, { ...params, steps: 8, blockLength: 4, threshold: null, cfgScale: 0.5 }, 7)(req([[1]], 8), signal);
    expect(seen).toEqual([{ steps: 8, blockLength: 4, threshold: null, cfgScale: 0.5, temperature: 0, remasking: 'low_confidence', seed: 7, cache: 'none' }]);
  });

  it('runs AR engines at fixed length', async () => {
    const seen: EngineOptions<'ar-ort'>[] = [];
    const engine = recording(seen);
    const h: EngineHandle = { ...base, role: 'ar', kind: 'ar-ort', engine, info: engine.info };
    await engineCall(h, params, 0)(req([[1]], 8), signal);
    expect(seen).toEqual([{ mode: 'fixed' }]);
  });
});
