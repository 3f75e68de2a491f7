/**
 * toSample (measure.ts) and requestCost (work.ts): every number a case reports comes from them. Expected values are worked out by hand
 * below from the counting rules (README "What it measures") and the FLOPs/bytes formulas of telemetry/flops.ts.
 */
import { describe, expect, it } from 'vitest';
import type { EngineOptions } from '../../src/engines/options.js';
import type { Engine, EngineResult, GenerateOutput, GenerateRequest } from '../../src/engines/types.js';
import type { TransformerSpec } from '../../src/models/spec.js';
import type { CaseParams } from '../../src/results/types.js';
import { type EngineHandle, engineCall, toSample } from '../../src/scenarios/measure.js';
import { type CostSubject, caseEfficiency, requestCost } from '../../src/scenarios/work.js';

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

/** Work without times, as requestCost returns it. */
const w = (forwards: number, flops: number, memoryBytes: number) => ({ forwards, flops, memoryBytes, inRunMs: 0, endToEndMs: 0 });

describe('requestCost', () => {
  // Weights read per forward: 144 + 12 + 40 (LM head) = 196 elements; MBU's bytes are these plus the KV cache read.
  it('llada: nfe full bidirectional forwards over prompt + answer, logits over the answer', () => {
    // seqLen 5, 1 row: linear 2*144*5 = 1440; pairs 5*5 = 25 -> attention 4*2*2*25 = 400; LM head 2*4*10*2 = 160.
    expect(requestCost(llada, req([[1, 2, 3]], 2), 2, params)).toEqual({ all: w(2, 2 * 2000, 2 * 196 * 4) });
  });

  it('llada with a prefix KV cache: a full forward per block, then block-only forwards over the cached prefix', () => {
    // Full (seqLen 5): 2000 FLOPs, weights only. Block-only (seqLen 2 over 3 cached): linear 2*144*2 = 576,
    // pairs 2*(3+2) = 10 -> 160, LM head 160 = 896 FLOPs; weights 196 + KV 3*2*2 = 12 elements read.
    const cached = { ...params, blockLength: 2, cache: 'prefix' as const };
    expect(requestCost(llada, req([[1, 2, 3]], 2), 3, cached)).toEqual({ all: w(3, 2000 + 2 * 896, (196 + 2 * 208) * 4) });
  });

  it('llada with CFG doubles the rows', () => {
    // 2 rows: linear 2880, attention 800, LM head 320 = 4000; the weights are read once.
    expect(requestCost(llada, req([[1, 2, 3]], 2), 1, { ...params, cfgScale: 1 })).toEqual({ all: w(1, 4000, 784) });
  });

  it('ar: one causal prefill, then one-token decode steps over a growing cache', () => {
    // Prefill (seqLen 3): linear 864, pairs 3*4/2 = 6 -> 96, LM head 80 = 1040 FLOPs; weights 196 elements.
    // Decode past 3: 288 + 16*(3+1) + 80 = 432 FLOPs; 196 + KV 3*2*2 = 12 elements.
    // Decode past 4: 288 + 16*(4+1) + 80 = 448 FLOPs; 196 + 16 elements.
    const prefill = w(1, 1040, 196 * 4);
    const decode = w(2, 432 + 448, (208 + 212) * 4);
    expect(requestCost(ar, req([[1, 2, 3]], 3), 3, params)).toEqual({ all: w(3, 1920, (196 + 208 + 212) * 4), prefill, decode });
    expect(requestCost({ ...ar, info: { dtype: 'fp16' } }, req([[1, 2, 3]], 3), 3, params)!.all).toEqual(w(3, 1920, 616 * 2));
  });

  it('the longest row sets the prompt length of a batch', () => {
    // Two rows of 3 (the shorter one left-padded): twice the one-row prefill FLOPs, weights read once.
    const one = requestCost(ar, req([[1, 2, 3]], 1), 1, params)!;
    const two = requestCost(ar, req([[1, 2, 3], [4]], 1), 1, params)!;
    expect(two.all.flops).toBe(2 * one.all.flops);
    expect(two.all.memoryBytes).toBe(196 * 4);
    expect(two.decode).toEqual(w(0, 0, 0));
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

/** Two AR requests of one row each: 3 forwards, 4 and 2 tokens with their arrival times. */
const outs = [
  output({ generatedTokenCounts: [4], usefulTokens: [3], totalMs: 200, forwardMs: 150, tokenTimesMs: [[10, 40, 70, 100]], hostDeviceBytesPerForward: 0 }, 3),
  output({ generatedTokenCounts: [2], usefulTokens: [2], totalMs: 300, forwardMs: 250, tokenTimesMs: [[20, 60]], failures: [{ row: 1, code: 'stream-cut', message: 'cut' }] }, 3),
];
const reqs = [req([[1, 2, 3]], 4), req([[1, 2, 3]], 4)];

describe('toSample', () => {

  it('gives every field per request, rates over the repetition, and the raw values', () => {
    const { sample } = toSample(ar, reqs, outs, params);
    expect(sample).toEqual({
      requests: 2,
      latencyMs: 250, // (200 + 300) / 2 requests
      generatedTokens: 3, // (4 + 2) / 2 (the per-row counts, not the id rows, are what counts)
      usefulTokens: 2.5,
      tokensPerSec: 12, // 6 / 0.5 s
      usefulTokensPerSec: 10,
      nfe: 3, // (3 + 3) / 2 requests
      tokensPerForward: 1, // 6 / 6
      timePerForwardMs: 400 / 6,
      forwardMs: 200, // (150 + 250) / 2: latencyMs - forwardMs is the host overhead per request
      ttftMs: 15, // mean of 10 and 20
      tpotMs: 35, // mean over answers of (100 - 10) / 3 = 30 and (60 - 20) / 1 = 40
      itlMs: 32.5, // mean of the pooled gaps 30, 30, 30, 40
      values: { latencyMs: [200, 300], ttftMs: [10, 20], tpotMs: [30, 40], itlMs: [30, 30, 30, 40] },
      hostDeviceBytesPerForward: 0,
      errors: 1,
    });
    expect(sample.latencyMs - sample.forwardMs!).toBeGreaterThan(0);
  });

  it('sums the requests work with their times: prefill until the first token, decode after it', () => {
    // Each request: the AR request above (prefill 1040 FLOPs, 784 bytes; decode 880 FLOPs, 1680 bytes).
    // Trace entries last 1 ms each, so the prefill's in-run time is 1 ms; its wall time ends at the first token.
    expect(toSample(ar, reqs, outs, params).work).toEqual({
      all: { forwards: 6, flops: 3840, memoryBytes: 2 * 2464, inRunMs: 400, endToEndMs: 500 },
      prefill: { forwards: 2, flops: 2080, memoryBytes: 1568, inRunMs: 2, endToEndMs: 10 + 20 },
      decode: { forwards: 4, flops: 1760, memoryBytes: 3360, inRunMs: 149 + 249, endToEndMs: 190 + 280 },
    });
    expect(toSample({ ...ar, spec: null }, reqs, outs, params).work).toBeNull();
    // Diffusion has no phases.
    expect(toSample(llada, reqs, outs, { ...params, steps: 3, blockLength: 4 }).work!.prefill).toBeUndefined();
  });

  it('leaves out what was not measured', () => {
    const plain = output({ generatedTokenCounts: [2, 2], usefulTokens: [1, 0], totalMs: 100, forwardMs: 80 }, 2);
    const { sample } = toSample(ar, [req([[1], [2]], 2)], [plain], params);
    expect(sample).toEqual({
      requests: 1,
      latencyMs: 100,
      generatedTokens: 4,
      usefulTokens: 1,
      tokensPerSec: 40,
      usefulTokensPerSec: 10,
      nfe: 2,
      tokensPerForward: 2,
      timePerForwardMs: 40,
      forwardMs: 80,
      values: { latencyMs: [100] },
    });
  });
});

describe('caseEfficiency', () => {
  const peak = { flopsPerSec: 1e6, bytesPerSec: 1e5, source: 'test peak' };
  it('splits AR into prefill and decode against the engine peak, in run and end to end', () => {
    const { work } = toSample(ar, reqs, outs, params);
    const e = caseEfficiency(work!, 2, peak);
    expect(e).toMatchObject({ peakTflops: 1e-6, peakMemoryBandwidthGBps: 1e-4, peakSource: 'test peak', forwards: 3 });
    // decode: 1760 FLOPs in 0.398 s of session.run; 3360 bytes over 0.470 s of wall time
    expect(e.decode!.mfuInRun).toBeCloseTo(1760 / 0.398 / 1e6, 12);
    expect(e.decode!.mbuEndToEnd).toBeCloseTo(3360 / 0.47 / 1e5, 12);
    expect(e.decode!.forwards).toBe(2);
    expect(e.prefill!.mfuEndToEnd).toBeCloseTo(2080 / 0.03 / 1e6, 12);
  });
});

describe('engineCall', () => {
  /** A stand-in engine that records the options of each call. */
  function recording<O>(seen: O[]): Engine<O> {
    const ok: EngineResult = { ok: false, error: { code: 'runtime', message: 'not run' } };
    return {
      info: { kind: 'llada', model: 'm', family: 'llada', device: 'cpu', executionProvider: 'cpu', dtype: 'fp32', synthetic: true, handicaps: [], handicapCodes: [], eosTokenIds: [] },
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
