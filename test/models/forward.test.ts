import { describe, expect, it } from 'vitest';
import ort from 'onnxruntime-node';
import { buildMicroModel, microSpec, toRefSpec } from '../helpers/models.js';
import { argmax, loadCheckpoint, referenceForward, softmax } from '../helpers/reference-forward.js';
import type { Family } from '../../src/models/spec.js';

const i64 = (rows: number[][]) => new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [rows.length, rows[0]!.length]);
const scalarI64 = (v: number) => new ort.Tensor('int64', BigInt64Array.from([BigInt(v)]), [1]);
const scalarF = (v: number) => new ort.Tensor('float32', Float32Array.from([v]), [1]);

const ids = [
  [90, 5, 17, 33, 95, 95, 95],
  [92, 92, 90, 8, 95, 95, 95], // left padded
];
const mask = [
  [1, 1, 1, 1, 1, 1, 1],
  [0, 0, 1, 1, 1, 1, 1],
];
const positions = ids.map((r) => r.map((_, i) => i));

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

async function diffusionRun(path: string, feeds: { ids: number[][]; mask: number[][]; start?: number; cfg?: number; temperature?: number; seed?: number }) {
  const s = await ort.InferenceSession.create(path, { logSeverityLevel: 3 });
  return s.run({
    input_ids: i64(feeds.ids),
    attention_mask: i64(feeds.mask),
    position_ids: i64(feeds.ids.map((r) => r.map((_, i) => i))),
    logits_start: scalarI64(feeds.start ?? 0),
    cfg_scale: scalarF(feeds.cfg ?? 0),
    temperature: scalarF(feeds.temperature ?? 0),
    noise_seed: scalarI64(feeds.seed ?? 0),
  });
}

describe.each([
  ['mha', 4],
  ['gqa', 2],
] as const)('diffusion graph (%s attention) equals the plain forward', (_label, kv) => {
  const spec = microSpec('llada', { numKvHeads: kv });
  const built = buildMicroModel(spec, 3);
  const weights = loadCheckpoint(built.ckpt);
  const ref = referenceForward(toRefSpec(spec), weights, ids, mask, positions, false);

  it('logits match within fp32 tolerance; x0 = argmax, confidence = softmax[x0]', async () => {
    const out = await diffusionRun(`${built.out}/${built.result.meta.onnxFile}`, { ids, mask });
    const V = spec.vocabSize;
    const logits = out.logits!.data as Float32Array;
    const x0 = out.x0!.data as BigInt64Array;
    const conf = out.confidence!.data as Float32Array;
    expect(out.x0!.dims).toEqual([2, 7]);
    for (let b = 0; b < 2; b++) {
      for (let t = 0; t < 7; t++) {
        const off = (b * 7 + t) * V;
        const row = logits.subarray(off, off + V);
        expect(maxAbsDiff(row, ref[b]![t]!)).toBeLessThan(2e-3);
        const best = argmax(row);
        expect(Number(x0[b * 7 + t])).toBe(best);
        expect(conf[b * 7 + t]).toBeCloseTo(softmax(Float64Array.from(row))[best]!, 5);
      }
    }
  });

  it('logits_start restricts the head to the generated region', async () => {
    const full = await diffusionRun(`${built.out}/onnx/model.onnx`, { ids, mask });
    const tail = await diffusionRun(`${built.out}/onnx/model.onnx`, { ids, mask, start: 4 });
    expect(tail.x0!.dims).toEqual([2, 3]);
    const fx = Array.from(full.x0!.data as BigInt64Array);
    expect(Array.from(tail.x0!.data as BigInt64Array)).toEqual([...fx.slice(4, 7), ...fx.slice(11, 14)]);
  });
});

describe('diffusion sampling head', () => {
  const spec = microSpec('llada');
  const built = buildMicroModel(spec, 5);
  const path = `${built.out}/onnx/model.onnx`;

  it('classifier-free guidance combines the conditional and unconditional halves', async () => {
    const cond = ids[0]!;
    const uncond = cond.map((t, i) => (i < 4 ? 95 : t));
    const both = await diffusionRun(path, { ids: [cond, uncond], mask: [mask[0]!, mask[0]!] });
    const guided = await diffusionRun(path, { ids: [cond, uncond], mask: [mask[0]!, mask[0]!], cfg: 1.5 });
    const V = spec.vocabSize;
    const raw = both.logits!.data as Float32Array;
    const g = guided.logits!.data as Float32Array;
    expect(guided.x0!.dims).toEqual([1, 7]);
    for (let i = 0; i < 7 * V; i++) {
      const c = raw[i]!;
      const u = raw[7 * V + i]!;
      expect(Math.abs(g[i]! - (u + 2.5 * (c - u)))).toBeLessThan(1e-4);
    }
  });

  it('temperature > 0 samples with Gumbel noise: reproducible per seed, different across seeds', async () => {
    const greedy = await diffusionRun(path, { ids, mask });
    const a = await diffusionRun(path, { ids, mask, temperature: 5, seed: 7 });
    const b = await diffusionRun(path, { ids, mask, temperature: 5, seed: 7 });
    const c = await diffusionRun(path, { ids, mask, temperature: 5, seed: 8 });
    const arr = (r: typeof a) => Array.from(r.x0!.data as BigInt64Array).map(Number);
    expect(arr(a)).toEqual(arr(b));
    expect(arr(a)).not.toEqual(arr(c));
    expect(arr(a)).not.toEqual(arr(greedy));
    // Confidence is still the un-noised softmax probability of the sampled token.
    const V = spec.vocabSize;
    const logits = a.logits!.data as Float32Array;
    const conf = a.confidence!.data as Float32Array;
    arr(a).forEach((tok, i) => {
      const p = softmax(Float64Array.from(logits.subarray(i * V, (i + 1) * V)));
      expect(conf[i]).toBeCloseTo(p[tok]!, 5);
    });
  });
});

