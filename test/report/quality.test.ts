/** Accuracy beside speed in the reports, and the speed-quality frontier chart, from a results file alone. */
import { describe, expect, it } from 'vitest';
import { frontierSpec } from '../../src/report/charts.js';
import { renderHtml, renderMarkdown } from '../../src/report/index.js';
import { qualityTable } from '../../src/report/quality.js';
import { ResultsFile as ResultsSchema } from '../../src/results/schema.js';
import { summarizeMetric } from '../../src/results/summary.js';
import type { CaseResult, ResultsFile } from '../../src/results/types.js';
import { wilsonInterval } from '../../src/quality/tasks.js';
import { buildResults } from '../fixtures/results/builder.js';

function acc(correct: number, total: number) {
  const w = wilsonInterval(correct, total);
  return { correct, total, accuracy: correct / total, ci95: [w.low, w.high] as [number, number] };
}

function kase(engine: CaseResult['engine'], tps: number, nfe: number, right: [number, number], params: Partial<CaseResult['params']> = {}): CaseResult {
  const sample = { requests: 1, values: { latencyMs: [1000 / tps] }, latencyMs: 1000 / tps, generatedTokens: 16, usefulTokens: 8, tokensPerSec: tps, usefulTokensPerSec: tps / 2, nfe, tokensPerForward: 16 / nfe, timePerForwardMs: 1, forwardMs: 1 };
  return {
    id: `steps/${engine}/${JSON.stringify(params)}`,
    scenario: 'steps',
    engine,
    model: 'twins',
    params: { batchSize: 1, promptTokens: 16, genLength: 16, ...(engine === 'llada' ? { blockLength: 16, threshold: null } : {}), ...params },
    conditions: { device: 'cpu', executionProvider: 'cpu', dtype: 'fp32', synthetic: false, handicaps: [] },
    state: 'completed',
    warmupRuns: 0,
    samples: [sample, sample],
    summary: { tokensPerSec: summarizeMetric([tps, tps]), nfe: summarizeMetric([nfe, nfe]) },
    pooled: {},
    quality: {
      source: 'models/twins/heldout.json',
      perTask: 4,
      tasks: [
        { task: 'sort', ...acc(right[0], 4) },
        { task: 'split', ...acc(right[1], 4) },
      ],
      overall: acc(right[0] + right[1], 8),
      meanNfe: nfe,
    },
  };
}

function results(cases: CaseResult[]): ResultsFile {
  return buildResults({ cases, runId: 'q', telemetry: { state: 'unavailable', reason: 'cpu run' } });
}

const scored = [
  kase('llada', 1000, 16, [4, 3], { steps: 16 }),
  kase('llada', 3000, 4.5, [4, 2], { threshold: 0.9 }),
  kase('llada', 3500, 4, [4, 0], { steps: 4, cache: 'dual' }),
  kase('ar-loop', 2000, 16, [4, 4]),
];

describe('quality in the reports', () => {
  it('a case with quality is a valid results file', () => {
    expect(() => ResultsSchema.parse(results(scored))).not.toThrow();
    const bad = structuredClone(results(scored));
    (bad.scenarios[0]!.cases[0] as { quality: { overall: { accuracy: number } } }).quality.overall.accuracy = 1.5;
    expect(() => ResultsSchema.parse(bad)).toThrow();
  });

  it('the frontier has one point per scored setting, accuracy in % with its interval, the AR engine marked', () => {
    const spec = frontierSpec(results(scored))!;
    const points = (spec.data as { values: { side: string; setting: string; acc: number; lo: number; hi: number; tps: number }[] }).values;
    expect(points.map((p) => p.setting)).toEqual(['16 steps', 'thr 0.9', '4 steps dual', 'ar-loop (AR)']);
    expect(points.map((p) => p.side)).toEqual(['diffusion (LLaDA)', 'diffusion (LLaDA)', 'diffusion (LLaDA)', 'AR reference']);
    expect(points[0]!.acc).toBeCloseTo(87.5, 10);
    const w = wilsonInterval(7, 8);
    expect(points[0]!.lo).toBeCloseTo(w.low * 100, 10);
    expect(points[0]!.hi).toBeCloseTo(w.high * 100, 10);
    expect(points[1]!.tps).toBe(3000);
    // Labels only where no other setting is both faster and more accurate (16 steps is beaten by ar-loop), plus AR;
    // the legend lists the engines drawn, not every engine the tool knows.
    const layers = spec.layer as { data?: { values: { setting: string }[] }; encoding: { color?: { scale: { domain: string[]; range: string[] } } } }[];
    expect(layers[2]!.data!.values.map((p) => p.setting)).toEqual(['thr 0.9', '4 steps dual']);
    expect(layers[3]!.data!.values.map((p) => p.setting)).toEqual(['ar-loop (AR)']); // slanted: AR points sit close together
    expect(layers[1]!.encoding.color!.scale).toEqual({ domain: ['llada', 'ar-loop'], range: ['#d62728', '#17becf'] });
    // Without quality (random-weight presets) there is no frontier to draw.
    expect(frontierSpec(results(scored.map((c) => ({ ...c, quality: undefined }) as CaseResult)))).toBeNull();
  });

  it('tables put accuracy beside tok/s and NFE, per task too; markdown and HTML show it and the frontier chart', async () => {
    const t = qualityTable(results(scored).scenarios[0]!)!;
    expect(t.head).toEqual(['engine', 'case', 'accuracy (95% CI)', 'tok/s', 'NFE', 'NFE on tasks', 'sort', 'split']);
    expect(t.rows[1]).toEqual(['llada', 'b1 p16 g16 thr 0.9 blk 16', expect.stringMatching(/^75\.0% \(\d+%-\d+%\)$/), '3000.0 ± 0.0', '4.5', '4.5', '100% (4/4)', '50% (2/4)']);
    expect(t.note).toMatch(/first 4 held-out items of each task \(models\/twins\/heldout\.json\)/);
    const md = renderMarkdown(results(scored));
    expect(md).toMatch(/\| ar-loop \| b1 p16 g16 \| 100\.0% \(\d+%-100%\) \| 2000\.0 ± 0\.0 \| 16\.0 \| 16\.0 \| 100% \(4\/4\) \| 100% \(4\/4\) \|/);
    const html = await renderHtml(results(scored));
    expect(html).toMatch(/id="chart-frontier"/);
    expect(html).toMatch(/Accuracy beside speed/);
  });
});
