/**
 * The LLaDA engine against an independent implementation of the reference sampler (written here from the
 * algorithm's description, over the model's full logits computed in float64), token for token.
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import ort from 'onnxruntime-node';
import { createLladaEngine, type StepEvent } from '../../src/engines/llada/engine.js';
import type { Engine } from '../../src/engines/types.js';
import { DEFAULT_LLADA_OPTIONS, transferSchedule, validateLladaOptions } from '../../src/engines/llada/sampler.js';
import type { LladaGenerateOptions } from '../../src/engines/llada/engine.js';
import { buildMicroModel, microSpec } from '../helpers/models.js';
import { okValue } from '../helpers/engine.js';

const spec = microSpec('llada', { vocabSize: 128, maxPositions: 128 });
const MASK = spec.maskTokenId!;
const PAD = spec.padTokenId!;
let built: ReturnType<typeof buildMicroModel>;
let engine: Engine<LladaGenerateOptions>;
let session: ort.InferenceSession;

beforeAll(async () => {
  built = buildMicroModel(spec, 11);
  engine = await createLladaEngine({ modelDir: built.out, device: 'cpu' });
  session = await ort.InferenceSession.create(`${built.out}/onnx/model.onnx`, { logSeverityLevel: 3 });
});
afterAll(async () => {
  await engine.dispose();
});

/** Full logits [rows][L][V] for a batch, straight from the graph's logits output. */
async function fullLogits(x: number[][], attn: number[][]): Promise<Float64Array[][]> {
  const rows = x.length;
  const L = x[0]!.length;
  const t = (a: number[][]) => new ort.Tensor('int64', BigInt64Array.from(a.flat().map(BigInt)), [rows, L]);
  const out = await session.run({
    input_ids: t(x),
    attention_mask: t(attn),
    position_ids: t(x.map((r) => r.map((_, i) => i))),
    logits_start: new ort.Tensor('int64', BigInt64Array.from([0n]), [1]),
    cfg_scale: new ort.Tensor('float32', Float32Array.from([0]), [1]),
    temperature: new ort.Tensor('float32', Float32Array.from([0]), [1]),
    noise_seed: new ort.Tensor('int64', BigInt64Array.from([0n]), [1]),
  });
  const V = spec.vocabSize;
  const data = out.logits!.data as Float32Array;
  return x.map((_, r) => Array.from({ length: L }, (_, i) => Float64Array.from(data.subarray((r * L + i) * V, (r * L + i + 1) * V))));
}