describe.each([
  ['llama', 4],
  ['llama', 2],
] as [Family, number][])('causal graph (%s, %i KV heads) equals the plain forward', (family, kv) => {
  const spec = microSpec(family, { numKvHeads: kv });
  const built = buildMicroModel(spec, 4);
  const weights = loadCheckpoint(built.ckpt);
  const prompts = [
    [90, 5, 17, 33, 40, 41],
    [92, 92, 90, 8, 9, 10],
  ];
  const pos = [
    [0, 1, 2, 3, 4, 5],
    [0, 0, 0, 1, 2, 3], // positions skip padding, as transformers.js computes them
  ];
  const ref = referenceForward(toRefSpec(spec), weights, prompts, mask.map((m) => m.slice(1)), pos, true);
  const empty = (b: number) => new ort.Tensor('float32', new Float32Array(0), [b, kv, 0, spec.headDim]);

  it('prefill logits match; incremental decoding with the KV cache matches the full pass', async () => {
    const s = await ort.InferenceSession.create(`${built.out}/onnx/model.onnx`, { logSeverityLevel: 3 });
    const m = mask.map((r) => r.slice(1));
    const past: Record<string, ort.Tensor> = {};
    for (let l = 0; l < spec.numLayers; l++) {
      past[`past_key_values.${l}.key`] = empty(2);
      past[`past_key_values.${l}.value`] = empty(2);
    }
    // Prefill all but the last token, then decode the last one with the cache.
    const pre = await s.run({ input_ids: i64(prompts.map((r) => r.slice(0, 5))), attention_mask: i64(m.map((r) => r.slice(0, 5))), position_ids: i64(pos.map((r) => r.slice(0, 5))), num_logits_to_keep: new ort.Tensor('int64', BigInt64Array.from([0n]), []), ...past });
    const V = spec.vocabSize;
    const logits = pre.logits!.data as Float32Array;
    for (let b = 0; b < 2; b++) {
      for (let t = 0; t < 5; t++) {
        if (m[b]![t] === 0) continue;
        expect(maxAbsDiff(logits.subarray((b * 5 + t) * V, (b * 5 + t + 1) * V), ref[b]![t]!)).toBeLessThan(2e-3);
      }
    }
    const cache: Record<string, ort.Tensor> = {};
    for (let l = 0; l < spec.numLayers; l++) {
      cache[`past_key_values.${l}.key`] = pre[`present.${l}.key`]!;
      cache[`past_key_values.${l}.value`] = pre[`present.${l}.value`]!;
      expect(pre[`present.${l}.key`]!.dims).toEqual([2, kv, 5, spec.headDim]);
    }
    const step = await s.run({ input_ids: i64(prompts.map((r) => [r[5]!])), attention_mask: i64(m), position_ids: i64(pos.map((r) => [r[5]!])), num_logits_to_keep: new ort.Tensor('int64', BigInt64Array.from([1n]), []), ...cache });
    const last = step.logits!.data as Float32Array;
    for (let b = 0; b < 2; b++) expect(maxAbsDiff(last.subarray(b * V, (b + 1) * V), ref[b]![5]!)).toBeLessThan(2e-3);
  });
});

describe('fp16 weights', () => {
  it('builds a model_fp16.onnx that runs on the CPU provider and tracks the fp32 logits', async () => {
    const spec = microSpec('llada');
    const built = buildMicroModel(spec, 3, 'fp16');
    expect(built.result.meta.onnxFile).toBe('onnx/model_fp16.onnx');
    const out = await diffusionRun(`${built.out}/onnx/model_fp16.onnx`, { ids, mask });
    const ref = referenceForward(toRefSpec(spec), loadCheckpoint(built.ckpt), ids, mask, positions, false);
    const logits = out.logits!.data as Float32Array;
    const V = spec.vocabSize;
    let agree = 0;
    for (let i = 0; i < 14; i++) {
      const row = logits.subarray(i * V, (i + 1) * V);
      expect(maxAbsDiff(row, ref[Math.floor(i / 7)]![i % 7]!)).toBeLessThan(0.15);
      if (argmax(row) === argmax(ref[Math.floor(i / 7)]![i % 7]!)) agree++;
    }
    expect(agree).toBeGreaterThanOrEqual(12);
  });
});
