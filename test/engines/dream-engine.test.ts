/**
 * A Dream model decodes with Dream's sampler in the diffusion engine, `generate` and `run`, chosen by its family
 * adapter: on the tiny Dream preset (tiny-qwen2's diffusion side) the engine's tokens equal dreamSample's own output
 * over the same graph with the adapter's settings, on Dream's commit schedule (not LLaDA's); `generate --json`
 * and the run's results say sampler "dream".
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DreamCachedForward, dreamSampleCached } from '../../src/engines/dream/cached.js';
import { type DreamForward, dreamSample } from '../../src/engines/dream/sampler.js';
import { entrySession, type EntrySession } from '../../src/engines/entries.js';
import { createEngine } from '../../src/engines/factory.js';
import type { LladaGenerateOptions } from '../../src/engines/options.js';
import { DEFAULT_LLADA_OPTIONS, transferSchedule } from '../../src/engines/llada/sampler.js';
import type { Engine } from '../../src/engines/types.js';
import { resolveModelRef } from '../../src/models/cache.js';
import { LLADA_ENTRY } from '../../src/models/compose.js';
import { familyOf } from '../../src/models/families.js';
import { loadModelFolder, type ModelFolder } from '../../src/models/folder.js';
import type { ResultsFile } from '../../src/results/types.js';
import { mulberry32 } from '../../src/util/random.js';
import { cli } from '../helpers/cli.js';
import { okValue } from '../helpers/engine.js';
import { tempDir } from '../helpers/models.js';

const cache = tempDir('dllm-cache-');
const env = { DLLM_BENCH_CACHE: cache };
const PROMPT = [5, 17, 33, 200, 8];
const GEN = 16;
const STEPS = 8;
let folder: ModelFolder;
let engine: Engine<LladaGenerateOptions>;
let raw: ort.InferenceSession;
let forwardEntry: EntrySession;

const i64 = (v: number[], dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(v.map(BigInt)), dims);
const f1 = (v: number) => new ort.Tensor('float32', Float32Array.from([v]), [1]);

/** The forward entry over a whole canvas (one row, no padding): the shifted logits of positions start.., as the engine asks. */
async function run(canvas: number[], fetch: string, start: number) {
  const L = canvas.length;
  const out = await forwardEntry.run(
    {
      input_ids: i64(canvas, [1, L]),
      attention_mask: i64(canvas.map(() => 1), [1, L]),
      position_ids: i64(canvas.map((_, i) => i), [1, L]),
      logits_start: i64([start], [1]),
      cfg_scale: f1(0),
      temperature: f1(0),
      noise_seed: i64([0], [1]),
    },
    [fetch],
  );
  return out[fetch]!.data as Float32Array | BigInt64Array;
}

const dreamForward: DreamForward = async (rows) => {
  const V = folder.meta.spec.vocabSize;
  return Promise.all(rows.map(async (r) => {
    const P = PROMPT.length;
    const data = (await run(r, 'logits', P)) as Float32Array;
    return r.map((_, p) => (p < P ? new Float32Array(0) : data.slice((p - P) * V, (p - P + 1) * V)));
  }));
};

beforeAll(async () => {
  process.env.DLLM_BENCH_CACHE = cache;
  const m = resolveModelRef('tiny-qwen2', 'diffusion', { dtype: 'fp32', seed: 0 });
  expect(m.family).toBe('dream');
  folder = loadModelFolder(m.dir);
  engine = (await createEngine({ kind: 'llada', modelDir: m.dir, device: 'cpu' })) as Engine<LladaGenerateOptions>;
  raw = await ort.InferenceSession.create(join(folder.dir, folder.meta.entriesOnnxFile!), { logSeverityLevel: 3 });
  forwardEntry = entrySession(raw, LLADA_ENTRY.forward);
}, 120_000);
afterAll(async () => {
  await engine?.dispose();
  await raw?.release();
});

const options = (over: Partial<LladaGenerateOptions> = {}): LladaGenerateOptions => ({ ...DEFAULT_LLADA_OPTIONS, steps: STEPS, blockLength: GEN, ...over });