/** The reference algorithm, written independently: fixed schedule, low-confidence remasking, T = 0. */
async function referenceGenerate(prompts: number[][], gen: number, steps: number, block: number, cfg = 0) {
  const B = prompts.length;
  const P = Math.max(...prompts.map((p) => p.length));
  const x = prompts.map((p) => [...Array(P - p.length).fill(PAD), ...p, ...Array(gen).fill(MASK)]);
  const attn = prompts.map((p) => [...Array(P - p.length).fill(0), ...Array(p.length + gen).fill(1)]);
  const promptIndex = x.map((r) => r.map((t) => t !== MASK));
  const nBlocks = gen / block;
  const perBlock = steps / nBlocks;
  const history: { committed: number[]; positions: number[][] }[] = [];
  for (let nb = 0; nb < nBlocks; nb++) {
    const start = P + nb * block;
    const end = start + block;
    const num = x.map((r) => {
      const masked = r.slice(start, end).filter((t) => t === MASK).length;
      const base = Math.floor(masked / perBlock);
      return Array.from({ length: perBlock }, (_, i) => base + (i < masked % perBlock ? 1 : 0));
    });
    for (let i = 0; i < perBlock; i++) {
      let logits: Float64Array[][];
      if (cfg > 0) {
        const un = x.map((r, b) => r.map((t, j) => (promptIndex[b]![j] ? MASK : t)));
        const both = await fullLogits([...x, ...un], [...attn, ...attn]);
        logits = both.slice(0, B).map((rows, b) => rows.map((c, j) => c.map((v, k) => both[B + b]![j]![k]! + (cfg + 1) * (v - both[B + b]![j]![k]!))));
      } else {
        logits = await fullLogits(x, attn);
      }
      const step = { committed: [] as number[], positions: [] as number[][] };
      for (let b = 0; b < B; b++) {
        const conf: number[] = [];
        const x0: number[] = [];
        for (let j = 0; j < x[b]!.length; j++) {
          const l = logits[b]![j]!;
          let best = 0;
          for (let k = 1; k < l.length; k++) if (l[k]! > l[best]!) best = k;
          const m = l[best]!;
          let z = 0;
          for (const v of l) z += Math.exp(v - m);
          x0.push(best);
          conf.push(j >= end || x[b]![j] !== MASK ? -Infinity : 1 / z);
        }
        const order = conf.map((c, j) => [c, j] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
        const chosen = order.slice(0, num[b]![i]!).map(([, j]) => j);
        for (const j of chosen) x[b]![j] = x0[j]!;
        step.committed.push(chosen.length);
        step.positions.push(chosen.sort((a, c) => a - c));
      }
      history.push(step);
    }
  }
  return { tokens: x.map((r) => r.slice(P)), history };
}

const prompts1 = [[90, 3, 14, 15, 92, 65, 35]];
const batch = [
  [90, 3, 14, 15, 92, 65, 35],
  [90, 27, 18], // left padded inside the batch
];

describe('LLaDA engine = reference sampler, token for token', () => {
  it.each([
    [16, 16, 16],
    [16, 8, 4],
    [24, 12, 8],
    [8, 16, 8], // more steps than tokens: some steps commit nothing, as in the reference
  ])('gen_length %i, steps %i, block_length %i', async (gen, steps, block) => {
    const ref = await referenceGenerate(prompts1, gen, steps, block);
    const events: StepEvent[] = [];
    const r = await engine.generate({ prompts: prompts1, genLength: gen }, { ...DEFAULT_LLADA_OPTIONS, steps, blockLength: block, onStep: (e) => events.push(e) });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.tokens).toEqual(ref.tokens);
    expect(r.value.trace.length).toBe(steps); // NFE = steps in the fixed schedule
    expect(r.value.trace.map((t) => t.tokensCommitted)).toEqual(ref.history.map((h) => h.committed.reduce((a, c) => a + c, 0)));
    // Invariant: nothing outside the current block is committed.
    const perBlock = steps / (gen / block);
    let prev = Array(gen).fill(MASK);
    for (const e of events) {
      const blk = Math.floor(e.step / perBlock);
      e.tokens[0]!.forEach((t, p) => {
        if (t !== prev[p]) expect(Math.floor(p / block)).toBe(blk);
      });
      prev = e.tokens[0]!;
    }
  });

  it('with classifier-free guidance', async () => {
    const ref = await referenceGenerate(prompts1, 16, 8, 8, 1.5);
    const r = await engine.generate({ prompts: prompts1, genLength: 16 }, { ...DEFAULT_LLADA_OPTIONS, steps: 8, blockLength: 8, cfgScale: 1.5 });
    expect(okValue(r).tokens).toEqual(ref.tokens);
    const plain = await engine.generate({ prompts: prompts1, genLength: 16 }, { ...DEFAULT_LLADA_OPTIONS, steps: 8, blockLength: 8 });
    expect(okValue(plain).tokens).not.toEqual(ref.tokens);
  });

  it('for a left-padded batch', async () => {
    const ref = await referenceGenerate(batch, 16, 8, 8);
    const r = await engine.generate({ prompts: batch, genLength: 16 }, { ...DEFAULT_LLADA_OPTIONS, steps: 8, blockLength: 8 });
    expect(okValue(r).tokens).toEqual(ref.tokens);
    expect(okValue(r).trace.map((t) => t.tokensCommitted)).toEqual(ref.history.map((h) => h.committed.reduce((a, c) => a + c, 0)));
  });
});

