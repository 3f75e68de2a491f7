/**
 * The shipped trained twins, converted by the `twins` preset like any checkpoint and decoded by dllm-bench's own
 * engines (no Python): the tokenizer reproduces the training ids, and a fixed slice of the held-out split reaches
 * the model cards' accuracy.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engines/factory.js';
import type { LladaGenerateOptions } from '../../src/engines/llada/engine.js';
import { DEFAULT_LLADA_OPTIONS } from '../../src/engines/llada/sampler.js';
import type { ArGenerateOptions } from '../../src/engines/ar-common.js';
import type { Engine } from '../../src/engines/types.js';
import { resolveModelRef, trainedCheckpointDir } from '../../src/models/cache.js';
import { loadModelFolder } from '../../src/models/folder.js';
import { type PromptTokenizer, loadTokenizer } from '../../src/models/tokenize.js';
import { type HeldoutItem, checkAnswer, loadHeldout, sliceItems } from '../../src/quality/tasks.js';
import { tempDir } from '../helpers/models.js';

const heldout = loadHeldout(join(trainedCheckpointDir('twins', 'llada'), '..', 'heldout.json'));
const EXACT = ['sort', 'reverse', 'add', 'copy'];
const PER_TASK = 8;
const slice = sliceItems(heldout.items, PER_TASK);

type Card = { eval: Record<string, Record<string, { correct: number; n: number; accuracy: number; meanNfe: number }>> };
const card = (family: string): Card => JSON.parse(readFileSync(join(trainedCheckpointDir('twins', family as 'llada'), 'training.json'), 'utf8')) as Card;

/** Card accuracy over a set of tasks (pooled). */
function cardAccuracy(setting: Record<string, { correct: number; n: number }>, tasks: string[]): number {
  const c = tasks.reduce((a, t) => a + setting[t]!.correct, 0);
  const n = tasks.reduce((a, t) => a + setting[t]!.n, 0);
  return c / n;
}

interface Scored {
  correct: Map<string, number>;
  nfe: number[];
}

async function decodeAll<O>(engine: Engine<O>, tok: PromptTokenizer, items: HeldoutItem[], genLength: number, options: O): Promise<Scored> {
  const correct = new Map<string, number>();
  const nfe: number[] = [];
  for (const item of items) {
    const r = await engine.generate({ prompts: [item.promptIds], genLength }, options);
    if (!r.ok) throw new Error(r.error.message);
    nfe.push(r.value.trace.length);
    if (checkAnswer(item, tok.decode(r.value.tokens[0]!))) correct.set(item.task, (correct.get(item.task) ?? 0) + 1);
  }
  return { correct, nfe };
}

const sum = (m: Map<string, number>, tasks: string[]) => tasks.reduce((a, t) => a + (m.get(t) ?? 0), 0);

describe('trained twins (shipped weights, dllm-bench engines)', () => {
  const cache = tempDir('dllm-twins-');
  const saved = process.env.DLLM_BENCH_CACHE;
  let lladaDir = '';
  let llamaDir = '';

  beforeAll(() => {
    process.env.DLLM_BENCH_CACHE = cache;
    lladaDir = resolveModelRef('twins', 'llada', { dtype: 'fp32', seed: 0 }).dir;
    llamaDir = resolveModelRef('twins', 'llama', { dtype: 'fp32', seed: 0 }).dir;
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.DLLM_BENCH_CACHE;
    else process.env.DLLM_BENCH_CACHE = saved;
  });

  it('the preset converts real (not synthetic) weights once and reuses them', () => {
    const again = resolveModelRef('twins', 'llada', { dtype: 'fp32', seed: 5 });
    expect(again.built).toBe(false);
    expect(again.dir).toBe(lladaDir);
    const meta = loadModelFolder(lladaDir).meta;
    expect(meta.synthetic).toBeNull();
    expect(meta.spec.maskTokenId).toBe(5);
    expect(loadModelFolder(llamaDir).meta.graph).toBe('causal');
  });

  it('both tokenizers encode every held-out prompt to the ids training used', async () => {
    for (const dir of [lladaDir, llamaDir]) {
      const tok = await loadTokenizer(loadModelFolder(dir));
      const mismatched = heldout.items.filter((it) => JSON.stringify(tok.encode(it.prompt, true)) !== JSON.stringify(it.promptIds));
      expect(mismatched.map((it) => it.prompt)).toEqual([]);
    }
  });

  it('an empty answer (EOS first) decodes to no text instead of failing', async () => {
    const tok = await loadTokenizer(loadModelFolder(lladaDir));
    expect(tok.decode([])).toBe('');
    expect(tok.decode(tok.encode('12+34', false)).replace(/ /g, '')).toBe('12+34');
  });

  it('LLaDA at steps = gen length and at threshold 0.9 reaches its card on a held-out slice, threshold with far fewer forwards', async () => {
    const folder = loadModelFolder(lladaDir);
    const tok = await loadTokenizer(folder);
    const engine = await createEngine({ kind: 'llada', modelDir: lladaDir, device: 'cpu', session: { intraOpThreads: 1 } });
    const G = heldout.genLength;
    const base: LladaGenerateOptions = { ...DEFAULT_LLADA_OPTIONS, steps: G, blockLength: G, temperature: 0, threshold: null };
    const items = slice.filter((it) => [...EXACT, 'split'].includes(it.task));
    try {
      const full = await decodeAll(engine as Engine<LladaGenerateOptions>, tok, items, G, base);
      const fast = await decodeAll(engine as Engine<LladaGenerateOptions>, tok, items, G, { ...base, threshold: 0.9 });
      const n = EXACT.length * PER_TASK;
      const expected = cardAccuracy(card('llada').eval[`steps${G}`]!, EXACT);
      expect(sum(full.correct, EXACT)).toBeGreaterThanOrEqual(Math.floor(expected * n) - 2);
      expect(full.nfe.every((x) => x === G)).toBe(true);
      // Threshold 0.9: the card's accuracy and the card's (much smaller) number of forward passes.
      const thr = card('llada').eval['threshold0.9']!;
      expect(sum(fast.correct, EXACT)).toBeGreaterThanOrEqual(Math.floor(cardAccuracy(thr, EXACT) * n) - 2);
      const tasks = [...EXACT, 'split'];
      const cardNfe = tasks.reduce((a, t) => a + thr[t]!.meanNfe * thr[t]!.n, 0) / tasks.reduce((a, t) => a + thr[t]!.n, 0);
      const meanNfe = fast.nfe.reduce((a, b) => a + b, 0) / fast.nfe.length;
      expect(meanNfe).toBeLessThanOrEqual(cardNfe + 1);
      expect(meanNfe).toBeLessThan(G / 2);
    } finally {
      await engine.dispose();
    }
  });

  it('the Llama twin (greedy, stops at EOS) reaches its card on the same slice', async () => {
    const folder = loadModelFolder(llamaDir);
    const tok = await loadTokenizer(folder);
    const engine = await createEngine({ kind: 'ar-ort', modelDir: llamaDir, device: 'cpu', session: { intraOpThreads: 1 } });
    const items = slice.filter((it) => [...EXACT, 'split'].includes(it.task));
    try {
      const r = await decodeAll(engine as Engine<ArGenerateOptions>, tok, items, 12, { mode: 'natural' });
      const tasks = [...EXACT, 'split'];
      const n = tasks.length * PER_TASK;
      const expected = cardAccuracy(card('llama').eval.greedy!, tasks);
      expect(sum(r.correct, tasks)).toBeGreaterThanOrEqual(Math.floor(expected * n) - 2);
    } finally {
      await engine.dispose();
    }
  });
});
