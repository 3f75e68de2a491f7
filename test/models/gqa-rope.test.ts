/**
 * The AR side at its best, checked against the independent float64 reference: a Llama-3-shaped GQA graph
 * (32 heads / 8 KV heads) uses com.microsoft.GroupQueryAttention and decodes the reference's greedy tokens; a
 * checkpoint with Llama 3.1 rope scaling decodes the reference's tokens well past original_max_position_embeddings.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import ort from 'onnxruntime-node';
import { createOrtArEngine } from '../../src/engines/ar-ort/engine.js';
import type { ArGenerateOptions } from '../../src/engines/ar-common.js';
import type { Engine } from '../../src/engines/types.js';
import { convertCheckpoint } from '../../src/models/build.js';
import { configFromSpec, specFromConfig } from '../../src/models/families.js';
import { inspectModel } from '../../src/models/inspect.js';
import type { TransformerSpec } from '../../src/models/spec.js';
import { writeSyntheticCheckpoint } from '../../src/models/synthetic.js';
import { UserError } from '../../src/util/errors.js';
import { buildMicroModel, microSpec, tempDir, toRefSpec } from '../helpers/models.js';
import { type RefSpec, argmax, loadCheckpoint, referenceForward } from '../helpers/reference-forward.js';

/** Greedy decoding over the reference forward (full recompute each step). */
function referenceGreedy(ref: RefSpec, ckpt: string, prompt: number[], n: number): number[] {
  const w = loadCheckpoint(ckpt);
  const seq = [...prompt];
  for (let i = 0; i < n; i++) {
    const logits = referenceForward(ref, w, [seq], [seq.map(() => 1)], [seq.map((_, j) => j)], true);
    seq.push(argmax(logits[0]!.at(-1)!));
  }
  return seq.slice(prompt.length);
}

async function greedyWith(dir: string, prompts: number[][], n: number): Promise<number[][]> {
  const engine: Engine<ArGenerateOptions> = await createOrtArEngine({ modelDir: dir, device: 'cpu' });
  try {
    const r = await engine.generate({ prompts, genLength: n }, { mode: 'fixed' });
    if (!r.ok) throw new Error(r.error.message);
    return r.value.tokens;
  } finally {
    await engine.dispose();
  }
}

describe('Llama-3-shaped GQA (32 heads, 8 KV heads) uses GroupQueryAttention', () => {
  const spec = microSpec('llama', { hiddenSize: 64, numHeads: 32, numKvHeads: 8, headDim: 8, intermediateSize: 96 });
  const prompt = [90, 5, 17, 33, 40, 41, 7];
  const short = [90, 12, 3];
  let fused: ReturnType<typeof buildMicroModel>;
  let expected: number[];
  let expectedShort: number[];
  beforeAll(() => {
    fused = buildMicroModel(spec, 31);
    expected = referenceGreedy(toRefSpec(spec), fused.ckpt, prompt, 8);
    expectedShort = referenceGreedy(toRefSpec(spec), fused.ckpt, short, 8);
  });

  it('the graph holds com.microsoft.GroupQueryAttention, recorded as fused-gqa and shown by models inspect', () => {
    expect(fused.result.meta.attention).toBe('fused-gqa');
    const bytes = readFileSync(join(fused.out, 'onnx/model.onnx')).toString('latin1');
    // One node per layer: its op type and its generated node name both spell the op.
    expect(bytes.split('GroupQueryAttention').length - 1).toBe(2 * spec.numLayers);
    expect(bytes).not.toContain('MultiHeadAttention');
    const info = inspectModel(fused.out);
    expect(info.attention).toBe('fused-gqa');
    expect(info.attentionOp).toBe('com.microsoft.GroupQueryAttention');
  });

  it('greedy tokens equal the float64 reference: alone, in an unpadded batch (GroupQueryAttention) and in a left-padded one (MatMul/Softmax branch)', async () => {
    const same = [90, 33, 17, 5, 41, 40, 8];
    const expectedSame = referenceGreedy(toRefSpec(spec), fused.ckpt, same, 8);
    expect(await greedyWith(fused.out, [prompt], 8)).toEqual([expected]);
    expect(await greedyWith(fused.out, [prompt, same], 8)).toEqual([expected, expectedSame]);
    expect(await greedyWith(fused.out, [prompt, short], 8)).toEqual([expected, expectedShort]);
  });

  it('the unfused graph (attention: plain) agrees and is recorded as unfused', async () => {
    const root = tempDir();
    const plain = convertCheckpoint(fused.ckpt, join(root, 'plain'), { dtype: 'fp32', attention: 'plain' });
    expect(plain.meta.attention).toBe('unfused');
    expect(readFileSync(join(root, 'plain/onnx/model.onnx')).toString('latin1')).not.toContain('GroupQueryAttention');
    expect(await greedyWith(join(root, 'plain'), [prompt, short], 8)).toEqual([expected, expectedShort]);
  });

  it('head sizes GroupQueryAttention cannot run (not a multiple of 8) fall back to unfused, and say so', () => {
    const odd = buildMicroModel(microSpec('llama', { numKvHeads: 2, headDim: 4, hiddenSize: 16 }), 3);
    expect(odd.result.meta.attention).toBe('unfused');
  });

  it('a GQA diffusion graph keeps the fused class (MultiHeadAttention over expanded KV heads)', () => {
    const llada = buildMicroModel(microSpec('llada', { numKvHeads: 2 }), 3);
    expect(llada.result.meta.attention).toBe('fused-mha');
    expect(readFileSync(join(llada.out, 'onnx/model.onnx')).toString('latin1')).not.toContain('GroupQueryAttention');
  });
});