describe('a Dream model on the diffusion engine', () => {
  it("the family adapter chooses Dream's sampler; the engine says so", () => {
    expect(familyOf('dream').decoding).toMatchObject({ sampler: 'dream', alg: 'entropy' });
    expect(familyOf('llada').decoding).toEqual({ sampler: 'llada' });
    expect(engine.info).toMatchObject({ kind: 'llada', family: 'dream', sampler: 'dream' });
  });

  it("its tokens are dreamSample's own with the adapter's settings, on Dream's schedule, not LLaDA's", async () => {
    const got = okValue(await engine.generate({ prompts: [PROMPT], genLength: GEN }, options()));
    const d = familyOf('dream').decoding;
    if (d?.sampler !== 'dream') throw new Error('dream adapter without Dream decoding');
    const mask = folder.meta.spec.maskTokenId!;
    const want = await dreamSample([PROMPT], dreamForward, { genLength: GEN, steps: STEPS, eps: d.eps, alg: d.alg, algTemp: d.algTemp, temperature: 0, topP: d.topP, topK: d.topK, maskId: mask }, mulberry32(0));
    expect(got.tokens).toEqual(want.tokens);
    expect(got.trace.map((t) => t.tokensCommitted)).toEqual(want.committed);
    // LLaDA's sampler commits gen_length / steps tokens at every step; Dream's floor(m (1 - s / t)), all left at the last.
    expect(want.committed).not.toEqual(transferSchedule(GEN, STEPS));
    expect(want.committed[0]).toBe(Math.floor(GEN * (1 - (1 + (1e-3 - 1) / STEPS))));
  });

  it('left-padded batches decode each row as it decodes alone (pads masked, positions from the first token)', async () => {
    const short = PROMPT.slice(2);
    const batch = okValue(await engine.generate({ prompts: [PROMPT, short], genLength: GEN }, options()));
    const alone = okValue(await engine.generate({ prompts: [short], genLength: GEN }, options()));
    expect(batch.tokens[1]).toEqual(alone.tokens[0]);
  });

  it("threshold decoding runs Fast-dLLM's Dream code, cached or not; settings Dream cannot honour are refused", async () => {
    const mask = folder.meta.spec.maskTokenId!;
    const o = options({ threshold: 0.9, blockLength: 8 });
    const none = okValue(await engine.generate({ prompts: [PROMPT], genLength: GEN }, o));
    // Without a cache every call is a whole-canvas forward: dreamSampleCached over plain forwards gives the same tokens.
    const V = folder.meta.spec.vocabSize;
    const whole = async (canvas: number[]) => {
      const data = (await run(canvas, 'logits', 0)) as Float32Array;
      return canvas.map((_, p) => data.slice(p * V, (p + 1) * V));
    };
    const plain: DreamCachedForward<number[]> = {
      full: async (canvas) => ({ logits: await whole(canvas), cache: [...canvas] }),
      window: async (ids, from, _L, canvas) => (await whole([...canvas.slice(0, from), ...ids])).slice(from),
    };
    const d = familyOf('dream').decoding;
    if (d?.sampler !== 'dream') throw new Error('dream adapter without Dream decoding');
    const want = await dreamSampleCached(PROMPT, plain, { genLength: GEN, temperature: 0, topP: d.topP, topK: d.topK, maskId: mask, blockLength: 8, threshold: 0.9, cache: 'prefix' }, mulberry32(0));
    expect(none.tokens).toEqual([want.tokens]);
    expect(none.trace.map((t) => t.tokensCommitted)).toEqual(want.committed);
    const dual = okValue(await engine.generate({ prompts: [PROMPT], genLength: GEN }, { ...o, cache: 'dual' }));
    expect(dual.tokens[0]).toHaveLength(GEN);
    expect(dual.trace.length).toBeGreaterThanOrEqual(2);
    const refused = async (o: Partial<LladaGenerateOptions>) => {
      const r = await engine.generate({ prompts: [PROMPT], genLength: GEN }, options(o));
      return r.ok ? 'ok' : `${r.error.code}: ${r.error.message}`;
    };
    expect(await refused({ cache: 'dual' })).toMatch(/^invalid-options: .*threshold/);
    expect(await refused({ cfgScale: 1 })).toMatch(/^invalid-options: .*classifier-free guidance/);
    expect(await refused({ blockLength: 8 })).toMatch(/^invalid-options: .*block length \(8\) must equal gen length \(16\)/);
  });
});

describe('generate and run on the tiny Dream preset (built CLI)', () => {
  it('generate --json: sampler dream, the engine-level tokens', async () => {
    const r = await cli(['generate', '--model', 'tiny-qwen2', '--prompt-ids', PROMPT.join(','), '--gen-length', String(GEN), '--steps', String(STEPS), '--json', '--device', 'cpu'], env);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { sampler: string; family: string; tokens: number[][]; options: { decoding: { sampler: string } } };
    expect(j).toMatchObject({ sampler: 'dream', family: 'dream', options: { decoding: { sampler: 'dream', alg: 'entropy' } } });
    const direct = okValue(await engine.generate({ prompts: [PROMPT], genLength: GEN }, options()));
    expect(j.tokens).toEqual(direct.tokens);
  }, 120_000);

  it('run: the diffusion case records family dream and sampler dream', async () => {
    const out = join(tempDir(), 'run');
    const r = await cli(
      ['run', '--diffusion', 'tiny-qwen2', '--ar', 'tiny-qwen2', '--ar-engines', 'ar-ort', '--scenarios', 'throughput', '--repetitions', '1', '--warmup', '0', '--min-time', '0', '--gen-length', '16', '--steps', '8', '--block-length', '16', '--device', 'cpu', '--out', out],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as ResultsFile;
    const cases = results.scenarios.flatMap((s) => s.cases);
    const diffusion = cases.filter((c) => c.engine === 'llada');
    expect(diffusion.length).toBeGreaterThan(0);
    for (const c of diffusion) {
      expect(c.state).toBe('completed');
      expect(c).toMatchObject({ family: 'dream', conditions: { sampler: 'dream' } });
    }
    for (const c of cases.filter((c) => c.engine !== 'llada')) expect(c.conditions.sampler).toBeUndefined();
  }, 240_000);
});
