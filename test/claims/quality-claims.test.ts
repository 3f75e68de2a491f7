/**
 * The three quality verdicts (reversal curse, multi-step chains, competitive accuracy) on crafted results files: each
 * verdict kind of each, from per-task rows as a run records them with a case's quality.
 */
import chalk from 'chalk';
import { describe, expect, it } from 'vitest';
import { ClaimVerdictSchema, evaluateClaims, type ClaimId, type ClaimVerdict } from '../../src/claims/index.js';
import { headlineLines, headlineOf } from '../../src/claims/headline.js';
import { wilsonInterval } from '../../src/stats/proportions.js';
import type { CaseResult } from '../../src/results/types.js';
import { buildCase, buildResults } from '../fixtures/results/builder.js';

chalk.level = 0;

type Rows = Record<string, [number, number]>;

/** A case's quality as `run` records it for the twins' held-out tasks: per-task rows and their sum. */
function quality(rows: Rows) {
  const acc = (correct: number, total: number) => {
    const w = wilsonInterval(correct, total);
    return { correct, total, accuracy: total ? correct / total : 0, ci95: [w.low, w.high] as [number, number] };
  };
  const tasks = Object.entries(rows).map(([task, [c, n]]) => ({ task, ...acc(c, n) }));
  const overall = acc(
    tasks.reduce((s, t) => s + t.correct, 0),
    tasks.reduce((s, t) => s + t.total, 0),
  );
  return { suite: 'twins' as const, source: 'models/twins/heldout.json', perTask: 10, tasks, overall, meanNfe: 4, items: overall.total };
}

const twins = { conditions: { synthetic: false }, model: 'twins', parameters: 818_304 } as const;

function withQuality(c: CaseResult, rows: Rows): CaseResult {
  return c.state === 'completed' ? { ...c, quality: quality(rows) } : c;
}

const simple = (c: number, n = 50): Rows => ({ sort: [c, n], copy: [c, n] });
const probe = (fwd: number, bwd: number, ctl: number, n = 30): Rows => ({ 'reversal-forward': [fwd, n], 'reversal-backward': [bwd, n], 'reversal-control': [ctl, n] });
const chain = (ks: number[], n = 50): Rows => Object.fromEntries(ks.map((c, i) => [`chain-${i + 1}`, [c, n] as [number, number]]));

/** LLaDA at full steps and the AR engines (ar handicapped), throughput scenario, real small weights. */
function run(lladaRows: Rows, arRows: Rows, extra: CaseResult[] = []) {
  const l = withQuality(buildCase({ engine: 'llada', tokensPerSec: { mean: 800, sd: 8 }, seed: 1, ...twins }), lladaRows);
  const a = withQuality(buildCase({ engine: 'ar-loop', tokensPerSec: { mean: 400, sd: 4 }, seed: 2, ...twins }), arRows);
  const h = withQuality(buildCase({ engine: 'ar', tokensPerSec: { mean: 900, sd: 4 }, seed: 3, ...twins, conditions: { synthetic: false, handicaps: ['KV cache copied device->host->device every token'] } }), arRows);
  return buildResults({ cases: [l, a, h, ...extra] });
}

const claim = (r: ReturnType<typeof run>, id: ClaimId): ClaimVerdict => {
  const v = evaluateClaims(r).find((x) => x.id === id)!;
  expect(ClaimVerdictSchema.safeParse(JSON.parse(JSON.stringify(v))).success).toBe(true);
  return v;
};

