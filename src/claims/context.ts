/**
 * The context claims: "quadratic (AR) vs linear (diffusion) scaling", read from the cost models c0 + c1·L + c2·L², and
 * "a 3,000-token window", measurable only against a served model.
 */
import { roleOf } from '../results/sides.js';
import { costAt, fitCostModels } from '../results/cost-model.js';
import type { CaseResult, CompletedCase, CostModelFit, ResultsFile, ScenarioResult } from '../results/types.js';
import { fitPolynomial } from '../stats/regression.js';
import { fmt, pct } from '../util/format.js';
import { type Decision, completed, isAr, isLlada, notMeasurable, scenario, stateNote, uniq, verdict } from './evidence.js';
import type { ClaimVerdict } from './schema.js';
import { at } from '../util/indexing.js';

/** c2 counts as "no quadratic term" when even its upper bound explains less than this share of the cost at the longest L. */
export const LINEAR_MARGIN = 0.1;

/** The scenario's cost models; files written before they existed get the same fits computed from their cases. */
export function costModelsOf(s: ScenarioResult): { fits: CostModelFit[]; computed: boolean } {
  return s.analysis.costModels ? { fits: s.analysis.costModels, computed: false } : { fits: fitCostModels(s.cases), computed: true };
}

export type Growth = 'quadratic' | 'linear' | 'unresolved';

export interface Classified {
  fit: CostModelFit;
  growth: Growth;
  lMax: number;
  /** c2·Lmax² / cost(Lmax): the point estimate and the interval's ends. */
  share: number;
  shareCi: [number, number] | null;
  /** The c2 below which the quadratic term would stay under LINEAR_MARGIN of the cost at Lmax. */
  linearBelow: number;
}

/** Quadratic when c2's interval lies above 0; linear when its upper end explains < 10% of the cost at the longest L. */
export function classify(fit: CostModelFit): Classified {
  const lMax = Math.max(...fit.points.map((p) => p.sequenceTokens));
  const y = costAt(fit, lMax);
  const c2 = fit.c2MsPerToken2;
  const toShare = (v: number) => (v * lMax * lMax) / y;
  const base = { fit, lMax, share: toShare(c2.value), shareCi: c2.ci95 && y > 0 ? ([toShare(c2.ci95[0]), toShare(c2.ci95[1])] as [number, number]) : null, linearBelow: (LINEAR_MARGIN * y) / (lMax * lMax) };
  if (!c2.ci95 || !(y > 0)) return { ...base, growth: 'unresolved' };
  if (toShare(c2.ci95[1]) < LINEAR_MARGIN) return { ...base, growth: 'linear' };
  if (c2.ci95[0] > 0) return { ...base, growth: 'quadratic' };
  return { ...base, growth: 'unresolved' };
}

/** The share of a diffusion step's FLOPs the architecture would have the L² term reach: 25% marks "clearly shows". */
const VISIBLE_SHARE = 0.25;

export interface ArchitectureShare {
  lMax: number;
  /** Share of a forward's FLOPs in the L² term at lMax. */
  share: number;
  /** L at which the L² term would be VISIBLE_SHARE of a forward's FLOPs. */
  visibleFrom: number;
}

/**
 * What the architecture predicts, from the FLOPs per forward recorded with each LLaDA context case (exactly
 * a + b·L + c·L² for a full forward): how much of a step the quadratic term is at the longest L, and from which L it
 * would be a quarter. Says whether the range *could* resolve c2 before any timing is read.
 */
