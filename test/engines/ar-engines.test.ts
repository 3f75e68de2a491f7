/** The AR engines (transformers.js and the direct onnxruntime loop) against the plain reference forward. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrtArEngine } from '../../src/engines/ar-ort/engine.js';
import { createTransformersEngine } from '../../src/engines/transformers/engine.js';
import type { ArGenerateOptions } from '../../src/engines/ar-common.js';
import type { Engine } from '../../src/engines/types.js';
import { UserError } from '../../src/util/errors.js';
import { buildMicroModel, microSpec, toRefSpec } from '../helpers/models.js';
import { okValue } from '../helpers/engine.js';
import { argmax, loadCheckpoint, referenceForward } from '../helpers/reference-forward.js';

const base = microSpec('llama', { numKvHeads: 2, vocabSize: 96 });

/** Greedy decoding over the reference forward (full recompute each step, no cache). */
function referenceGreedy(ckpt: string, prompt: number[], n: number): number[] {
  const w = loadCheckpoint(ckpt);
  const seq = [...prompt];
  for (let i = 0; i < n; i++) {
    const logits = referenceForward(toRefSpec(base), w, [seq], [seq.map(() => 1)], [seq.map((_, j) => j)], true);
    seq.push(argmax(logits[0]!.at(-1)!));
  }
  return seq.slice(prompt.length);
}

const prompt = [90, 5, 17, 33, 40];
const short = [90, 8];
let built: ReturnType<typeof buildMicroModel>;
let greedy: number[];
let greedyShort: number[];
let eosBuilt: ReturnType<typeof buildMicroModel>;
let eosAt: number;

beforeAll(() => {
  built = buildMicroModel(base, 21);
  greedy = referenceGreedy(built.ckpt, prompt, 8);
  greedyShort = referenceGreedy(built.ckpt, short, 8);
  // Same weights (same seed and shapes), but a greedy token that first appears after the start is declared EOS.
  eosAt = greedy.findIndex((t, i) => i > 0 && !greedy.slice(0, i).includes(t));
  eosBuilt = buildMicroModel({ ...base, eosTokenIds: [greedy[eosAt]!] }, 21);
});

describe.each([
  ['ar-ort', createOrtArEngine],
  ['ar (transformers.js)', createTransformersEngine],
] as const)('%s', (_name, create) => {
  let engine: Engine<ArGenerateOptions>;
  let eosEngine: Engine<ArGenerateOptions>;
  beforeAll(async () => {
    engine = await create({ modelDir: built.out, device: 'cpu' });
    eosEngine = await create({ modelDir: eosBuilt.out, device: 'cpu' });
  });
  afterAll(async () => {
    await engine.dispose();
    await eosEngine.dispose();
  });

  it('greedy tokens equal the reference forward', async () => {
    const r = await engine.generate({ prompts: [prompt], genLength: 8 }, { mode: 'fixed' });
    expect(okValue(r).tokens).toEqual([greedy]);
    if (!r.ok) return;
    expect(r.value.trace).toHaveLength(8); // one prefill + 7 decode steps
    const t = r.value.tokenTimesMs![0]!;
    expect(t).toHaveLength(8);
    for (let i = 1; i < t.length; i++) expect(t[i]!).toBeGreaterThanOrEqual(t[i - 1]!);
    expect(t[0]!).toBeLessThanOrEqual(r.value.totalMs);
    expect(r.value.forwardMs).toBeLessThanOrEqual(r.value.totalMs);
  });

  it('a left-padded batch gives each row the tokens it gets alone', async () => {
    const r = await engine.generate({ prompts: [prompt, short], genLength: 8 }, { mode: 'fixed' });
    expect(okValue(r).tokens).toEqual([greedy, greedyShort]);
  });

  it('fixed mode yields exactly N tokens through EOS; natural mode stops at it', async () => {
    const fixed = await eosEngine.generate({ prompts: [prompt], genLength: 8 }, { mode: 'fixed' });
    const natural = await eosEngine.generate({ prompts: [prompt], genLength: 8 }, { mode: 'natural' });
    if (!fixed.ok || !natural.ok) throw new Error('generation failed');
    expect(fixed.value.tokens[0]).toHaveLength(8);
    expect(fixed.value.tokens[0]).toEqual(greedy);
    expect(eosAt).toBeGreaterThan(0);
    expect(fixed.value.usefulTokens[0]).toBe(eosAt);
    expect(natural.value.tokens[0]).toEqual(greedy.slice(0, eosAt + 1));
    expect(natural.value.trace.length).toBe(eosAt + 1);
  });

  it('shouldStop ends a generate between forwards as "aborted", quietly', async () => {
    let calls = 0;
    const r = await engine.generate({ prompts: [prompt], genLength: 8 }, { mode: 'fixed', shouldStop: () => ++calls > 3 });
    expect(r).toEqual({ ok: false, error: { code: 'aborted', message: 'interrupted' } });
    const again = await engine.generate({ prompts: [prompt], genLength: 8 }, { mode: 'fixed' });
    expect(okValue(again).tokens).toEqual([greedy]);
  });

  it('invalid requests are values, not throws', async () => {
    expect(await engine.generate({ prompts: [prompt], genLength: 0 }, { mode: 'fixed' })).toMatchObject({ ok: false, error: { code: 'invalid-options' } });
    expect(await engine.generate({ prompts: [[]], genLength: 4 }, { mode: 'fixed' })).toMatchObject({ ok: false, error: { code: 'invalid-options' } });
    const long = await engine.generate({ prompts: [Array(125).fill(3)], genLength: 8 }, { mode: 'fixed' });
    expect(long).toMatchObject({ ok: false, error: { code: 'invalid-options' } });
    if (!long.ok) expect(long.error.message).toMatch(/exceeds the model's maximum length 128/);
  });
});

it('the AR engines refuse a diffusion model folder with one clear line', async () => {
  const llada = buildMicroModel(microSpec('llada'), 2);
  await expect(createOrtArEngine({ modelDir: llada.out, device: 'cpu' })).rejects.toBeInstanceOf(UserError);
  await expect(createTransformersEngine({ modelDir: llada.out, device: 'cpu' })).rejects.toThrow(/autoregressive engines need a llama/);
});
