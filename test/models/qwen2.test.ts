/**
 * The Qwen2 family: a checkpoint in transformers' native Qwen2 layout (BF16, sharded, q/k/v biases, tied embeddings,
 * GQA, rope_theta 1e6), written by this test, converts and matches the float64 reference forward; greedy decoding
 * on every AR engine matches the reference token for token.
 */
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ArGenerateOptions } from '../../src/engines/ar-common.js';
import { createArLoopEngine } from '../../src/engines/ar-loop/engine.js';
import { createOrtArEngine } from '../../src/engines/ar-ort/engine.js';
import { createTransformersEngine } from '../../src/engines/transformers/engine.js';
import type { Engine } from '../../src/engines/types.js';
import { convertCheckpoint } from '../../src/models/build.js';
import { specFromConfig } from '../../src/models/families.js';
import { UserError } from '../../src/util/errors.js';
import { okValue } from '../helpers/engine.js';
import { hfDecoderTensors, writeShardedCheckpoint, qwen2LayoutConfig } from '../helpers/hf-checkpoint.js';
import { tempDir } from '../helpers/models.js';
import { type RefSpec, argmax, loadCheckpoint, referenceForward } from '../helpers/reference-forward.js';

const shape = { vocab: 96, d: 32, layers: 2, heads: 4, kvHeads: 2, headDim: 8, mlp: 48 };
const qwenConfig = {
  architectures: ['Qwen2ForCausalLM'],
  model_type: 'qwen2',
  ...qwen2LayoutConfig(shape, true),
  use_sliding_window: false,
  sliding_window: 4096,
  max_window_layers: 2,
  bos_token_id: 90,
  eos_token_id: 92,
  hidden_act: 'silu',
  torch_dtype: 'bfloat16',
};
const ref: RefSpec = { family: 'qwen2', vocab: shape.vocab, d: shape.d, layers: shape.layers, heads: shape.heads, kvHeads: shape.kvHeads, headDim: shape.headDim, mlp: shape.mlp, theta: 1e6, eps: 1e-6, tied: true };

let ckpt: string;
let out: string;

beforeAll(() => {
  const root = tempDir();
  ckpt = join(root, 'qwen');
  out = join(root, 'model');
  writeShardedCheckpoint(ckpt, qwenConfig, hfDecoderTensors(shape, 31, { bias: true, tied: true }), 3);
  const r = convertCheckpoint(ckpt, out, { dtype: 'fp32' });
  expect(r.meta).toMatchObject({ family: 'qwen2', graph: 'causal', attention: 'fused-gqa' });
});

function referenceGreedy(prompt: number[], n: number): number[] {
  const w = loadCheckpoint(ckpt);
  const seq = [...prompt];
  for (let i = 0; i < n; i++) {
    const logits = referenceForward(ref, w, [seq], [seq.map(() => 1)], [seq.map((_, j) => j)], true);
    seq.push(argmax(logits[0]!.at(-1)!));
  }
  return seq.slice(prompt.length);
}

