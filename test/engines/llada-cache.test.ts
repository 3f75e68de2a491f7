/**
 * Fast-dLLM prefix and dual KV caches in the llada engine, against the independent float64 implementation in
 * test/helpers/cached-reference.ts, token for token at temperature 0; and the fresh-cache mode against the
 * uncached sampler (exactly the same tokens: every difference of the real modes comes from stale cache rows).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLladaEngine, type LladaGenerateOptions } from '../../src/engines/llada/engine.js';
import { DEFAULT_LLADA_OPTIONS, validateLladaOptions } from '../../src/engines/llada/sampler.js';
import type { Engine, GenerateOutput } from '../../src/engines/types.js';
import { cachedDecodeRow } from '../helpers/cached-reference.js';
import { buildMicroModel, microSpec, toRefSpec } from '../helpers/models.js';
import { loadCheckpoint } from '../helpers/reference-forward.js';

const spec = microSpec('llada', { vocabSize: 128, maxPositions: 128 });
const MASK = spec.maskTokenId!;
const PAD = spec.padTokenId!;
let built: ReturnType<typeof buildMicroModel>;
let engine: Engine<LladaGenerateOptions>;
let weights: ReturnType<typeof loadCheckpoint>;

beforeAll(async () => {
  built = buildMicroModel(spec, 23);
  engine = await createLladaEngine({ modelDir: built.out, device: 'cpu' });
  weights = loadCheckpoint(built.ckpt);
});
afterAll(async () => {
  await engine.dispose();
});

async function run(prompts: number[][], genLength: number, o: Partial<LladaGenerateOptions>): Promise<GenerateOutput> {
  const r = await engine.generate({ prompts, genLength }, { ...DEFAULT_LLADA_OPTIONS, ...o });
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

const single = [[3, 17, 40, 9, 77, 12]];
const batch = [[3, 17, 40, 9, 77, 12, 5, 60], [21, 8], [100, 33, 2, 71]];

describe('fresh cache reproduces the uncached sampler exactly', () => {
  for (const [name, o] of [
    ['fixed schedule', { steps: 24, blockLength: 8 }],
    ['threshold', { threshold: 0.4, blockLength: 8 }],
    ['cfg', { steps: 12, blockLength: 8, cfgScale: 1.5 }],
  ] as const) {
    it(name, async () => {
      for (const prompts of [single, batch]) {
        const plain = await run(prompts, 24, o);
        for (const cache of ['prefix', 'dual'] as const) {
          const fresh = await run(prompts, 24, { ...o, cache, freshCache: true });
          expect(fresh.tokens).toEqual(plain.tokens);
        }
      }
    });
  }
});

describe('prefix and dual cache match the independent implementation token for token', () => {
  const cases = [
    { name: 'fixed schedule, one token per step', steps: 24, threshold: null },
    { name: 'fixed schedule, two tokens per step', steps: 12, threshold: null },
    { name: 'threshold 0.4', steps: null, threshold: 0.4 },
    { name: 'threshold 0.3', steps: null, threshold: 0.3 },
  ];
  for (const [mode, cacheLoop] of [['prefix', 'host'], ['dual', 'host'], ['prefix', 'device'], ['dual', 'device']] as const) {
    for (const c of cases) {
      it(`${mode}, ${cacheLoop} loop, ${c.name}, single prompt and padded batch`, async () => {
        for (const prompts of [single, batch]) {
          const P = Math.max(...prompts.map((p) => p.length));
          const job = { mode, genLength: 24, blockLength: 8, steps: c.steps, threshold: c.threshold, maskId: MASK, padId: PAD };
          const want = prompts.map((p) => cachedDecodeRow(toRefSpec(spec), weights, p, P, job));
          const got = await run(prompts, 24, { cache: mode, cacheLoop, blockLength: 8, ...(c.steps === null ? { threshold: c.threshold } : { steps: c.steps }) });
          expect(got.tokens).toEqual(want.map((w) => w.tokens));
          expect(got.tokens.flat()).not.toContain(MASK);
          // NFE: the batch makes as many calls as its slowest row; a single row exactly the reference's.
          expect(got.trace.length).toBe(Math.max(...want.map((w) => w.calls)));
        }
      });
    }
  }

  it('the caches change the answer (stale rows), so the comparison above can fail', async () => {
    const o = { steps: 24, blockLength: 8 };
    const plain = await run(batch, 24, o);
    const prefix = await run(batch, 24, { ...o, cache: 'prefix' });
    const dual = await run(batch, 24, { ...o, cache: 'dual' });
    expect(prefix.tokens).not.toEqual(plain.tokens);
    expect(dual.tokens).not.toEqual(prefix.tokens);
  });
});

describe('cached calls', () => {
  it('block-only calls stop when the block is full (no wasted call)', async () => {
    // 8 steps per block for 8 positions: 8 calls per block; 16 steps per block: still 8 (the rest would commit nothing).
    const a = await run(single, 16, { cache: 'dual', steps: 16, blockLength: 8 });
    const b = await run(single, 16, { cache: 'dual', steps: 32, blockLength: 8 });
    expect(a.trace.length).toBe(16);
    expect(b.trace.length).toBe(16);
    expect(b.tokens).toEqual(a.tokens);
  });

  it('the device loop agrees with the host loop: CFG, temperature, and a threshold that fills each block in its first call', async () => {
    for (const o of [
      { cache: 'dual', steps: 12, blockLength: 8, cfgScale: 1.5 },
      { cache: 'prefix', threshold: 0.4, blockLength: 8, cfgScale: 0.5 },
      { cache: 'dual', threshold: 0.01, blockLength: 8 },
      { cache: 'prefix', steps: 12, blockLength: 8, temperature: 0.8, seed: 4 }, // same noise seeds per call
    ] as const) {
      const host = await run(batch, 24, { ...o, cacheLoop: 'host' });
      const device = await run(batch, 24, { ...o, cacheLoop: 'device' });
      expect(device.tokens).toEqual(host.tokens);
      expect(device.trace.map((t) => t.tokensCommitted)).toEqual(host.trace.map((t) => t.tokensCommitted));
    }
    const oneCall = await run(batch, 24, { cache: 'dual', threshold: 0.01, blockLength: 8 });
    expect(oneCall.trace.length).toBe(3); // a zero-trip Loop per block
  });

  it('grouped-query attention (plain attention path): both loops match the reference', async () => {
    const gqa = microSpec('llada', { vocabSize: 128, maxPositions: 128, numKvHeads: 2 });
    const m = buildMicroModel(gqa, 29);
    const w = loadCheckpoint(m.ckpt);
    const e = await createLladaEngine({ modelDir: m.out, device: 'cpu' });
    try {
      for (const mode of ['prefix', 'dual'] as const) {
        const job = { mode, genLength: 16, blockLength: 8, steps: 16, threshold: null, maskId: MASK, padId: PAD };
        const want = batch.map((p) => cachedDecodeRow(toRefSpec(gqa), w, p, 8, job).tokens);
        for (const cacheLoop of ['host', 'device'] as const) {
          const r = await e.generate({ prompts: batch, genLength: 16 }, { ...DEFAULT_LLADA_OPTIONS, cache: mode, cacheLoop, steps: 16, blockLength: 8 });
          if (!r.ok) throw new Error(r.error.message);
          expect(r.value.tokens).toEqual(want);
        }
      }
    } finally {
      await e.dispose();
    }
  });

  it('fp16 models: the device loop agrees with the host loop', async () => {
    const half = buildMicroModel(spec, 23, 'fp16');
    const e16 = await createLladaEngine({ modelDir: half.out, device: 'cpu' });
    try {
      for (const cache of ['prefix', 'dual'] as const) {
        const outs = [];
        for (const cacheLoop of ['host', 'device'] as const) {
          const r = await e16.generate({ prompts: batch, genLength: 16 }, { ...DEFAULT_LLADA_OPTIONS, cache, cacheLoop, steps: 16, blockLength: 8 });
          if (!r.ok) throw new Error(r.error.message);
          outs.push(r.value.tokens);
        }
        expect(outs[1]).toEqual(outs[0]);
      }
    } finally {
      await e16.dispose();
    }
  });

  it('rejects prompts holding the mask token and unknown cache modes', async () => {
    const r = await engine.generate({ prompts: [[1, 2], [3, MASK]], genLength: 8 }, { ...DEFAULT_LLADA_OPTIONS, blockLength: 8, steps: 8 });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toMatch(/prompt 2 contains the mask token id 95/);
    expect(validateLladaOptions(8, { ...DEFAULT_LLADA_OPTIONS, blockLength: 8, steps: 8, cache: 'full' as never })).toMatch(/cache must be/);
  });
});
