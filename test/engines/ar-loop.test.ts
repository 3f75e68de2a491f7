/** ar-loop (the decode loop inside one onnxruntime call) against ar-ort (the host-driven loop), token for token. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createArLoopEngine } from '../../src/engines/ar-loop/engine.js';
import { createOrtArEngine } from '../../src/engines/ar-ort/engine.js';
import type { ArGenerateOptions } from '../../src/engines/ar-common.js';
import { cudaProviderInstalled } from '../../src/engines/device.js';
import type { Engine, GenerateOutput, GenerateRequest } from '../../src/engines/types.js';
import { UserError } from '../../src/util/errors.js';
import { buildMicroModel, microSpec } from '../helpers/models.js';

const base = microSpec('llama', { numKvHeads: 2 });
const prompt = [90, 5, 17, 33, 40];
const short = [90, 8];
const third = [90, 61, 62, 63];

async function open(dir: string) {
  return {
    loop: await createArLoopEngine({ modelDir: dir, device: 'cpu' }),
    ort: await createOrtArEngine({ modelDir: dir, device: 'cpu' }),
  };
}

async function both(e: { loop: Engine<ArGenerateOptions>; ort: Engine<ArGenerateOptions> }, req: GenerateRequest, o: ArGenerateOptions) {
  const a = await e.loop.generate(req, o);
  const b = await e.ort.generate(req, o);
  if (!a.ok || !b.ok) throw new Error(`generation failed: ${JSON.stringify(a.ok ? b : a)}`);
  return { loop: a.value, ort: b.value };
}

function sameTokens(x: { loop: GenerateOutput; ort: GenerateOutput }): void {
  expect(x.loop.tokens).toEqual(x.ort.tokens);
  expect(x.loop.usefulTokens).toEqual(x.ort.usefulTokens);
  expect(x.loop.trace.length).toBe(x.ort.trace.length);
  expect(x.loop.trace.map((t) => t.tokensCommitted)).toEqual(x.ort.trace.map((t) => t.tokensCommitted));
}

describe.each([
  ['MHA (4/4 heads)', 4],
  ['GQA (4/2 heads)', 2],
] as const)('ar-loop equals ar-ort, %s', (_label, kv) => {
  const spec = { ...base, numKvHeads: kv };
  let engines: Awaited<ReturnType<typeof open>>;
  let eosEngines: Awaited<ReturnType<typeof open>>;
  let greedy: number[][];
  beforeAll(async () => {
    const built = buildMicroModel(spec, 21);
    engines = await open(built.out);
    const r = await engines.ort.generate({ prompts: [prompt, short, third], genLength: 10 }, { mode: 'fixed' });
    if (!r.ok) throw new Error(r.error.message);
    greedy = r.value.tokens;
    // Same weights; a token that row 0 first produces at step >= 2 is declared EOS, so rows stop at different steps.
    const at = greedy[0]!.findIndex((t, i) => i >= 2 && !greedy[0]!.slice(0, i).includes(t));
    const eosBuilt = buildMicroModel({ ...spec, eosTokenIds: [greedy[0]![at]!] }, 21);
    eosEngines = await open(eosBuilt.out);
  });
  afterAll(async () => {
    for (const e of [engines, eosEngines]) {
      await e.loop.dispose();
      await e.ort.dispose();
    }
  });

  it('batch 1, fixed length', async () => {
    const x = await both(engines, { prompts: [prompt], genLength: 10 }, { mode: 'fixed' });
    sameTokens(x);
    expect(x.loop.tokens[0]).toHaveLength(10);
  });

  it('batch 3 with left padding, fixed length', async () => {
    const x = await both(engines, { prompts: [prompt, short, third], genLength: 10 }, { mode: 'fixed' });
    sameTokens(x);
    expect(x.loop.tokens).toEqual(greedy);
  });

  it('genLength 1 is the prefill alone', async () => {
    const x = await both(engines, { prompts: [prompt, short], genLength: 1 }, { mode: 'fixed' });
    sameTokens(x);
    expect(x.loop.trace).toHaveLength(1);
  });

  it('fixed mode runs through EOS; natural mode stops each row at its EOS and the loop exits when all have', async () => {
    const fixed = await both(eosEngines, { prompts: [prompt, short, third], genLength: 10 }, { mode: 'fixed' });
    sameTokens(fixed);
    expect(fixed.loop.tokens.every((t) => t.length === 10)).toBe(true);
    const natural = await both(eosEngines, { prompts: [prompt, short, third], genLength: 10 }, { mode: 'natural' });
    sameTokens(natural);
    expect(natural.loop.tokens[0]!.length).toBeLessThan(10);
    const one = await both(eosEngines, { prompts: [prompt], genLength: 10 }, { mode: 'natural' });
    sameTokens(one);
    expect(one.loop.trace.length).toBe(one.loop.tokens[0]!.length);
  });

  it('timing: first token at the prefill, then evenly over the loop call; ITL reads (total - prefill) / (n - 1)', async () => {
    const x = await both(engines, { prompts: [prompt], genLength: 10 }, { mode: 'fixed' });
    const t = x.loop.tokenTimesMs![0]!;
    expect(t).toHaveLength(10);
    const prefillEnd = x.loop.trace[0]!.startMs + x.loop.trace[0]!.durationMs;
    expect(t[0]).toBeCloseTo(prefillEnd, 6);
    const gaps = t.slice(1).map((v, i) => v - t[i]!);
    for (const g of gaps.slice(1)) expect(g).toBeCloseTo(gaps[1]!, 6);
    expect(t.at(-1)!).toBeLessThanOrEqual(x.loop.totalMs);
    expect(x.loop.forwardMs).toBeLessThanOrEqual(x.loop.totalMs);
    expect(x.loop.hostDeviceBytesPerForward).toBe(0);
  });
});

describe('ar-loop engine info and errors', () => {
  let built: ReturnType<typeof buildMicroModel>;
  let engine: Engine<ArGenerateOptions>;
  beforeAll(async () => {
    built = buildMicroModel(base, 5);
    engine = await createArLoopEngine({ modelDir: built.out, device: 'cpu' });
  });
  afterAll(async () => engine.dispose());

  it('records its kind, attention class and how its per-token times are obtained', () => {
    expect(engine.info).toMatchObject({ kind: 'ar-loop', attention: 'fused-gqa', device: 'cpu', handicaps: [] });
    expect(engine.info.timingNote).toMatch(/\(total - prefill\) \/ \(n - 1\)/);
  });

  it('invalid requests are values; shouldStop before the call aborts', async () => {
    expect(await engine.generate({ prompts: [prompt], genLength: 0 }, { mode: 'fixed' })).toMatchObject({ ok: false, error: { code: 'invalid-options' } });
    expect(await engine.generate({ prompts: [prompt], genLength: 4 }, { mode: 'fixed', shouldStop: () => true })).toEqual({ ok: false, error: { code: 'aborted', message: 'interrupted' } });
  });

  it('refuses a diffusion model folder with one clear line', async () => {
    const llada = buildMicroModel(microSpec('llada'), 2);
    await expect(createArLoopEngine({ modelDir: llada.out, device: 'cpu' })).rejects.toBeInstanceOf(UserError);
  });
});

// The CUDA path (same graph, CUDA provider: Loop, GroupQueryAttention and the cache stay on the device).
const cudaReason = cudaProviderInstalled() ? null : 'the onnxruntime CUDA provider is not installed (ONNXRUNTIME_NODE_INSTALL=cuda12)';
describe.skipIf(cudaReason !== null)(`ar-loop on CUDA${cudaReason ? ` (skipped: ${cudaReason})` : ''}`, () => {
  it('matches ar-ort on CUDA token for token and records only the prompt cache crossing', async () => {
    const built = buildMicroModel(microSpec('llama', { numKvHeads: 2 }), 9, 'fp16');
    const loop = await createArLoopEngine({ modelDir: built.out, device: 'cuda' });
    const ort = await createOrtArEngine({ modelDir: built.out, device: 'cuda' });
    try {
      const req = { prompts: [prompt, short], genLength: 8 };
      const a = await loop.generate(req, { mode: 'fixed' });
      const b = await ort.generate(req, { mode: 'fixed' });
      if (!a.ok || !b.ok) throw new Error('generation failed');
      expect(a.value.tokens).toEqual(b.value.tokens);
      expect(loop.info.handicaps.join(' ')).toMatch(/prompt KV cache crosses the bus once/);
      expect(a.value.hostDeviceBytesPerForward!).toBeLessThan(b.value.hostDeviceBytesPerForward!);
    } finally {
      await loop.dispose();
      await ort.dispose();
    }
  });
});
