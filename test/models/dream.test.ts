/**
 * The Dream family: a Dream-v0 checkpoint in its native layout (BF16, sharded, Qwen2 weights with q/k/v biases,
 * untied head, model_type "Dream"), written here, converts to a bidirectional diffusion graph whose logits match the
 * float64 reference forward shifted by one position; Dream's sampler matches a plain re-implementation of Dream's
 * `_sample` token for token for every algorithm at temperature 0.
 */
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DREAM_ALGS, type DreamAlg, type DreamForward, type DreamSamplerOptions, dreamSample, dreamTimesteps, filterLogits } from '../../src/engines/dream/sampler.js';
import { convertCheckpoint } from '../../src/models/build.js';
import { specFromConfig } from '../../src/models/families.js';
import { mulberry32 } from '../../src/util/random.js';
import { hfDecoderTensors, writeShardedCheckpoint, qwen2LayoutConfig } from '../helpers/hf-checkpoint.js';
import { tempDir } from '../helpers/models.js';
import { type RefSpec, argmax, loadCheckpoint, referenceForward } from '../helpers/reference-forward.js';

const shape = { vocab: 96, d: 32, layers: 2, heads: 4, kvHeads: 2, headDim: 8, mlp: 48 };
const MASK = 95;
const dreamConfig = {
  architectures: ['DreamModel'],
  model_type: 'Dream',
  ...qwen2LayoutConfig(shape, false),
  use_sliding_window: false,
  mask_token_id: MASK,
  pad_token_id: 92,
  bos_token_id: 90,
  eos_token_id: 92,
  torch_dtype: 'bfloat16',
};
const ref: RefSpec = { family: 'dream', vocab: shape.vocab, d: shape.d, layers: shape.layers, heads: shape.heads, kvHeads: shape.kvHeads, headDim: shape.headDim, mlp: shape.mlp, theta: 1e6, eps: 1e-6, tied: false };

let ckpt: string;
let session: ort.InferenceSession;
const i64 = (rows: number[][]) => new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [rows.length, rows[0]!.length]);
const f1 = (v: number) => new ort.Tensor('float32', Float32Array.from([v]), [1]);
const l1 = (v: number) => new ort.Tensor('int64', BigInt64Array.from([BigInt(v)]), [1]);

/** The converted graph's logits over whole canvases (logits_start 0, no CFG, no noise). */
const onnxForward: DreamForward = async (canvas) => {
  const L = canvas[0]!.length;
  const out = await session.run({
    input_ids: i64(canvas),
    attention_mask: i64(canvas.map((r) => r.map(() => 1))),
    position_ids: i64(canvas.map((r) => r.map((_, i) => i))),
    logits_start: l1(0),
    cfg_scale: f1(0),
    temperature: f1(0),
    noise_seed: l1(0),
  });
  const data = out.logits!.data as Float32Array;
  return canvas.map((_, b) => Array.from({ length: L }, (_, p) => data.subarray((b * L + p) * shape.vocab, (b * L + p + 1) * shape.vocab)));
};

beforeAll(async () => {
  ckpt = join(tempDir(), 'dream');
  writeShardedCheckpoint(ckpt, dreamConfig, hfDecoderTensors(shape, 41, { bias: true, tied: false }), 2);
  const out = join(tempDir(), 'model');
  const r = convertCheckpoint(ckpt, out, { dtype: 'fp32' });
  expect(r.meta).toMatchObject({ family: 'dream', graph: 'diffusion' });
  session = await ort.InferenceSession.create(join(out, 'onnx', 'model.onnx'), { logSeverityLevel: 3 });
});
afterAll(async () => {
  await session.release();
});

describe('dream family', () => {
  it('reads model_type "Dream", its mask id from the config, and refuses a config without one', () => {
    expect(specFromConfig(dreamConfig, 'c.json')).toMatchObject({ family: 'dream', maskTokenId: MASK, numKvHeads: 2, rmsNormEps: 1e-6, tieWordEmbeddings: false });
    const { mask_token_id: _m, ...noMask } = dreamConfig;
    expect(() => specFromConfig(noMask, 'c.json')).toThrow(/c\.json: a Dream config needs "mask_token_id"/);
  });

  it('the diffusion graph is bidirectional, biased and shifted: logits at i are the reference at i - 1 (0 at 0)', async () => {
    const ids = [90, 7, 9, MASK, 44, MASK, MASK, 12];
    const logits = (await onnxForward([ids]))[0]!;
    const plain = referenceForward(ref, loadCheckpoint(ckpt), [ids], [ids.map(() => 1)], [ids.map((_, i) => i)], false)[0]!;
    for (let p = 0; p < ids.length; p++) {
      const expected = plain[Math.max(0, p - 1)]!;
      let diff = 0;
      for (let k = 0; k < shape.vocab; k++) diff = Math.max(diff, Math.abs(logits[p]![k]! - expected[k]!));
      expect(diff).toBeLessThan(2e-3);
      expect(argmax(logits[p]!)).toBe(argmax(expected));
    }
    // Unshifted, position 3 would differ: the shift is visible.
    let unshifted = 0;
    for (let k = 0; k < shape.vocab; k++) unshifted = Math.max(unshifted, Math.abs(logits[3]![k]! - plain[3]![k]!));
    expect(unshifted).toBeGreaterThan(0.1);
  });
});

/**
 * Dream's `_sample` re-written plainly, the way the PyTorch code reads: boolean indexing over the whole [B, L] canvas
 * in row-major order, a [B, L] confidence filled with -inf, top-k per row.
 */
