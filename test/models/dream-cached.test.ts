/**
 * Fast-dLLM's prefix and dual caches for Dream: dreamSampleCached over the converted cached graph matches a plain
 * re-implementation of Fast-dLLM's Dream `_sample` (confidence_threshold) token for token at threshold decoding,
 * and the cached graph's window forward agrees with the full forward where they must (fresh cache, shift inside the
 * window).
 */
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DreamCachedForward, type DreamCachedOptions, dreamSampleCached } from '../../src/engines/dream/cached.js';
import { type EntrySession, entrySession } from '../../src/engines/entries.js';
import { convertCheckpoint } from '../../src/models/build.js';
import { LLADA_ENTRY } from '../../src/models/compose.js';
import { mulberry32 } from '../../src/util/random.js';
import { hfDecoderTensors, writeShardedCheckpoint, qwen2LayoutConfig } from '../helpers/hf-checkpoint.js';
import { tempDir } from '../helpers/models.js';
import { argmax, softmax } from '../helpers/reference-forward.js';

const shape = { vocab: 96, d: 32, layers: 2, heads: 4, kvHeads: 2, headDim: 8, mlp: 48 };
const MASK = 95;
const config = {
  architectures: ['DreamModel'],
  model_type: 'Dream',
  ...qwen2LayoutConfig(shape, false),
  mask_token_id: MASK,
  eos_token_id: 92,
};

type Kv = Record<string, ort.Tensor>;
let raw: ort.InferenceSession;
let session: EntrySession;
const i64 = (row: number[]) => new ort.Tensor('int64', BigInt64Array.from(row.map(BigInt)), [1, row.length]);
const one = (v: number, t: 'int64' | 'float32') => (t === 'int64' ? new ort.Tensor('int64', BigInt64Array.from([BigInt(v)]), [1]) : new ort.Tensor('float32', Float32Array.from([v]), [1]));

async function call(ids: number[], from: number, L: number, past: Kv | null): Promise<{ logits: Float32Array[]; present: Kv }> {
  const feeds: Record<string, ort.Tensor> = {
    input_ids: i64(ids),
    attention_mask: i64(Array<number>(L).fill(1)),
    position_ids: i64(ids.map((_, j) => from + j)),
    cache_offset: one(from, 'int64'),
    logits_start: one(0, 'int64'),
    logits_length: one(ids.length, 'int64'),
    cfg_scale: one(0, 'float32'),
    temperature: one(0, 'float32'),
    noise_seed: one(0, 'int64'),
  };
  for (let l = 0; l < shape.layers; l++) {
    for (const kv of ['key', 'value']) {
      feeds[`past_key_values.${l}.${kv}`] = past?.[`present.${l}.${kv}`] ?? new ort.Tensor('float32', new Float32Array(0), [1, shape.kvHeads, 0, shape.headDim]);
    }
  }
  const out = await session.run(feeds);
  const data = out.logits!.data as Float32Array;
  const present: Kv = {};
  for (const [k, v] of Object.entries(out)) if (k.startsWith('present.')) present[k] = v;
  return { logits: ids.map((_, j) => data.slice(j * shape.vocab, (j + 1) * shape.vocab)), present };
}

const forward: DreamCachedForward<Kv> = {
  full: async (canvas) => {
    const r = await call(canvas, 0, canvas.length, null);
    return { logits: r.logits, cache: r.present };
  },
  window: async (ids, from, L, cache) => (await call(ids, from, L, cache)).logits,
};

beforeAll(async () => {
  const ckpt = join(tempDir(), 'dream');
  writeShardedCheckpoint(ckpt, config, hfDecoderTensors(shape, 43, { bias: true, tied: false }), 2);
  const out = join(tempDir(), 'model');
  const r = convertCheckpoint(ckpt, out, { dtype: 'fp32' });
  raw = await ort.InferenceSession.create(join(out, r.meta.entriesOnnxFile!), { logSeverityLevel: 3 });
  session = entrySession(raw, LLADA_ENTRY.cached);
});
afterAll(async () => {
  await raw.release();
});

/** Fast-dLLM's Dream `_sample` (confidence_threshold, one row), re-written plainly, over the same graph calls. */
async function plainFastDllmDream(prompt: number[], o: DreamCachedOptions): Promise<number[]> {
  const x = [...prompt, ...Array<number>(o.genLength).fill(MASK)];
  const L = x.length;
  for (let blk = 0; blk < o.genLength / o.blockLength; blk++) {
    const start = prompt.length + blk * o.blockLength;
    const end = start + o.blockLength;
    const first = await call(x, 0, L, null);
    x[start] = argmax(first.logits[start]!);
    for (;;) {
      const upto = o.cache === 'dual' ? end : L;
      const logits = (await call(x.slice(start, upto), start, L, first.present)).logits;
      const full = logits.map(() => -Infinity);
      const x0 = logits.map(() => MASK);
      logits.forEach((row, j) => {
        if (x[start + j] !== MASK) return;
        const p = softmax(Float64Array.from(row));
        x0[j] = argmax(p);
        full[j] = p[x0[j]!]!;
      });
      for (let j = o.blockLength; j < full.length; j++) full[j] = -Infinity;
      const n = x.slice(start, end).filter((v) => v === MASK).length;
      const order = full.map((c, j) => ({ c, j })).sort((a, b) => b.c - a.c || a.j - b.j).slice(0, n);
      order.forEach(({ c, j }, k) => {
        if (k === 0 || c >= o.threshold) x[start + j] = x0[j]!;
      });
      if (!x.slice(start, end).includes(MASK)) break;
    }
  }
  return x.slice(prompt.length);
}

describe('Fast-dLLM caches for Dream', () => {
  it('a window forward on a fresh cache equals the full forward inside the window (its first row reads itself)', async () => {
    const x = [90, 5, 17, 33, ...Array<number>(8).fill(MASK)];
    const full = await forward.full(x);
    const win = await forward.window(x.slice(4, 8), 4, x.length, full.cache);
    for (let j = 1; j < 4; j++) {
      for (let k = 0; k < shape.vocab; k++) expect(Math.abs(win[j]![k]! - full.logits[4 + j]![k]!)).toBeLessThan(1e-4);
    }
  });

  it.each([
    ['dual', 0.9],
    ['prefix', 0.9],
    ['dual', 0.5],
    ['prefix', 0.3],
  ] as const)('%s cache, threshold %s: token for token with the plain Fast-dLLM Dream decoding', async (cache, threshold) => {
    const o: DreamCachedOptions = { genLength: 12, blockLength: 4, threshold, cache, temperature: 0, topP: null, topK: null, maskId: MASK };
    const prompt = [90, 5, 17, 33];
    const got = await dreamSampleCached(prompt, forward, o, mulberry32(1));
    expect(got.tokens).toEqual(await plainFastDllmDream(prompt, o));
    expect(got.tokens).not.toContain(MASK);
    expect(got.committed.reduce((a, b) => a + b, 0)).toBe(12);
    // At least one call per position after the block start's, at most one per block position.
    expect(got.forwards).toBeGreaterThanOrEqual(3 * 2);
    expect(got.forwards).toBeLessThanOrEqual(3 * 4);
  });
});