export function architectureShare(cases: readonly CompletedCase[]): ArchitectureShare | null {
  const pts = cases
    .filter((c) => isLlada(c) && c.params.batchSize === 1 && (c.params.cache ?? 'none') === 'none' && (c.efficiency?.flopsPerForward ?? 0) > 0)
    .map((c) => ({ x: c.params.promptTokens + c.params.genLength, y: c.efficiency!.flopsPerForward }));
  if (new Set(pts.map((p) => p.x)).size < 3) return null;
  const [c0, c1, c2] = fitPolynomial(pts, 2).coefficients.map((c) => c.value) as [number, number, number];
  if (!(c2 > 0)) return null;
  const lMax = Math.max(...pts.map((p) => p.x));
  const t = VISIBLE_SHARE;
  // c2·L²·(1 - t) = t·(c0 + c1·L), the positive root.
  const visibleFrom = (t * c1 + Math.sqrt(t * t * c1 * c1 + 4 * (1 - t) * c2 * t * Math.max(0, c0))) / (2 * (1 - t) * c2);
  return { lMax, share: (c2 * lMax * lMax) / (c0 + c1 * lMax + c2 * lMax * lMax), visibleFrom };
}

const e = (v: number) => (v === 0 ? '0' : v.toExponential(2));
const fitText = (c: Classified) =>
  `${c.fit.engine} ${c.fit.phase}: c2 ${e(c.fit.c2MsPerToken2.value)} ms/token² (95% CI ${c.fit.c2MsPerToken2.ci95 ? `${e(c.fit.c2MsPerToken2.ci95[0])} to ${e(c.fit.c2MsPerToken2.ci95[1])}` : 'none: no residual degrees of freedom'}), ` +
  `quadratic term ${pct(c.share)} of the ${fmt(costAt(c.fit, c.lMax), 2)} ms at L=${c.lMax}${c.shareCi ? ` (${pct(c.shareCi[0])} to ${pct(c.shareCi[1])})` : ''}, R² ${fmt(c.fit.r2, 3)}, n ${c.fit.n}: ${c.growth}`;

const MECHANISM =
  'Mechanism: without a KV cache every diffusion step is a full forward over prompt + answer, whose attention grows with L² (the MLPs with L); ' +
  'an AR decode step with a KV cache attends one new token to the cache, linear in L; AR prefill is one causal forward over the prompt (L² attention). ' +
  'The quadratic term shows once attention is a sizeable share of a forward, roughly when L is several times the hidden size.';

