import chalk from 'chalk';
import { describe, expect, it } from 'vitest';
import { evaluateClaims, headlineLines, headlineMarkdown, headlineOf, renderClaimsMarkdown, renderClaimsText } from '../../src/claims/index.js';
import { clip } from '../../src/claims/headline.js';
import type { CaseResult, CompletedCase } from '../../src/results/types.js';
import { ratio } from '../../src/util/format.js';
import { buildCase, buildResults } from '../fixtures/results/builder.js';

chalk.level = 0;

/** Accuracy recorded with a case as the quality decodes record it (a Wilson-like interval around it). */
function scored(c: CaseResult, acc: number): CaseResult {
  if (c.state !== 'completed') return c;
  const overall = { correct: Math.round(acc * 60), total: 60, accuracy: acc, ci95: [acc - 0.1, Math.min(1, acc + 0.08)] as [number, number] };
  return { ...c, quality: { source: 'models/twins/heldout.json', perTask: 10, tasks: [], overall, meanNfe: c.params.steps ?? 16 } };
}

const real = { conditions: { synthetic: false }, model: 'twins' };

/** The twins in miniature: full steps, a threshold within the quality floor, one below it, and three AR engines. */
function twinsRun() {
  const p = { promptTokens: 16, genLength: 16, blockLength: 16 };
  const kv = 'KV cache copied device->host->device every token (onnxruntime-node has no IO binding): ~1.0 MB per forward';
  const cases = [
    scored(buildCase({ scenario: 'steps', engine: 'llada', params: { ...p, steps: 16 }, tokensPerSec: { mean: 2000, sd: 40 }, seed: 1, parameters: 800_000, ...real }), 0.8),
    scored(buildCase({ scenario: 'steps', engine: 'llada', params: { ...p, steps: 16, threshold: 0.9 }, tokensPerSec: { mean: 24000, sd: 900 }, seed: 2, parameters: 800_000, ...real }), 0.8),
    scored(buildCase({ scenario: 'steps', engine: 'llada', params: { ...p, steps: 4 }, tokensPerSec: { mean: 60000, sd: 900 }, seed: 3, parameters: 800_000, ...real }), 0.65),
    scored(buildCase({ scenario: 'steps', engine: 'ar', params: p, tokensPerSec: { mean: 9000, sd: 100 }, seed: 4, parameters: 790_000, ...real, conditions: { synthetic: false, handicaps: [kv] } }), 0.83),
    scored(buildCase({ scenario: 'steps', engine: 'ar-ort', params: p, tokensPerSec: { mean: 4000, sd: 100 }, seed: 5, parameters: 790_000, ...real }), 0.83),
    scored(buildCase({ scenario: 'steps', engine: 'ar-loop', params: p, tokensPerSec: { mean: 6000, sd: 100 }, seed: 6, parameters: 790_000, ...real }), 0.833),
    buildCase({ scenario: 'throughput', engine: 'llada', params: { ...p, steps: 16 }, tokensPerSec: { mean: 900, sd: 20 }, seed: 7, parameters: 800_000, ...real }),
    buildCase({ scenario: 'throughput', engine: 'ar-loop', params: p, tokensPerSec: { mean: 6000, sd: 100 }, seed: 8, parameters: 790_000, ...real }),
  ];
  return buildResults({ cases });
}