describe('qwen2 family', () => {
  it('reads the spec from config.json: GQA, tied embeddings, rope theta, eps', () => {
    const s = specFromConfig(qwenConfig, 'config.json');
    expect(s).toMatchObject({ family: 'qwen2', numHeads: 4, numKvHeads: 2, headDim: 8, tieWordEmbeddings: true, ropeTheta: 1e6, rmsNormEps: 1e-6, maskTokenId: null, eosTokenIds: [92] });
    // Qwen2Config's eps default is 1e-6, not Llama's 1e-5.
    const { rms_norm_eps: _eps, ...noEps } = qwenConfig as Record<string, unknown>;
    expect(specFromConfig(noEps, 'config.json').rmsNormEps).toBe(1e-6);
  });

  it('refuses sliding-window attention and a missing q bias, in one line', () => {
    expect(() => specFromConfig({ ...qwenConfig, use_sliding_window: true }, 'c.json')).toThrow(/use_sliding_window is true/);
    const root = tempDir();
    const dir = join(root, 'nobias');
    writeShardedCheckpoint(dir, qwenConfig, hfDecoderTensors(shape, 31, { bias: false, tied: true }));
    let err: unknown;
    try {
      convertCheckpoint(dir, join(root, 'out'), { dtype: 'fp32' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(/missing tensor model\.layers\.0\.self_attn\.q_proj\.bias/);
    expect((err as Error).message).not.toContain('\n');
  });

  it('the converted graph (QKV biases, tied head, fused GQA) matches the float64 reference forward', async () => {
    const s = await ort.InferenceSession.create(join(out, 'onnx', 'model.onnx'), { logSeverityLevel: 3 });
    const ids = [90, 7, 9, 30, 44, 12, 61];
    const t = (a: number[]) => new ort.Tensor('int64', BigInt64Array.from(a.map(BigInt)), [1, a.length]);
    const feeds: Record<string, ort.Tensor> = {
      input_ids: t(ids),
      attention_mask: t(ids.map(() => 1)),
      position_ids: t(ids.map((_, i) => i)),
      num_logits_to_keep: new ort.Tensor('int64', BigInt64Array.from([0n]), []),
    };
    for (let l = 0; l < shape.layers; l++) {
      feeds[`past_key_values.${l}.key`] = new ort.Tensor('float32', new Float32Array(0), [1, shape.kvHeads, 0, shape.headDim]);
      feeds[`past_key_values.${l}.value`] = new ort.Tensor('float32', new Float32Array(0), [1, shape.kvHeads, 0, shape.headDim]);
    }
    const logits = (await s.run(feeds)).logits!.data as Float32Array;
    const expected = referenceForward(ref, loadCheckpoint(ckpt), [ids], [ids.map(() => 1)], [ids.map((_, i) => i)], true)[0]!;
    // Without the biases the logits differ a lot: the comparison below can see them.
    const noBias = referenceForward({ ...ref, family: 'llama' }, loadCheckpoint(ckpt), [ids], [ids.map(() => 1)], [ids.map((_, i) => i)], true)[0]!;
    let biasEffect = 0;
    for (let p = 0; p < ids.length; p++) {
      const row = logits.subarray(p * shape.vocab, (p + 1) * shape.vocab);
      let diff = 0;
      for (let k = 0; k < shape.vocab; k++) {
        diff = Math.max(diff, Math.abs(row[k]! - expected[p]![k]!));
        biasEffect = Math.max(biasEffect, Math.abs(noBias[p]![k]! - expected[p]![k]!));
      }
      expect(diff).toBeLessThan(2e-3);
      expect(argmax(row)).toBe(argmax(expected[p]!));
    }
    expect(biasEffect).toBeGreaterThan(0.1);
    await s.release();
  });
});

describe.each([
  ['ar-ort', createOrtArEngine],
  ['ar-loop', createArLoopEngine],
  ['ar (transformers.js)', createTransformersEngine],
] as const)('qwen2 greedy on %s', (_name, create) => {
  let engine: Engine<ArGenerateOptions>;
  beforeAll(async () => {
    engine = await create({ modelDir: out, device: 'cpu' });
  });
  afterAll(async () => {
    await engine.dispose();
  });

  it('matches the reference forward token for token, alone and in a left-padded batch', async () => {
    const prompt = [90, 5, 17, 33, 40];
    const short = [90, 8];
    const greedy = referenceGreedy(prompt, 8);
    const greedyShort = referenceGreedy(short, 8);
    expect(engine.info.family).toBe('qwen2');
    const r = await engine.generate({ prompts: [prompt], genLength: 8 }, { mode: 'fixed' });
    expect(okValue(r).tokens).toEqual([greedy]);
    const batch = await engine.generate({ prompts: [prompt, short], genLength: 8 }, { mode: 'fixed' });
    expect(okValue(batch).tokens).toEqual([greedy, greedyShort]);
  });
});