describe('rope scaling (Llama 3.1 "llama3" type)', () => {
  // theta 100, head_dim 8: wavelengths 6.3, 19.9, 62.8, 199 against original 32 / high 4 = 8 and 32 / low 1 = 32,
  // so one frequency is kept, one smoothly interpolated and two divided by the factor: every branch is exercised.
  const rope = { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 32 };
  const base: TransformerSpec = microSpec('llama', { numKvHeads: 2, ropeTheta: 100, maxPositions: 160 });
  let dir: string;
  let ckpt: string;
  let refScaled: RefSpec;
  const prompt = Array.from({ length: 72 }, (_, i) => (i * 37 + 11) % 88);
  beforeAll(() => {
    const root = tempDir();
    ckpt = join(root, 'checkpoint');
    mkdirSync(ckpt);
    // The config is written by hand with Hugging Face's keys, so the converter's parser is what is under test.
    const config = { ...configFromSpec(base), rope_scaling: rope, max_position_embeddings: 160 };
    writeFileSync(join(ckpt, 'config.json'), JSON.stringify(config));
    writeSyntheticCheckpoint(base, join(ckpt, 'model.safetensors'), 41);
    dir = join(root, 'model');
    convertCheckpoint(ckpt, dir, { dtype: 'fp32' });
    refScaled = { ...toRefSpec(base), ropeScaling: rope };
  });

  it('config.json rope_scaling is read into the spec', () => {
    const meta = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).dllm_bench;
    expect(meta.spec.ropeScaling).toEqual({ type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 32 });
  });

  it('logits at positions far past original_max_position_embeddings match the scaled reference, not the unscaled one', async () => {
    const w = loadCheckpoint(ckpt);
    const mask = [prompt.map(() => 1)];
    const pos = [prompt.map((_, i) => i)];
    const scaled = referenceForward(refScaled, w, [prompt], mask, pos, true)[0]!;
    const plain = referenceForward(toRefSpec(base), w, [prompt], mask, pos, true)[0]!;
    const s = await ort.InferenceSession.create(join(dir, 'onnx/model.onnx'), { logSeverityLevel: 3 });
    const i64 = (rows: number[][]) => new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [rows.length, rows[0]!.length]);
    const feeds: Record<string, ort.Tensor> = { input_ids: i64([prompt]), attention_mask: i64(mask), position_ids: i64(pos), num_logits_to_keep: new ort.Tensor('int64', BigInt64Array.from([0n]), []) };
    for (let l = 0; l < base.numLayers; l++) {
      feeds[`past_key_values.${l}.key`] = new ort.Tensor('float32', new Float32Array(0), [1, 2, 0, 8]);
      feeds[`past_key_values.${l}.value`] = new ort.Tensor('float32', new Float32Array(0), [1, 2, 0, 8]);
    }
    const logits = (await s.run(feeds)).logits!.data as Float32Array;
    const V = base.vocabSize;
    let maxScaled = 0;
    let maxPlain = 0;
    for (let t = 40; t < prompt.length; t++) {
      for (let v = 0; v < V; v++) {
        maxScaled = Math.max(maxScaled, Math.abs(logits[t * V + v]! - scaled[t]![v]!));
        maxPlain = Math.max(maxPlain, Math.abs(logits[t * V + v]! - plain[t]![v]!));
      }
    }
    expect(maxScaled).toBeLessThan(2e-3);
    expect(maxPlain).toBeGreaterThan(100 * maxScaled);
  });

  it('greedy tokens equal the independent float64 reference at positions 72..79 (original window 32)', async () => {
    const expected = referenceGreedy(refScaled, ckpt, prompt, 8);
    expect(await greedyWith(dir, [prompt], 8)).toEqual([expected]);
  });

  it('linear scaling divides every frequency; an unknown type is refused at convert time in one line', () => {
    const lin = specFromConfig({ ...configFromSpec(base), rope_scaling: { type: 'linear', factor: 2 } }, 'config.json');
    expect(lin.ropeScaling).toEqual({ type: 'linear', factor: 2 });
    expect(specFromConfig({ ...configFromSpec(base), rope_scaling: null }, 'c').ropeScaling).toBeNull();
    expect(specFromConfig({ ...configFromSpec(base), rope_scaling: undefined, rope_theta: undefined, rope_parameters: { rope_type: 'default', rope_theta: 5e5 } }, 'c').ropeTheta).toBe(5e5);
    const bad = { ...configFromSpec(base), rope_scaling: { rope_type: 'yarn', factor: 4 } };
    expect(() => specFromConfig(bad, 'ckpt/config.json')).toThrow(UserError);
    expect(() => specFromConfig(bad, 'ckpt/config.json')).toThrow(/^ckpt\/config.json: rope scaling type "yarn" is not supported \(supported: linear, llama3\)/);
    expect(() => specFromConfig({ ...configFromSpec(base), rope_scaling: { rope_type: 'llama3', factor: 8 } }, 'c')).toThrow(/low_freq_factor/);
  });
});

describe('linear rope scaling', () => {
  it('greedy tokens equal the reference with every frequency divided by the factor', async () => {
    const spec = microSpec('llama', { numKvHeads: 2, ropeScaling: { type: 'linear', factor: 4 } });
    const built = buildMicroModel(spec, 43);
    const ref = { ...toRefSpec(spec), ropeScaling: { rope_type: 'linear', factor: 4 } };
    const prompt = [90, 5, 17, 33, 40, 41, 7, 8, 9, 10];
    expect(await greedyWith(built.out, [prompt], 6)).toEqual([referenceGreedy(ref, built.ckpt, prompt, 6)]);
  });
});