async function plainDreamSample(prompt: number[][], forward: DreamForward, o: DreamSamplerOptions, rand: () => number): Promise<number[][]> {
  const x = prompt.map((r) => [...r, ...Array<number>(o.genLength).fill(o.maskId)]);
  const B = x.length;
  const L = x[0]!.length;
  const timesteps = Array.from({ length: o.steps + 1 }, (_, i) => 1 + (o.eps - 1) * (i / o.steps));
  timesteps[o.steps] = o.eps;
  for (let i = 0; i < o.steps; i++) {
    const maskIndex = x.map((r) => r.map((v) => v === o.maskId));
    const logits = await forward(x);
    const flat: { b: number; p: number; logits: ArrayLike<number> }[] = [];
    for (let b = 0; b < B; b++) for (let p = 0; p < L; p++) if (maskIndex[b]![p]) flat.push({ b, p, logits: logits[b]![p]! });
    const t = timesteps[i]!;
    const s = timesteps[i + 1]!;
    const probsOf = (l: ArrayLike<number>) => {
      const m = Math.max(...Array.from(l));
      const e = Array.from(l, (v) => Math.exp(v - m));
      const z = e.reduce((a, c) => a + c, 0);
      return e.map((v) => v / z);
    };
    if (o.alg === 'origin') {
      const pTransfer = i < o.steps - 1 ? 1 - s / t : 1;
      const transfer = flat.map(() => rand() < pTransfer);
      flat.forEach((m, j) => {
        if (transfer[j]) x[m.b]![m.p] = argmax(m.logits);
      });
      continue;
    }
    const conf: number[] = [];
    const x0: number[] = [];
    for (const m of flat) {
      const probs = probsOf(m.logits);
      const top = argmax(probs);
      x0.push(top);
      const sorted = [...probs].sort((a, c) => c - a);
      if (o.alg === 'maskgit_plus') conf.push(sorted[0]!);
      else if (o.alg === 'topk_margin') conf.push(sorted[0]! - sorted[1]!);
      else conf.push(probs.reduce((acc, q) => acc + q * Math.log(q + 1e-10), 0));
    }
    const numMask = flat.length / B;
    const n = i < o.steps - 1 ? Math.trunc(numMask * (1 - s / t)) : Math.trunc(numMask);
    if (n <= 0) continue;
    const full = x.map((r) => r.map(() => -Infinity));
    const proposal = x.map((r) => r.map(() => o.maskId));
    flat.forEach((m, j) => {
      full[m.b]![m.p] = conf[j]!;
      proposal[m.b]![m.p] = x0[j]!;
    });
    for (let b = 0; b < B; b++) {
      const order = full[b]!.map((c, p) => ({ c, p })).sort((a, c) => c.c - a.c || a.p - c.p);
      for (const { p } of order.slice(0, n)) x[b]![p] = proposal[b]![p]!;
    }
  }
  return x.map((r) => r.slice(prompt[0]!.length));
}

describe("Dream's sampler (diffusion_generate)", () => {
  it('timesteps fall linearly from 1 to eps', () => {
    const ts = dreamTimesteps(4, 1e-3);
    expect(ts).toHaveLength(5);
    expect(ts[0]).toBe(1);
    expect(ts[4]).toBe(1e-3);
    expect(ts[2]).toBeCloseTo(0.5005, 12);
  });

  it.each(DREAM_ALGS.map((a) => [a] as [DreamAlg]))('%s at temperature 0 matches the plain _sample token for token', async (alg) => {
    const prompts = [
      [90, 5, 17, 33],
      [90, 8, 61, 2],
    ];
    const o: DreamSamplerOptions = { genLength: 12, steps: 6, eps: 1e-3, alg, algTemp: 0, temperature: 0, topP: null, topK: null, maskId: MASK };
    const got = await dreamSample(prompts, onnxForward, o, mulberry32(7));
    const want = await plainDreamSample(prompts, onnxForward, o, mulberry32(7));
    expect(got.tokens).toEqual(want);
    // Every position is decided by the last step; the confidence algorithms commit floor(m (1 - s/t)) per row.
    for (const row of got.tokens) expect(row).not.toContain(MASK);
    expect(got.committed.reduce((a, b) => a + b, 0)).toBe(2 * 12);
    if (alg !== 'origin') expect(got.committed[0]).toBe(2 * Math.floor(12 * (1 - dreamTimesteps(6, 1e-3)[1]! / 1)));
  });

  it('temperature, top_p and top_k filter as Dream does (top_p keeps the first token past the mass; top_k the k largest)', () => {
    const l = [Math.log(0.5), Math.log(0.3), Math.log(0.15), Math.log(0.05)];
    expect(Array.from(filterLogits(l, 0, 0.7, null)).map(Number.isFinite)).toEqual([true, true, false, false]);
    expect(Array.from(filterLogits(l, 0, 0.4, null)).map(Number.isFinite)).toEqual([true, false, false, false]);
    expect(Array.from(filterLogits(l, 0, null, 3)).map(Number.isFinite)).toEqual([true, true, true, false]);
    expect(filterLogits([2, 4], 2, null, null)).toEqual(Float64Array.from([1, 2]));
  });

  it('alg_temp > 0 draws positions from softmax(confidence / alg_temp): seeded, reproducible, complete', async () => {
    const o: DreamSamplerOptions = { genLength: 8, steps: 4, eps: 1e-3, alg: 'maskgit_plus', algTemp: 0.5, temperature: 0, topP: null, topK: null, maskId: MASK };
    const a = await dreamSample([[90, 5, 17]], onnxForward, o, mulberry32(3));
    const b = await dreamSample([[90, 5, 17]], onnxForward, o, mulberry32(3));
    expect(a.tokens).toEqual(b.tokens);
    expect(a.tokens[0]).not.toContain(MASK);
  });
});
