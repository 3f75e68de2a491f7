/**
 * The run's own quality path (the case's engine call, fixed-length AR cut at EOS by the checker, the suite slice,
 * the score) on the shipped twins: it reaches the model cards, and for LLaDA the threshold saves forward passes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engines/factory.js';
import { resolveModelRef, trainedCheckpointDir } from '../../src/models/cache.js';
import { loadModelFolder } from '../../src/models/folder.js';
import { loadTokenizer } from '../../src/models/tokenize.js';
import { loadSuite } from '../../src/quality/suite.js';
import type { CaseParams } from '../../src/results/types.js';
import { type EngineHandle, engineCall } from '../../src/scenarios/measure.js';
import { measureQuality } from '../../src/scenarios/quality.js';
import { tempDir } from '../helpers/models.js';

const PER_TASK = 6;
const suite = loadSuite('twins', null)!;
const G = suite.heldout.genLength;
type CardSetting = Record<string, { correct: number; n: number }>;
const card = (family: 'llada' | 'llama'): Record<string, CardSetting> =>
  (JSON.parse(readFileSync(join(trainedCheckpointDir('twins', family), 'training.json'), 'utf8')) as { eval: Record<string, CardSetting> }).eval;
const pooled = (s: CardSetting, tasks: string[]) => tasks.reduce((a, t) => a + s[t]!.correct, 0) / tasks.reduce((a, t) => a + s[t]!.n, 0);

describe('quality as a run measures it (shipped twins)', () => {
  const saved = process.env.DLLM_BENCH_CACHE;
  let dirs: { llada: string; llama: string };
  beforeAll(() => {
    process.env.DLLM_BENCH_CACHE = tempDir('dllm-twins-q-');
    dirs = { llada: resolveModelRef('twins', 'llada', { dtype: 'fp32', seed: 0 }).dir, llama: resolveModelRef('twins', 'llama', { dtype: 'fp32', seed: 0 }).dir };
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.DLLM_BENCH_CACHE;
    else process.env.DLLM_BENCH_CACHE = saved;
  });

  it('the AR twin in fixed-length mode (as its cases run) reaches its greedy card once answers are cut at EOS', async () => {
    const engine = await createEngine({ kind: 'ar-loop', modelDir: dirs.llama, device: 'cpu', session: { intraOpThreads: 1 } });
    const tokenizer = await loadTokenizer(loadModelFolder(dirs.llama));
    try {
      const h = { kind: 'ar-loop', engine } as EngineHandle;
      const params: CaseParams = { batchSize: 1, promptTokens: 16, genLength: G };
      const r = await measureQuality({ suite, perTask: PER_TASK, tokenizer, genLength: G, call: engineCall(h, params, 0), signal: new AbortController().signal });
      if (!r.ok) throw new Error(r.reason);
      const q = r.quality;
      expect(q.tasks.map((t) => t.total)).toEqual(q.tasks.map(() => PER_TASK));
      expect(q.meanNfe).toBe(G); // fixed length: every answer costs G forwards
      const simple = ['sort', 'reverse', 'add', 'copy', 'split'];
      const got = q.tasks.filter((t) => simple.includes(t.task)).reduce((a, t) => a + t.correct, 0);
      expect(got).toBeGreaterThanOrEqual(Math.floor(pooled(card('llama').greedy!, simple) * simple.length * PER_TASK) - 2);
    } finally {
      await engine.dispose();
    }
  });

  it('LLaDA: threshold 0.9 keeps its card accuracy on sort with fewer forward passes than steps = gen length', async () => {
    const engine = await createEngine({ kind: 'llada', modelDir: dirs.llada, device: 'cpu', session: { intraOpThreads: 1 } });
    const tokenizer = await loadTokenizer(loadModelFolder(dirs.llada));
    try {
      const h = { kind: 'llada', engine } as EngineHandle;
      const base: CaseParams = { batchSize: 1, promptTokens: 16, genLength: G, steps: G, blockLength: G, threshold: null, cfgScale: 0, temperature: 0, remasking: 'low_confidence', cache: 'none' };
      const run = async (p: CaseParams) => {
        const r = await measureQuality({ suite, perTask: PER_TASK, tokenizer, genLength: G, call: engineCall(h, p, 0), signal: new AbortController().signal });
        if (!r.ok) throw new Error(r.reason);
        return r.quality;
      };
      const full = await run(base);
      const fast = await run({ ...base, threshold: 0.9 });
      expect(full.meanNfe).toBe(G);
      expect(fast.meanNfe).toBeLessThan(G / 2);
      const sort = (q: typeof full) => q.tasks.find((t) => t.task === 'sort')!.correct;
      const expected = Math.floor(pooled(card('llada')[`steps${G}`]!, ['sort']) * PER_TASK) - 1;
      expect(sort(full)).toBeGreaterThanOrEqual(expected);
      expect(sort(fast)).toBeGreaterThanOrEqual(expected);
      // An aborted run stops decoding and records nothing.
      const ac = new AbortController();
      ac.abort();
      const aborted = await measureQuality({ suite, perTask: PER_TASK, tokenizer, genLength: G, call: engineCall(h, base, 0), signal: ac.signal });
      expect(aborted).toEqual({ ok: false, reason: 'interrupted' });
    } finally {
      await engine.dispose();
    }
  });
});