describe('reversal curse (in miniature)', () => {
  it('reproduced when the diffusion twin answers the probe backward clearly more often than the AR twin', () => {
    const v = claim(run(probe(30, 24, 30), probe(30, 0, 30)), 'reversal-curse');
    expect(v.verdict).toBe('reproduced');
    expect(v.figures).toMatchObject({ lladaBackwardAccuracy: 0.8, arBackwardAccuracy: 0, lladaForwardAccuracy: 1, arControlAccuracy: 1, items: 30 });
    expect(v.figures.backwardDifferenceCiLow!).toBeGreaterThan(0);
    expect(v.evidence).toMatch(/asked backward, the diffusion twin \(32 steps\) scores 80% \(24\/30\) and the AR twin \(ar-loop\) 0% \(0\/30\)/);
    expect(v.evidence).toContain('in miniature');
    expect(v.conditions.holdsUnder.join(' ')).toContain('in miniature');
    // The AR case read is the one the speed verdict judges (ar-loop), not the handicapped engine.
    expect(v.evidenceUsed).toEqual(['throughput/llada/b1/p64/g32/s32/bl32', 'throughput/ar-loop/b1/p64/g32']);
  });

  it('not reproduced when the AR twin does as well or better backward (the interval lies below +5 points)', () => {
    expect(claim(run(probe(30, 0, 30), probe(30, 12, 30)), 'reversal-curse').verdict).toBe('not-reproduced');
    // Both at zero on many items: no better by 5 points.
    expect(claim(run(probe(200, 0, 200, 200), probe(200, 0, 200, 200)), 'reversal-curse').verdict).toBe('not-reproduced');
  });

  it('inconclusive on a few items, with the interval and what decides it', () => {
    const v = claim(run(probe(10, 2, 10, 10), probe(10, 0, 10, 10)), 'reversal-curse');
    expect(v.verdict).toBe('inconclusive');
    if (v.verdict !== 'inconclusive') return;
    expect(v.deciding.ci95![0]).toBeLessThan(0);
    expect(v.deciding.ci95![1]).toBeGreaterThan(0.05);
    expect(v.deciding.decidesWhen).toMatch(/above 0.*below \+5 points/);
  });

  it('not measurable without the probe, or when the pairs were not learned forward', () => {
    const none = claim(run(simple(50), simple(50)), 'reversal-curse');
    expect(none.verdict).toBe('not-measurable');
    expect(none.verdict === 'not-measurable' && none.needs).toMatch(/twins' held-out tasks/);
    const unlearned = claim(run(probe(3, 2, 30), probe(30, 0, 30)), 'reversal-curse');
    expect(unlearned.verdict).toBe('not-measurable');
    expect(unlearned.verdict === 'not-measurable' && unlearned.needs).toMatch(/forward \(at least 50%\)/);
  });
});

describe('multi-step chains', () => {
  it('reproduced when diffusion falls faster with k than AR', () => {
    const v = claim(run(chain([50, 40, 25, 10]), chain([50, 50, 49, 48])), 'multi-step-chains');
    expect(v.verdict).toBe('reproduced');
    expect(v.figures.lladaFall).toBeCloseTo(0.8, 12);
    expect(v.figures.arFall).toBeCloseTo(0.04, 12);
    expect(v.figures.fallDifference).toBeCloseTo(0.76, 12);
    expect(v.figures).toMatchObject({ lladaK1Accuracy: 1, lladaK4Accuracy: 0.2, arK4Accuracy: 0.96 });
    expect(v.evidence).toMatch(/k=1 100% \(50\/50\), k=2 80% \(40\/50\), k=3 50% \(25\/50\), k=4 20% \(10\/50\)/);
  });

  it('not reproduced when diffusion holds up as well as AR (or better)', () => {
    expect(claim(run(chain([200, 200, 199, 199], 200), chain([200, 200, 200, 199], 200)), 'multi-step-chains').verdict).toBe('not-reproduced');
    expect(claim(run(chain([50, 50, 50, 50]), chain([50, 40, 30, 25])), 'multi-step-chains').verdict).toBe('not-reproduced');
  });

  it('inconclusive on a few items', () => {
    const v = claim(run(chain([10, 9, 8, 8], 10), chain([10, 10, 9, 9], 10)), 'multi-step-chains');
    expect(v.verdict).toBe('inconclusive');
    expect(v.verdict === 'inconclusive' && v.deciding.quantity).toMatch(/fall in accuracy from k=1 to k=4/);
  });

  it('judged at the fastest setting within the quality floor, with full steps beside', () => {
    const rows = (ks: number[]): Rows => ({ ...chain(ks), ...simple(45) });
    // The same overall accuracy as full steps (within the floor), a steeper fall with k.
    const fast = withQuality(buildCase({ engine: 'llada', params: { threshold: 0.9 }, tokensPerSec: { mean: 2000, sd: 10 }, seed: 4, ...twins }), rows([50, 50, 50, 20]));
    const v = claim(run(rows([50, 45, 40, 35]), rows([50, 50, 50, 50]), [fast]), 'multi-step-chains');
    expect(v.evidenceUsed[0]).toBe(fast.id);
    expect(v.evidence).toContain('threshold 0.9 (the fastest setting within the quality floor)');
    expect(v.evidence).toMatch(/at full steps: k=1 100% \(50\/50\), k=2 90%/);
    expect(v.figures.fallDifference).toBeCloseTo(0.6, 12);
    expect(v.figures.fullStepsFallDifference).toBeCloseTo(0.3, 12);
    expect(v.verdict).toBe('reproduced');
  });

  it('not measurable without the chain rows, or when one step is not learned', () => {
    expect(claim(run(simple(50), simple(50)), 'multi-step-chains').verdict).toBe('not-measurable');
    const v = claim(run(chain([10, 5, 0, 0]), chain([50, 50, 50, 50])), 'multi-step-chains');
    expect(v.verdict === 'not-measurable' && v.needs).toMatch(/one step \(k=1\)/);
  });
});

describe('competitive accuracy at speed', () => {
  it("reproduced when the speed verdict's diffusion setting is at most 5 points worse than the strongest AR engine", () => {
    const v = claim(run(simple(95, 100), simple(92, 100)), 'competitive-accuracy');
    expect(v.verdict).toBe('reproduced');
    expect(v.figures).toMatchObject({ lladaAccuracy: 0.95, arAccuracy: 0.92, items: 200 });
    expect(v.figures.usefulTokensPerSecRatio).toBeCloseTo(2, 1);
    expect(v.evidence).toMatch(/32 steps \(2\.\d\dx the useful tokens\/s of ar-loop\)/);
  });

  it('not reproduced when diffusion is surely worse by more than 5 points; inconclusive in between', () => {
    expect(claim(run(simple(50, 100), simple(95, 100)), 'competitive-accuracy').verdict).toBe('not-reproduced');
    const v = claim(run(simple(8, 10), simple(9, 10)), 'competitive-accuracy');
    expect(v.verdict).toBe('inconclusive');
    expect(v.verdict === 'inconclusive' && v.deciding.decidesWhen).toMatch(/at or above -5 points/);
  });

  it('not measurable without accuracies, or when the two sides decoded different items', () => {
    expect(claim(buildResults({ cases: [buildCase({ engine: 'llada', ...twins }), buildCase({ engine: 'ar-loop', seed: 2, ...twins })] }), 'competitive-accuracy').verdict).toBe('not-measurable');
    const v = claim(run(simple(50, 100), simple(50, 50)), 'competitive-accuracy');
    expect(v.verdict === 'not-measurable' && v.needs).toMatch(/same held-out items/);
  });
});

describe('the headline carries the three quality verdicts', () => {
  it('one line each with the number that decided it, within 120 columns', () => {
    const rows: Rows = { ...simple(45), ...chain([50, 40, 25, 10]), ...probe(30, 24, 30) };
    const arRows: Rows = { ...simple(45), ...chain([50, 50, 49, 48]), ...probe(30, 0, 30) };
    const r = run(rows, arRows);
    const h = headlineOf(r);
    const byId = Object.fromEntries(h.claims.map((c) => [c.id, c]));
    expect(byId['reversal-curse']).toMatchObject({ verdict: 'reproduced' });
    expect(byId['reversal-curse']!.deciding).toMatch(/^backward 80% vs 0%, \+80 pts \(95% CI \+\d+ pts to \+\d+ pts\)/);
    expect(byId['multi-step-chains']!.deciding).toMatch(/^fall k=1\.\.4: diffusion \+80 pts vs AR \+4 pts/);
    expect(byId['competitive-accuracy']!.deciding).toMatch(/^accuracy \d+\.\d% vs \d+\.\d%/);
    for (const l of headlineLines(h, 120)) expect(l.length).toBeLessThanOrEqual(120);
  });
});
