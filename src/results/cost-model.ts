/**
 * Context cost models: time = c0 + c1·L + c2·L² per engine and phase, by weighted least squares (relative errors)
 * over every repetition of the context scenario's cases. A log-log exponent cannot tell linear from quadratic growth
 * when a fixed cost or a large linear (MLP) cost dominates; c2 and its interval can, and say so when the range of L
 * cannot resolve it.
 *
 * The scenario stores these fits; readers of files written before them compute the same fits from the cases.
 */
import { at } from '../util/indexing.js';
import { fitPolynomial } from '../stats/regression.js';
import { ci95OrNull } from './summary.js';
import { effectivePromptTokens, roleOf } from './sides.js';
import type { CaseResult, CostModelFit, CostPhase, Sample } from './types.js';

type Metric = CostModelFit['metric'];

/** Per phase: the sample field fitted and the sequence length L it is charged against (schema: CostPhase). */
export const PHASES: readonly { phase: CostPhase; metric: Metric; engines: 'ar' | 'diffusion'; servedOnly?: boolean; length: (p: CaseResult['params']) => number }[] = [
  { phase: 'ar-prefill', metric: 'ttftMs', engines: 'ar', length: (p) => p.promptTokens },
  // TPOT ((last - first) / (n - 1) per answer): the cost of one decode step.
  { phase: 'ar-decode', metric: 'tpotMs', engines: 'ar', length: (p) => p.promptTokens + p.genLength / 2 },
  { phase: 'diffusion-step', metric: 'timePerForwardMs', engines: 'diffusion', length: (p) => p.promptTokens + p.genLength },
  // A served diffusion side shows no step: its whole fixed-length request stands in (a fixed cost lands in c0).
  { phase: 'diffusion-request', metric: 'latencyMs', engines: 'diffusion', servedOnly: true, length: (p) => p.promptTokens + p.genLength },
];

/** The one place a phase's time is read from a sample (field names may change; the fit does not). */
export function phaseTimeMs(s: Sample, metric: Metric): number | undefined {
  const v = s[metric];
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined;
}


/**
 * Fits every (engine, side, phase) that has at least three distinct lengths among completed batch-1 context cases
 * (three coefficients need three distinct x). A served side is fitted on what HTTP shows (TTFT and TPOT of a served
 * AR side: the network adds to c0; a served diffusion step is invisible). Diffusion cases run with a KV cache are
 * left out.
 */
export function fitCostModels(cases: readonly CaseResult[]): CostModelFit[] {
  const fits: CostModelFit[] = [];
  const groups = [...new Map(cases.map((c) => [`${c.engine}|${roleOf(c)}`, { engine: c.engine, role: roleOf(c) }])).values()];
  for (const { engine, role } of groups) {
    for (const ph of PHASES) {
      if (role !== ph.engines || (ph.servedOnly && engine !== 'openai')) continue;
      const points = cases
        // A step with a Fast-dLLM cache covers only part of the sequence: not the full forward this phase models.
        .filter((c) => c.engine === engine && roleOf(c) === role && c.state === 'completed' && c.params.batchSize === 1 && (c.params.cache ?? 'none') === 'none')
        .flatMap((c) => c.samples.flatMap((s) => {
          const y = phaseTimeMs(s, ph.metric);
          // The prompt length the model saw: a server's own count where it reported one.
          return y === undefined ? [] : [{ x: ph.length({ ...c.params, promptTokens: effectivePromptTokens(c) }), y }];
        }));
      const distinct = new Set(points.map((p) => p.x)).size;
      if (distinct < 3) continue;
      const f = fitPolynomial(relativeWeights(points), 2);
      const coef = (i: number) => {
        const c = at(f.coefficients, i, 'coefficients');
        return { value: c.value, ci95: ci95OrNull(c.ci95) };
      };
      fits.push({
        engine,
        role,
        phase: ph.phase,
        metric: ph.metric,
        c0Ms: coef(0),
        c1MsPerToken: coef(1),
        c2MsPerToken2: coef(2),
        n: f.n,
        distinctLengths: distinct,
        r2: f.r2,
        points: points.map((p) => ({ sequenceTokens: p.x, valueMs: p.y })),
      });
    }
  }
  return fits;
}

/**
 * Timing noise grows with the time itself (a roughly constant coefficient of variation), so an unweighted fit lets
 * the longest lengths decide everything and understates the intervals there. Each point is weighted by 1 / ȳ(L)²,
 * ȳ(L) the mean time at its length: least squares on relative errors.
 */
export function relativeWeights(points: readonly { x: number; y: number }[]): { x: number; y: number; w: number }[] {
  const sums = new Map<number, { s: number; n: number }>();
  for (const p of points) {
    const g = sums.get(p.x) ?? { s: 0, n: 0 };
    sums.set(p.x, { s: g.s + p.y, n: g.n + 1 });
  }
  return points.map((p) => {
    const g = sums.get(p.x)!;
    return { ...p, w: (g.n / g.s) ** 2 };
  });
}

/** The fitted time at length L. */
export function costAt(f: CostModelFit, L: number): number {
  return f.c0Ms.value + f.c1MsPerToken.value * L + f.c2MsPerToken2.value * L * L;
}