export function contextScaling(r: ResultsFile): ClaimVerdict {
  const id = 'context-scaling';
  const s = scenario(r, 'context');
  const needs = 'a context scenario with at least three prompt lengths for LLaDA and an AR engine (e.g. --scenarios context --context 64,256,512,1024)';
  if (!s) return verdict(r, id, notMeasurable(needs), { evidence: `The run has no context scenario. ${MECHANISM}` });
  const { fits, computed } = costModelsOf(s);
  const cases = completed(s.cases);
  // A served diffusion side has no visible step: its fixed-length request latency against L stands in.
  const diffusion = fits.filter((f) => (f.phase === 'diffusion-step' || f.phase === 'diffusion-request') && isLlada(f)).map(classify);
  const decode = fits.filter((f) => f.phase === 'ar-decode' && isAr(f)).map(classify);
  const prefill = fits.filter((f) => f.phase === 'ar-prefill' && isAr(f)).map(classify);
  if (!diffusion.length || !decode.length) {
    const servedDiffusionOnly = !diffusion.length && cases.some(servedDiffusion) && !cases.some((c) => isLlada(c) && c.engine !== 'openai');
    const why = servedDiffusionOnly
      ? 'the diffusion side is served: its forward passes (a diffusion step) are invisible over HTTP, so no step cost can be fitted'
      : `No cost model for ${!diffusion.length ? 'the LLaDA diffusion step' : 'AR decode'} (needs three distinct lengths of completed batch-1 cases)${stateNote(s)}`;
    return verdict(r, id, notMeasurable(servedDiffusionOnly ? `a local diffusion model (--diffusion PRESET|FOLDER) for the step cost; ${needs}` : needs), { evidence: `${why.charAt(0).toUpperCase()}${why.slice(1)}. ${MECHANISM}`, cases });
  }
  const d = at(diffusion, 0, 'diffusion');
  const arch = architectureShare(cases);
  const archText = arch
    ? ` By the architecture (recorded FLOPs per forward), the L² term is ${pct(arch.share)} of a diffusion step's FLOPs at L=${arch.lMax} and reaches ${pct(VISIBLE_SHARE)} from L ≈ ${Math.round(arch.visibleFrom)}${arch.lMax < arch.visibleFrom ? ': this range can hardly resolve it' : ''}.`
    : '';
  const arGrowth: Growth = decode.some((c) => c.growth === 'linear') ? 'linear' : decode.every((c) => c.growth === 'quadratic') ? 'quadratic' : 'unresolved';
  let decision: Decision;
  let why: string;
  if (d.growth === 'quadratic' || arGrowth === 'linear') {
    decision = { verdict: 'not-reproduced' };
    why = [d.growth === 'quadratic' && 'a LLaDA step has a quadratic term', arGrowth === 'linear' && `AR decode per token has none (${decode.filter((c) => c.growth === 'linear').map((c) => c.fit.engine).join(', ')})`].filter(Boolean).join(' and ');
  } else if (d.growth === 'linear' && arGrowth === 'quadratic') {
    decision = { verdict: 'reproduced' };
    why = 'a LLaDA step has no quadratic term and AR decode per token has one';
  } else {
    const open = d.growth === 'unresolved' ? d : decode.find((c) => c.growth === 'unresolved')!;
    decision = {
      verdict: 'inconclusive',
      deciding: {
        quantity: `c2 of ${open.fit.engine} ${open.fit.phase}, ms per token²`,
        ci95: open.fit.c2MsPerToken2.ci95,
        decidesWhen:
          `quadratic when the interval lies above 0; no quadratic term when its upper end is below ${e(open.linearBelow)} (${pct(LINEAR_MARGIN)} of the cost at L=${open.lMax}); ` +
          `more repetitions or longer contexts narrow it${arch && open === d && arch.lMax < arch.visibleFrom ? ` (lengths of ~${Math.round(arch.visibleFrom)} tokens make the L² term a quarter of a step)` : ''}`,
      },
    };
    why = `the range cannot resolve c2 for ${open.fit.engine} ${open.fit.phase}`;
  }
  const lens = uniq(cases.map((c) => c.params.promptTokens)).sort((a, b) => a - b);
  const evidence =
    `Cost models time = c0 + c1·L + c2·L² (weighted least squares over every repetition; prompt lengths ${lens.join(', ')}${computed ? '; computed from the cases: this file predates stored cost models' : ''}): ` +
    `${[d, ...decode].map(fitText).join('; ')}. AR prefill, for reference: ${prefill.length ? prefill.map(fitText).join('; ') : 'no fit'}. ` +
    `Verdict: ${why} (quadratic: c2's interval above 0; linear: its upper end under ${pct(LINEAR_MARGIN)} of the cost at the longest L).${archText} ${MECHANISM}`;
  const figures: Record<string, number | null> = {};
  for (const c of [d, ...decode, ...prefill]) {
    const k = `${c.fit.engine}:${c.fit.phase}`;
    figures[`${k}:c2MsPerToken2`] = c.fit.c2MsPerToken2.value;
    figures[`${k}:c2CiLow`] = c.fit.c2MsPerToken2.ci95?.[0] ?? null;
    figures[`${k}:c2CiHigh`] = c.fit.c2MsPerToken2.ci95?.[1] ?? null;
    figures[`${k}:quadraticShareAtMaxL`] = c.share;
  }
  figures.architectureQuadraticFlopsShareAtMaxL = arch?.share ?? null;
  figures.architectureQuarterShareFromL = arch?.visibleFrom ?? null;
  const device = uniq(cases.map((c) => c.conditions.device));
  return verdict(r, id, decision, {
    evidence,
    cases,
    analyses: ['context.costModels'],
    holdsUnder: [`L up to ${Math.max(d.lMax, ...decode.map((c) => c.lMax))} tokens`, `on ${device.join(', ')}`, `batch 1`, `model ${uniq(cases.map((c) => c.model)).join(', ')} (cost depends on the shape, not on the weights)`],
    figures,
  });
}

// (f) ---------------------------------------------------------------------------------------------------------------
const WINDOW_CLAIM = 3000;
/** A served window within ±10% of 3,000 tokens counts as "only 3,000". */
const WINDOW_TOLERANCE = 0.1;

