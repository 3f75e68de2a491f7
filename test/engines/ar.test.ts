/**
 * src/engines/ar: transformers.js and the direct onnxruntime loop, on real micro ONNX models on the CPU, checked
 * against greedy decoding over the independent float64 reference forward.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/cli/errors.js';
import type { ArGenerateOptions } from '../../src/engines/ar/options.js';
import { kvTraffic } from '../../src/engines/ar/options.js';
import { createOrtArEngine } from '../../src/engines/ar/ort-engine.js';
import { createTransformersEngine } from '../../src/engines/ar/transformers-engine.js';
import type { Engine, GenerateOutput } from '../../src/engines/types.js';
import { buildMicroModel, microSpec, toRefSpec } from '../helpers/models.js';
import { argmax, loadCheckpoint, referenceForward } from '../helpers/reference-forward.js';

const spec = microSpec('llama', { numKvHeads: 2 }); // GQA 4/2, maxPositions 128
const SEED = 7;
const N = 8;
const long = [90, 12, 40, 7, 33, 61, 5];
const short = [90, 3];

/** Greedy continuation by full recompute over the reference forward (no cache, no padding). */
function referenceGreedy(ckpt: string, prompt: number[], n: number): number[] {
  const weights = loadCheckpoint(ckpt);
  const seq = [...prompt];
  for (let i = 0; i < n; i++) {
    const logits = referenceForward(toRefSpec(spec), weights, [seq], [seq.map(() => 1)], [seq.map((_, j) => j)], true);
    seq.push(argmax(logits[0]!.at(-1)!));
  }
  return seq.slice(prompt.length);
}

function ok(r: Awaited<ReturnType<Engine['generate']>>): GenerateOutput {
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.value;
}

let model: ReturnType<typeof buildMicroModel>;
let eosModel: ReturnType<typeof buildMicroModel>;
let greedyLong: number[];
let greedyShort: number[];
/** Index in greedyLong of the token declared EOS in eosModel (its first occurrence, after the start). */
let eosAt: number;
let eosId: number;

beforeAll(() => {
  model = buildMicroModel(spec, SEED);
  greedyLong = referenceGreedy(model.ckpt, long, N);
  greedyShort = referenceGreedy(model.ckpt, short, N);
  // Same seed and shapes give the same weights; only the EOS ids differ, chosen so greedy decoding hits EOS mid-way.
  eosAt = greedyLong.findIndex((t, i) => i >= 2 && i < N - 1 && !greedyLong.slice(0, i).includes(t));
  eosId = greedyLong[eosAt]!;
  eosModel = buildMicroModel({ ...spec, eosTokenIds: [eosId] }, SEED);
});