describe('LLaDA engine behaviour', () => {
  it('follows the linear schedule per step and never changes the prompt region', async () => {
    const counts: number[] = [];
    const r = await engine.generate({ prompts: prompts1, genLength: 12 }, { ...DEFAULT_LLADA_OPTIONS, steps: 5, blockLength: 12, onStep: (e) => counts.push(e.committed) });
    expect(r.ok).toBe(true);
    expect(counts).toEqual(transferSchedule(12, 5)); // [3,3,2,2,2]
    expect(transferSchedule(12, 5)).toEqual([3, 3, 2, 2, 2]);
    if (r.ok) expect(r.value.tokens[0]!.length).toBe(12);
  });

  it('threshold decoding commits several tokens per forward and saves forward passes', async () => {
    const fixed = await engine.generate({ prompts: prompts1, genLength: 16 }, { ...DEFAULT_LLADA_OPTIONS, steps: 16, blockLength: 8 });
    const fast = await engine.generate({ prompts: prompts1, genLength: 16 }, { ...DEFAULT_LLADA_OPTIONS, blockLength: 8, threshold: 0.05 });
    const loose = await engine.generate({ prompts: prompts1, genLength: 16 }, { ...DEFAULT_LLADA_OPTIONS, blockLength: 8, threshold: 1 });
    if (!fixed.ok || !fast.ok || !loose.ok) throw new Error('generation failed');
    expect(fast.value.trace.length).toBeLessThan(fixed.value.trace.length);
    expect(fast.value.trace.reduce((a, t) => a + t.tokensCommitted, 0)).toBe(16);
    // threshold 1 can never be exceeded: exactly one token per forward, like steps = gen_length.
    expect(loose.value.trace.length).toBe(16);
    expect(loose.value.tokens).toEqual(fixed.value.tokens);
  });

  it('random remasking is seeded; temperature sampling is seeded', async () => {
    const o = { ...DEFAULT_LLADA_OPTIONS, steps: 8, blockLength: 8 };
    const a = await engine.generate({ prompts: prompts1, genLength: 8 }, { ...o, remasking: 'random', seed: 1 });
    const b = await engine.generate({ prompts: prompts1, genLength: 8 }, { ...o, remasking: 'random', seed: 1 });
    const t1 = await engine.generate({ prompts: prompts1, genLength: 8 }, { ...o, temperature: 2, seed: 3 });
    const t2 = await engine.generate({ prompts: prompts1, genLength: 8 }, { ...o, temperature: 2, seed: 3 });
    const t3 = await engine.generate({ prompts: prompts1, genLength: 8 }, { ...o, temperature: 2, seed: 4 });
    const tok = (r: typeof a) => okValue(r).tokens;
    expect(tok(a)).toEqual(tok(b));
    expect(tok(t1)).toEqual(tok(t2));
    expect(tok(t1)).not.toEqual(tok(t3));
  });

  it('rejects invalid combinations before any work, as values', async () => {
    const r = await engine.generate({ prompts: prompts1, genLength: 10 }, { ...DEFAULT_LLADA_OPTIONS, blockLength: 4 });
    expect(r).toEqual({ ok: false, error: { code: 'invalid-options', message: 'gen_length (10) must be a multiple of block_length (4)' } });
    expect(validateLladaOptions(16, { ...DEFAULT_LLADA_OPTIONS, steps: 3, blockLength: 8 })).toMatch(/steps \(3\) must be a multiple of the number of blocks/);
    const long = await engine.generate({ prompts: [Array(120).fill(5)], genLength: 16 }, { ...DEFAULT_LLADA_OPTIONS, steps: 16, blockLength: 16 });
    expect(long.ok).toBe(false);
    if (!long.ok) expect(long.error.message).toMatch(/exceeds the model's maximum length 128/);
  });

  it('counts useful tokens up to the first EOS/EoT', async () => {
    const r = await engine.generate({ prompts: prompts1, genLength: 16 }, { ...DEFAULT_LLADA_OPTIONS, steps: 16, blockLength: 16 });
    if (!r.ok) throw new Error(r.error.message);
    const toks = r.value.tokens[0]!;
    const stop = toks.findIndex((t) => spec.eosTokenIds.includes(t));
    expect(r.value.usefulTokens[0]).toBe(stop < 0 ? 16 : stop);
  });
});