describe('the headline', () => {
  it("its numbers are the claims' numbers: the speed ratio and interval, both accuracies, forward passes per token", () => {
    const r = twinsRun();
    const verdicts = evaluateClaims(r);
    const speed = verdicts.find((v) => v.id === 'speed-10x')!;
    const h = headlineOf(r, verdicts);
    const c = h.comparison!;
    expect(c).not.toBeNull();
    // The verdict's pair: the threshold setting (within the floor; 4 steps is below it) against ar-loop (ar is handicapped).
    expect(speed.evidenceUsed.slice(0, 2)).toEqual([c.diffusion.caseId, c.ar.caseId]);
    expect(c.diffusion.caseId).toBe('steps/llada/b1/p16/g16/t0.9/bl16');
    expect(c.ar.engine).toBe('ar-loop');
    expect(c.speedRatio.value).toBe(speed.figures.usefulTokensPerSecRatio);
    expect(c.speedRatio.ci95).toEqual([speed.figures.usefulTokensPerSecRatioCiLow, speed.figures.usefulTokensPerSecRatioCiHigh]);
    expect(c.diffusion.usefulTokensPerSec).toBe(speed.figures.lladaUsefulTokensPerSec);
    expect(c.ar.usefulTokensPerSec).toBe(speed.figures.strongestArUsefulTokensPerSec);
    expect(c.diffusion.accuracy).toEqual({ value: speed.figures.lladaAccuracy, ci95: [speed.figures.lladaAccuracyCiLow, speed.figures.lladaAccuracyCiHigh] });
    expect(c.ar.accuracy).toEqual({ value: speed.figures.strongestArAccuracy, ci95: [speed.figures.strongestArAccuracyCiLow, speed.figures.strongestArAccuracyCiHigh] });
    // ... which are the cases' own recorded figures.
    const byId = (id: string) => r.scenarios.flatMap((s) => s.cases).find((x) => x.id === id) as CompletedCase;
    expect(c.diffusion.accuracy!.value).toBe(byId(c.diffusion.caseId).quality!.overall.accuracy);
    expect(c.ar.accuracy!.ci95).toEqual(byId(c.ar.caseId).quality!.overall.ci95);
    expect(c.diffusion.forwardsPerToken).toBeCloseTo(16 / 16, 12); // the builder's threshold case records NFE = steps
    expect(c.ar.forwardsPerToken).toBe(1);
    expect(h.scale).toBe('in miniature');
    expect(h.models).toBe('twins (llada) vs twins (llama), ~0.8 M parameters each');
    // The text shows exactly those numbers.
    const text = headlineLines(h).join('\n');
    expect(text).toContain(`speed      ${ratio(c.speedRatio.value)} useful tokens/s (95% CI ${ratio(c.speedRatio.ci95![0])} to ${ratio(c.speedRatio.ci95![1])})`);
    expect(text).toContain('accuracy   80.0% (70%-88%) vs 83.3% (73%-91%)');
    // One line per claim, in the verdicts' order, with its verdict.
    expect(h.claims.map((x) => [x.id, x.verdict])).toEqual(verdicts.map((v) => [v.id, v.verdict]));
    expect(text).toMatch(new RegExp(`NOT REPRODUCED +10x faster +${ratio(c.speedRatio.value).replace('.', '\\.')} \\(95% CI`));
  });

  it('fits: at most 16 lines (2 + the comparison\'s 4 + a title and the 9 claims), none wider than the width (long texts are cut at a word)', () => {
    const h = headlineOf(twinsRun());
    for (const width of [120, 80, 60]) {
      const lines = headlineLines(h, width);
      expect(lines.length).toBeLessThanOrEqual(16);
      expect(lines.filter((l) => l.length > width)).toEqual([]);
    }
    expect(clip('one two three four', 12)).toBe('one two…');
    expect(clip('short', 12)).toBe('short');
  });

  it('says why when nothing can be compared, and still lists every claim', () => {
    const r = buildResults({ cases: [buildCase({ engine: 'llada' })] });
    const h = headlineOf(r);
    expect(h.comparison).toBeNull();
    expect(h.why).toMatch(/no completed autoregressive case/);
    expect(h.claims).toHaveLength(9);
    expect(headlineLines(h)[2]).toMatch(/^ {2}no speed comparison: /);
  });

  it('opens `claims` (text and Markdown) and names the same figures there', () => {
    const r = twinsRun();
    const v = evaluateClaims(r);
    const text = renderClaimsText(v, r);
    expect(text.split('\n')[0]).toMatch(/^THE ANSWER \(run test-run\)/);
    const md = renderClaimsMarkdown(v, r);
    expect(md.startsWith(headlineMarkdown(headlineOf(r, v)))).toBe(true);
    expect(md).toMatch(/\*\*Speed:\*\* .* is \*\*\d+\.\d+x\*\* \(95% CI/);
  });
});