describe.each([
  ['ar-ort (direct onnxruntime)', createOrtArEngine],
  ['ar (transformers.js)', createTransformersEngine],
] as const)('%s', (_name, create) => {
  let engine: Engine<ArGenerateOptions>;
  let eosEngine: Engine<ArGenerateOptions>;
  beforeAll(async () => {
    engine = await create({ modelDir: model.out, device: 'cpu', session: { intraOpThreads: 1, graphOptimization: 'all' } });
    eosEngine = await create({ modelDir: eosModel.out, device: 'cpu' });
  });
  afterAll(async () => {
    await engine?.dispose();
    await eosEngine?.dispose();
  });

  it('describes itself: CPU, no handicap, the spec EOS ids', () => {
    expect(engine.info).toMatchObject({ device: 'cpu', family: 'llama', dtype: 'fp32', handicaps: [], maxPositions: 128 });
    expect(eosEngine.info.eosTokenIds).toEqual([eosId]);
  });

  it('greedy tokens equal the reference forward; one trace entry per forward; increasing token times', async () => {
    const out = ok(await engine.generate({ prompts: [long], genLength: N }, { mode: 'fixed' }));
    expect(out.tokens).toEqual([greedyLong]);
    expect(out.trace).toHaveLength(N); // prefill + N - 1 decode steps
    expect(out.trace.every((t) => t.tokensCommitted === 1)).toBe(true);
    const times = out.tokenTimesMs![0]!;
    expect(times).toHaveLength(N);
    for (let i = 1; i < N; i++) expect(times[i]!).toBeGreaterThan(times[i - 1]!);
    expect(times[0]!).toBeGreaterThan(0);
    expect(times[0]!).toBeLessThanOrEqual(out.totalMs); // TTFT <= total
    expect(out.forwardMs).toBeGreaterThan(0);
    expect(out.forwardMs).toBeLessThanOrEqual(out.totalMs);
    expect(out.hostDeviceBytesPerForward).toBe(0);
  });

  it('a left-padded batch gives each row the tokens it gets alone', async () => {
    const alone = ok(await engine.generate({ prompts: [short], genLength: N }, { mode: 'fixed' }));
    const batch = ok(await engine.generate({ prompts: [long, short], genLength: N }, { mode: 'fixed' }));
    expect(alone.tokens).toEqual([greedyShort]);
    expect(batch.tokens).toEqual([greedyLong, greedyShort]);
    expect(batch.trace.map((t) => t.tokensCommitted)).toEqual(Array(N).fill(2));
    expect(batch.tokenTimesMs!.map((t) => t.length)).toEqual([N, N]);
  });

  it('fixed mode yields exactly N tokens through EOS; natural mode stops at it', async () => {
    expect(eosAt).toBeGreaterThanOrEqual(2);
    const fixed = ok(await eosEngine.generate({ prompts: [long], genLength: N }, { mode: 'fixed' }));
    expect(fixed.tokens).toEqual([greedyLong]);
    expect(fixed.tokens[0]![eosAt]).toBe(eosId);
    expect(fixed.usefulTokens).toEqual([eosAt]);
    expect(fixed.trace).toHaveLength(N);

    const natural = ok(await eosEngine.generate({ prompts: [long], genLength: N }, { mode: 'natural' }));
    expect(natural.tokens).toEqual([greedyLong.slice(0, eosAt + 1)]);
    expect(natural.usefulTokens).toEqual([eosAt]);
    expect(natural.trace).toHaveLength(eosAt + 1);
    expect(natural.tokenTimesMs![0]).toHaveLength(eosAt + 1);
  });

  it('natural mode in a batch: a row that stops early stops counting, the other runs on', async () => {
    const stopShort = greedyShort.indexOf(eosId);
    const expectShort = stopShort < 0 ? greedyShort : greedyShort.slice(0, stopShort + 1);
    const out = ok(await eosEngine.generate({ prompts: [long, short], genLength: N }, { mode: 'natural' }));
    expect(out.tokens).toEqual([greedyLong.slice(0, eosAt + 1), expectShort]);
    const committed = out.trace.reduce((s, t) => s + t.tokensCommitted, 0);
    expect(committed).toBe(out.tokens[0]!.length + out.tokens[1]!.length);
    expect(out.trace).toHaveLength(Math.max(out.tokens[0]!.length, out.tokens[1]!.length));
    expect(out.tokenTimesMs!.map((t) => t.length)).toEqual(out.tokens.map((t) => t.length));
  });

  it('invalid requests are values, returned before any work', async () => {
    const bad = (r: Awaited<ReturnType<Engine['generate']>>) => expect(r).toMatchObject({ ok: false, error: { code: 'invalid-options' } });
    bad(await engine.generate({ prompts: [long], genLength: 0 }, { mode: 'fixed' }));
    bad(await engine.generate({ prompts: [long], genLength: 2.5 }, { mode: 'fixed' }));
    bad(await engine.generate({ prompts: [], genLength: 4 }, { mode: 'fixed' }));
    bad(await engine.generate({ prompts: [long, []], genLength: 4 }, { mode: 'fixed' }));
    const tooLong = await engine.generate({ prompts: [Array<number>(128 - N + 1).fill(3)], genLength: N }, { mode: 'fixed' });
    bad(tooLong);
    if (!tooLong.ok) expect(tooLong.error.message).toMatch(/maximum length 128 \(prompts may have at most 120 tokens\)/);
    // The boundary itself is fine: prompt + new tokens = maxPositions.
    const edge = ok(await engine.generate({ prompts: [Array<number>(128 - N).fill(3)], genLength: N }, { mode: 'fixed' }));
    expect(edge.tokens[0]).toHaveLength(N);
  });

  it('stops between forwards when asked', async () => {
    let polls = 0;
    const r = await engine.generate({ prompts: [long], genLength: N }, { mode: 'fixed', shouldStop: () => ++polls > 3 });
    expect(r).toMatchObject({ ok: false, error: { code: 'aborted' } });
  });
});

describe('model folder problems throw one clear UserError at creation', () => {
  let llada: ReturnType<typeof buildMicroModel>;
  beforeAll(() => {
    llada = buildMicroModel(microSpec('llada'), 3);
  });

  it.each([
    ['ar-ort', createOrtArEngine],
    ['ar', createTransformersEngine],
  ] as const)('%s refuses a diffusion folder and a missing folder', async (_name, create) => {
    const diffusion = create({ modelDir: llada.out, device: 'cpu' });
    await expect(diffusion).rejects.toBeInstanceOf(UserError);
    await expect(diffusion).rejects.toThrow(/^[^\n]*autoregressive engines need a llama \(causal\) model folder[^\n]*$/);
    await expect(create({ modelDir: `${llada.root}/nope`, device: 'cpu' })).rejects.toThrow(/model folder not found/);
  });

  it('ar-ort refuses a hub id (it needs the dllm-bench graph)', async () => {
    await expect(createOrtArEngine({ modelDir: 'someone/some-model', device: 'cpu' })).rejects.toThrow(/not hub ids/);
  });
});

describe('host<->device accounting', () => {
  it('averages the KV cache over the generated lengths, both directions plus logits per forward', () => {
    // 2 layers * 2 KV heads * 8 headDim * 4 bytes * 2 (K and V) = 256 bytes per cached position per row.
    const { cacheBytesPerToken, bytesPerForward } = kvTraffic(spec, 2, 10, 4, 4);
    expect(cacheBytesPerToken).toBe(((10 + 11 + 12 + 13) / 4) * 256 * 2);
    // forward 0: down 10 positions; forward i > 0: up 10 + i - 1, down 10 + i; each + logits [2, 96] fp32.
    expect(bytesPerForward).toBe(((10 + (10 + 11) + (11 + 12) + (12 + 13)) / 4) * 256 * 2 + 2 * 96 * 4);
  });
});