/** An HTTP request refused for its length: a 4xx other than 429 (rate limiting). */
function refused(c: CaseResult): boolean {
  const codes = [...(c.state === 'completed' ? [] : [c.error]), ...(c.requestFailures?.kept.map((f) => f.code) ?? [])];
  return codes.some((x) => /http-4(?!29)\d\d/.test(x));
}

/** The served diffusion side: openai cases recorded on the diffusion side. */
const servedDiffusion = (c: CaseResult) => c.engine === 'openai' && roleOf(c) === 'diffusion';

export function contextWindow(r: ResultsFile): ClaimVerdict {
  const id = 'context-window-3000';
  const all = r.scenarios.flatMap((s) => s.cases);
  const probes = all.filter(servedDiffusion);
  const seq = (c: CaseResult) => c.params.promptTokens + c.params.genLength;
  if (!probes.length) {
    const local = completed(all).filter(isLlada);
    const windows = uniq(local.map((c) => c.conditions.maxPositions).filter((x): x is number => x !== undefined));
    const longest = local.length ? local.reduce((x, y) => (seq(y) > seq(x) ? y : x)) : null;
    const own = windows.length ? `its own window is ${windows.join(', ')} tokens (a property of this model or preset, not of Mercury)` : 'its window is not recorded';
    const ran = longest ? `the longest context run was ${seq(longest)} tokens (${longest.params.promptTokens} prompt + ${longest.params.genLength} generated, ${longest.id})` : 'no LLaDA case completed';
    return verdict(r, id, notMeasurable('a served diffusion model over HTTP (--diffusion URL) and a context scenario whose lengths straddle 3,000 tokens (e.g. --context 2048,2816,3072,3328,4096): the window is a property of the served model'), {
      evidence: `The diffusion side ran locally: ${own}; ${ran}.`,
      cases: longest ? [longest] : [],
      figures: { modelWindowTokens: windows.length ? Math.max(...windows) : null, longestSequenceTokens: longest ? seq(longest) : null },
    });
  }
  const accepted = probes.filter((c) => c.state === 'completed').map(seq);
  const rejected = probes.filter(refused).map(seq);
  const a = accepted.length ? Math.max(...accepted) : null;
  const rj = rejected.length ? Math.min(...rejected) : null;
  const lo = WINDOW_CLAIM * (1 - WINDOW_TOLERANCE);
  const hi = WINDOW_CLAIM * (1 + WINDOW_TOLERANCE);
  let decision: Decision;
  if ((a !== null && a > hi) || (rj !== null && rj <= lo)) decision = { verdict: 'not-reproduced' };
  else if (a !== null && rj !== null && a >= lo && rj <= hi) decision = { verdict: 'reproduced' };
  else {
    decision = {
      verdict: 'inconclusive',
      deciding: {
        quantity: 'served window, tokens (longest accepted to shortest refused)',
        ci95: a !== null && rj !== null ? [a, rj] : null,
        decidesWhen: `reproduced when the longest accepted and the shortest refused length both lie in ${lo}-${hi}; probe lengths ${a === null ? '' : `above ${a}`}${a !== null && rj !== null ? ' and ' : ''}${rj === null ? `past ${hi}` : `below ${rj}`}`,
      },
    };
  }
  const evidence =
    `Probed the served diffusion model at ${uniq(probes.map(seq)).sort((x, y) => x - y).join(', ')} tokens (prompt + generated; without a local tokenizer the prompt length is the one asked for): ` +
    `longest accepted ${a ?? 'none'}, shortest refused (HTTP 4xx) ${rj ?? 'none'}; the claim holds when the window lies within ${pct(WINDOW_TOLERANCE)} of 3,000 tokens.`;
  return verdict(r, id, decision, {
    evidence,
    cases: probes,
    holdsUnder: [`served model ${uniq(probes.map((c) => c.model)).join(', ')}`],
    figures: { longestAcceptedTokens: a, shortestRefusedTokens: rj },
  });
}
