/**
 * Fast-dLLM's table from one run's results: the diffusion ladder (baseline, threshold, prefix + threshold, dual +
 * threshold) with both filters' accuracy, tok/s counted both ways and speed-up over the baseline, AR beside it, the
 * published LLaDA-8B-Instruct figures labelled as published only when the model is LLaDA-8B-Instruct, and the claims'
 * quality floor reading the GSM8K accuracy.
 */
import { describe, expect, it } from 'vitest';
import { qualityFloor } from '../../src/claims/evidence.js';
import { renderMarkdown } from '../../src/report/index.js';
import { PUBLISHED_LLADA_8B_INSTRUCT, qualityTable } from '../../src/report/quality.js';
import { ResultsFile as ResultsSchema } from '../../src/results/schema.js';
import { summarizeMetric } from '../../src/results/summary.js';
import type { CaseResult, CompletedCase } from '../../src/results/types.js';
import { wilsonInterval } from '../../src/quality/tasks.js';
import { buildResults } from '../fixtures/results/builder.js';

function acc(correct: number, total: number) {
  const w = wilsonInterval(correct, total);
  return { correct, total, accuracy: correct / total, ci95: [w.low, w.high] as [number, number] };
}

function kase(engine: CaseResult['engine'], model: string, flex: number, strict: number, answerTps: number, params: Partial<CaseResult['params']> = {}): CaseResult {
  const sample = { requests: 1, values: { latencyMs: [100] }, latencyMs: 100, generatedTokens: 256, usefulTokens: 100, tokensPerSec: 50, usefulTokensPerSec: 20, nfe: 256, tokensPerForward: 1, timePerForwardMs: 1, forwardMs: 1 };
  return {
    id: `steps/${engine}/${JSON.stringify(params)}`,
    scenario: 'steps',
    engine,
    model,
    params: { batchSize: 1, promptTokens: 900, genLength: 256, ...(engine === 'llada' ? { blockLength: 32, threshold: null, steps: 256, cache: 'none' } : {}), ...params },
    conditions: { device: 'cuda', executionProvider: 'cuda', dtype: 'fp16', synthetic: false, handicaps: [] },
    state: 'completed',
    warmupRuns: 0,
    samples: [sample, sample],
    summary: { tokensPerSec: summarizeMetric([50, 50]), nfe: summarizeMetric([256, 256]) },
    pooled: {},
    quality: {
      suite: 'gsm8k',
      source: 'data/gsm8k/test.jsonl',
      limit: 40,
      tasks: [{ task: 'gsm8k', ...acc(flex, 40) }],
      overall: acc(flex, 40),
      filters: { strictMatch: acc(strict, 40), flexibleExtract: acc(flex, 40), leading: 'flexible-extract' },
      meanNfe: 64,
      items: 40,
      batchSize: 1,
      decodeMs: 1000,
      tokensPerSec: answerTps * 2,
      answerTokens: answerTps,
      answerTokensPerSec: answerTps,
    },
  };
}

const ladder = (model: string) => [
  kase('llada', model, 32, 30, 10),
  kase('llada', model, 32, 30, 25, { threshold: 0.9, steps: undefined }),
  kase('llada', model, 31, 29, 60, { threshold: 0.9, steps: undefined, cache: 'prefix' }),
  kase('llada', model, 30, 29, 80, { threshold: 0.9, steps: undefined, cache: 'dual' }),
  kase('ar-loop', 'models/llama3-8b', 33, 31, 40),
];

describe('the GSM8K table', () => {
  it('rows: both filters with Wilson intervals, tok/s both ways, speed-up over the diffusion baseline, AR beside', () => {
    const r = buildResults({ cases: ladder('models/llada-8b'), runId: 'g', telemetry: { state: 'unavailable', reason: 'x' } });
    expect(() => ResultsSchema.parse(r)).not.toThrow();
    const t = qualityTable(r.scenarios[0]!)!;
    expect(t.head).toEqual(['engine', 'case', 'flexible-extract (95% CI)', 'strict-match (95% CI)', 'tok/s (timed)', 'tok/s on GSM8K', 'answer tok/s (Fast-dLLM count)', 'speed-up', 'NFE on tasks', 'batch']);
    expect(t.rows.map((row) => row[7])).toEqual(['1.00x (baseline)', '2.50x', '6.00x', '8.00x', '4.00x']);
    const w = wilsonInterval(32, 40);
    expect(t.rows[0]![2]).toBe(`80.0% (32/40; ${Math.round(w.low * 100)}%-${Math.round(w.high * 100)}%)`);
    expect(t.rows[0]![3]).toMatch(/^75\.0% \(30\/40; /);
    expect(t.rows[2]![1]).toMatch(/prefix cache/);
    expect(t.rows.some((row) => row[0] === 'published')).toBe(false);
    expect(t.note).toMatch(/first 40 of 1,319 test questions.*led by flexible-extract/);
  });

  it('LLaDA-8B-Instruct: the published figures stand beside the measured ones, labelled with their hardware', () => {
    const r = buildResults({ cases: ladder('/ckpt/LLaDA-8B-Instruct'), runId: 'g', telemetry: { state: 'unavailable', reason: 'x' } });
    const t = qualityTable(r.scenarios[0]!)!;
    const published = t.rows.filter((row) => row[0] === 'published');
    expect(published).toHaveLength(PUBLISHED_LLADA_8B_INSTRUCT.rows.length);
    expect(published[0]![1]).toMatch(/baseline.*A100, batch 1, gen length 256/);
    expect(published[0]![2]).toBe('79.3%');
    expect(published[1]![2]).toBe('78.5%');
    expect(published[1]![6]).toBe('54.4');
    expect(renderMarkdown(r)).toMatch(/\| published \|/);
  });

  it("the claims' quality floor reads the GSM8K accuracy and says so", () => {
    const cases = ladder('models/llada-8b') as CompletedCase[];
    const o = { accuracyOf: (c: CompletedCase) => c.quality?.overall.accuracy ?? null, qualityMarginPoints: 2, promptToleranceTokens: 4 };
    const dual = qualityFloor(cases[3]!, cases.slice(0, 4), o);
    expect(dual.admitted).toBe(false); // 75.0% vs 80.0%: more than 2 points
    expect(dual.note).toMatch(/accuracy 75\.0% vs 80\.0% at full steps on GSM8K \(flexible-extract, 40 items\)/);
    expect(qualityFloor(cases[1]!, cases.slice(0, 4), o).admitted).toBe(true); // 80.0% vs 80.0%
  });
});
