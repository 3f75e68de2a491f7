/**
 * The quality claims, judged in miniature on the trained twins' held-out tasks (models/twins/heldout.json, schema 2):
 * "solves the reversal curse better than GPT-4" (the diffusion twin's backward accuracy on pairs it was only ever told
 * forward, against the AR twin's), "struggles with multi-step logic chains" (how accuracy falls from one dependent
 * step to the most, for each model: does diffusion fall faster), and "10x speed while maintaining competitive
 * performance" (the accuracy of the setting the speed verdict judges against the strongest AR engine's, same items).
 *
 * Each reads the per-task rows a case's quality records, compares accuracies on the same items with MOVER intervals
 * over Wilson limits (stats/proportions.ts), and decides in the shared vocabulary. A difference counts as a
 * difference at QUALITY_EFFECT_POINTS: "better" is reproduced when the interval of the difference lies above 0 and
 * not reproduced when it lies below that many points; "competitive" is reproduced when the diffusion side can be at
 * most that many points worse, and not reproduced when it is surely worse by more.
 */
import type { CompletedCase, ResultsFile } from '../results/types.js';
import { CHAIN_TASKS, chainSteps } from '../quality/tasks.js';
import { type ProportionTerm, combinationInterval } from '../stats/proportions.js';
import { fmt, pct, ratio } from '../util/format.js';
import { first, last } from '../util/indexing.js';
import { type Decision, type EvaluateOptions, completed, isAr, isFullSteps, isLlada, notMeasurable, settingText, unhandicapped, uniq, verdict } from './evidence.js';
import type { ClaimVerdict } from './schema.js';
import { speedPair } from './speed.js';

/** The smallest accuracy difference (points of 100) the quality verdicts count as a difference. */
export const QUALITY_EFFECT_POINTS = 5;

const MINIATURE = 'in miniature: the trained twins (~0.8 M parameters each, same data, tokenizer and step budget), not Mercury, LLaDA-8B or GPT-4';

/** A task row of a case's quality (correct of total), or null when the case did not decode that task. */
function row(c: CompletedCase, task: string): { correct: number; n: number } | null {
  const t = c.quality?.tasks.find((x) => x.task === task);
  return t && t.total > 0 ? { correct: t.correct, n: t.total } : null;
}

const acc = (x: { correct: number; n: number } | null) => (x ? x.correct / x.n : null);
const accText = (x: { correct: number; n: number } | null) => (x ? `${pct(x.correct / x.n, 0)} (${x.correct}/${x.n})` : 'not decoded');
const points = (v: number) => `${v >= 0 ? '+' : ''}${fmt(v * 100, 1)} points`;
const ciPoints = (ci: [number, number]) => `95% CI ${points(ci[0])} to ${points(ci[1])}`;

/** Cases of the speed scenarios that decoded `task`, the larger slice first (the most items), then in run order. */
function withTask(r: ResultsFile, task: string, side: (c: CompletedCase) => boolean): CompletedCase[] {
  const cases = completed(r.scenarios.filter((s) => s.kind === 'throughput' || s.kind === 'steps').flatMap((s) => s.cases)).filter((c) => side(c) && row(c, task));
  return cases.map((c, i) => ({ c, i })).sort((x, y) => row(y.c, task)!.n - row(x.c, task)!.n || x.i - y.i).map((x) => x.c);
}

/** The AR case whose model's answers a quality verdict reads: the speed pair's when it decoded `task`, else the best-covered unhandicapped one. */
function arFor(r: ResultsFile, task: string, o: Required<EvaluateOptions>): CompletedCase | null {
  const pair = speedPair(r, o);
  if (pair && row(pair.ar, task)) return pair.ar;
  const ar = withTask(r, task, isAr);
  return ar.find(unhandicapped) ?? ar[0] ?? null;
}

const TWINS_NEEDED = 'the trained twins\' held-out tasks in the run\'s quality (run --diffusion twins --ar twins with --quality-per-task above 0: the default run)';

/**
 * "better than" on a difference d = diffusion - AR (fractions): reproduced when the interval lies above 0, not
 * reproduced when it lies below QUALITY_EFFECT_POINTS, inconclusive in between.
 */
function decideBetter(quantity: string, ci: [number, number]): Decision {
  const m = QUALITY_EFFECT_POINTS / 100;
  if (ci[0] > 0) return { verdict: 'reproduced' };
  if (ci[1] < m) return { verdict: 'not-reproduced' };
  return { verdict: 'inconclusive', deciding: { quantity, ci95: ci, decidesWhen: `reproduced when the interval lies above 0, not reproduced when it lies below +${QUALITY_EFFECT_POINTS} points (decode more items: --quality-per-task)` } };
}

// -- the reversal curse ------------------------------------------------------------------------------------------------

export function reversalCurse(r: ResultsFile, o: Required<EvaluateOptions>): ClaimVerdict {
  const id = 'reversal-curse';
  const l = withTask(r, 'reversal-backward', isLlada).find(isFullSteps) ?? null;
  const a = arFor(r, 'reversal-backward', o);
  if (!l || !a) {
    const missing = !l ? 'a diffusion case at full steps' : 'an autoregressive case';
    return verdict(r, id, notMeasurable(TWINS_NEEDED), { evidence: `No reversal probe: ${missing} with the probe's rows (reversal-forward, reversal-backward, reversal-control) in its quality.` });
  }
  const probe = (c: CompletedCase) => ({ f: row(c, 'reversal-forward'), b: row(c, 'reversal-backward'), c: row(c, 'reversal-control') });
  const { f: lf, b: lb, c: lc } = probe(l);
  const { f: af, b: ab, c: ac } = probe(a);
  if (!lb || !ab) throw new Error('reversal-curse: the cases were chosen for their backward rows');
  const diff = combinationInterval([
    { coef: 1, ...lb },
    { coef: -1, ...ab },
  ])!;
  const rows = `forward ${accText(lf)}, backward ${accText(lb)}, control ${accText(lc)}`;
  const arRows = `forward ${accText(af)}, backward ${accText(ab)}, control ${accText(ac)}`;
  const learned = [lf, af].every((x) => x !== null && x.correct / x.n >= 0.5);
  const decision = learned
    ? decideBetter('backward accuracy, diffusion twin minus AR twin (fraction)', diff.ci95)
    : notMeasurable('twins that answer the probe pairs forward (at least 50%): a backward failure means nothing for a pair not learned forward');
  const evidence =
    `The probe pairs were stated only forward in pretraining and asked only forward in fine-tuning; asked backward, ` +
    `the diffusion twin (${settingText(l)}) scores ${accText(lb)} and the AR twin (${a.engine}) ${accText(ab)}: ` +
    `${points(diff.estimate)} (${ciPoints(diff.ci95)}). Diffusion twin: ${rows}; AR twin: ${arRows} ` +
    `(control: pairs also taught backward). ${MINIATURE}; the AR twin stands in for GPT-4.`;
  return verdict(r, id, decision, {
    evidence,
    cases: [l, a],
    holdsUnder: [MINIATURE, `diffusion ${settingText(l)}`, `AR greedy (${a.engine})`, `${lb.n} probe pairs asked backward`],
    figures: {
      lladaBackwardAccuracy: acc(lb),
      arBackwardAccuracy: acc(ab),
      backwardDifference: diff.estimate,
      backwardDifferenceCiLow: diff.ci95[0],
      backwardDifferenceCiHigh: diff.ci95[1],
      lladaForwardAccuracy: acc(lf),
      arForwardAccuracy: acc(af),
      lladaControlAccuracy: acc(lc),
      arControlAccuracy: acc(ac),
      items: lb.n,
    },
  });
}

// -- multi-step chains ------------------------------------------------------------------------------------------------

interface Chain {
  /** Depths decoded, ascending. */
  ks: number[];
  rows: Map<number, { correct: number; n: number }>;
}

function chainOf(c: CompletedCase): Chain {
  const rows = new Map<number, { correct: number; n: number }>();
  for (const t of c.quality?.tasks ?? []) {
    const k = chainSteps(t.task);
    if (k !== null && t.total > 0) rows.set(k, { correct: t.correct, n: t.total });
  }
  return { ks: [...rows.keys()].sort((x, y) => x - y), rows };
}

/** acc(shallowest) - acc(deepest), as proportion terms. */
function fallTerms(ch: Chain, sign: number, lo: number, hi: number): ProportionTerm[] {
  return [
    { coef: sign, ...ch.rows.get(lo)! },
    { coef: -sign, ...ch.rows.get(hi)! },
  ];
}

const curve = (ch: Chain) => ch.ks.map((k) => `k=${k} ${accText(ch.rows.get(k)!)}`).join(', ');

export function multiStepChains(r: ResultsFile, o: Required<EvaluateOptions>): ClaimVerdict {
  const id = 'multi-step-chains';
  const deepest = last(CHAIN_TASKS, 'CHAIN_TASKS');
  const a = arFor(r, deepest, o);
  const fullSteps = withTask(r, deepest, isLlada).find(isFullSteps) ?? null;
  const pair = speedPair(r, o);
  const fastest = pair && row(pair.diffusion, deepest) ? pair.diffusion : fullSteps;
  if (!a || !fastest) {
    return verdict(r, id, notMeasurable(TWINS_NEEDED), { evidence: `No chain task: ${!a ? 'an autoregressive case' : 'a diffusion case'} with the chain rows (chain-1 .. chain-4) in its quality.` });
  }
  const ach = chainOf(a);
  const ks = ach.ks.filter((k) => chainOf(fastest).rows.has(k));
  const [lo, hi] = [first(ks, 'ks'), last(ks, 'ks')];
  const judged = (c: CompletedCase) => {
    const ch = chainOf(c);
    const fall = combinationInterval([...fallTerms(ch, 1, lo, hi), ...fallTerms(ach, -1, lo, hi)])!;
    return { c, ch, fall, own: acc(ch.rows.get(lo)!)! - acc(ch.rows.get(hi)!)! };
  };
  const main = judged(fastest);
  const full = fullSteps && fullSteps !== fastest ? judged(fullSteps) : null;
  const arFall = acc(ach.rows.get(lo)!)! - acc(ach.rows.get(hi)!)!;
  const oneStep = [ach.rows.get(lo)!, main.ch.rows.get(lo)!].every((x) => x.correct / x.n >= 0.5);
  const decision = !oneStep
    ? notMeasurable(`twins that answer one step (k=${lo}) at least half the time: a fall from near zero says nothing about depth`)
    : decideBetter(`fall in accuracy from k=${lo} to k=${hi}, diffusion twin minus AR twin (fraction)`, main.fall.ci95);
  const settingOf = (c: CompletedCase) => (isFullSteps(c) ? `${settingText(c)} (full steps)` : `${settingText(c)} (the fastest setting within the quality floor)`);
  const evidence =
    `Accuracy by dependent steps k. Diffusion twin at ${settingOf(fastest)}: ${curve(main.ch)}; ` +
    (full ? `at full steps: ${curve(full.ch)}; ` : '') +
    `AR twin (${a.engine}, greedy): ${curve(ach)}. From k=${lo} to k=${hi} the diffusion twin falls ${points(main.own)} and the AR twin ${points(arFall)}: ` +
    `diffusion falls ${points(main.fall.estimate)} more (${ciPoints(main.fall.ci95)})` +
    (full ? `; at full steps ${points(full.fall.estimate)} more (${ciPoints(full.fall.ci95)})` : '') +
    `. ${MINIATURE}.`;
  const figures: Record<string, number | null> = {
    fallDifference: main.fall.estimate,
    fallDifferenceCiLow: main.fall.ci95[0],
    fallDifferenceCiHigh: main.fall.ci95[1],
    lladaFall: main.own,
    arFall,
    fullStepsFallDifference: full?.fall.estimate ?? (isFullSteps(fastest) ? main.fall.estimate : null),
    fullStepsFallDifferenceCiLow: full?.fall.ci95[0] ?? (isFullSteps(fastest) ? main.fall.ci95[0] : null),
    fullStepsFallDifferenceCiHigh: full?.fall.ci95[1] ?? (isFullSteps(fastest) ? main.fall.ci95[1] : null),
  };
  for (const k of ks) {
    figures[`lladaK${k}Accuracy`] = acc(main.ch.rows.get(k)!);
    figures[`arK${k}Accuracy`] = acc(ach.rows.get(k)!);
    if (full) figures[`lladaFullStepsK${k}Accuracy`] = acc(full.ch.rows.get(k) ?? null);
  }
  return verdict(r, id, decision, {
    evidence,
    cases: uniq([fastest, ...(full ? [full.c] : []), a]),
    holdsUnder: [MINIATURE, `diffusion ${settingOf(fastest)}`, `AR greedy (${a.engine})`, `k = ${ks.join(', ')} dependent additions`],
    figures,
  });
}

// -- competitive accuracy at speed ------------------------------------------------------------------------------------

export function competitiveAccuracy(r: ResultsFile, o: Required<EvaluateOptions>): ClaimVerdict {
  const id = 'competitive-accuracy';
  const pair = speedPair(r, o);
  const l = pair?.diffusion;
  const a = pair?.ar;
  const lq = l?.quality;
  const aq = a?.quality;
  if (!pair || !l || !a || !lq || !aq || lq.overall.total === 0 || aq.overall.total === 0) {
    return verdict(r, id, notMeasurable('a speed comparison (the 10x verdict\'s pair) whose two cases both decoded the same held-out items (--quality-per-task above 0, or --tasks gsm8k)'), {
      evidence: pair ? 'The speed pair has no recorded accuracy on both sides.' : 'No speed comparison: no diffusion setting within the quality floor set against an AR engine without a handicap.',
      cases: pair ? [pair.diffusion, pair.ar] : [],
    });
  }
  const sameItems = lq.source === aq.source && lq.overall.total === aq.overall.total && lq.tasks.map((t) => `${t.task}:${t.total}`).join() === aq.tasks.map((t) => `${t.task}:${t.total}`).join();
  if (!sameItems) {
    return verdict(r, id, notMeasurable('both sides decoding the same held-out items'), { evidence: `The two sides decoded different items (${lq.source}, ${lq.overall.total} items vs ${aq.source}, ${aq.overall.total}).`, cases: [l, a] });
  }
  const d = combinationInterval([
    { coef: 1, correct: lq.overall.correct, n: lq.overall.total },
    { coef: -1, correct: aq.overall.correct, n: aq.overall.total },
  ])!;
  const m = QUALITY_EFFECT_POINTS / 100;
  const decision: Decision =
    d.ci95[0] >= -m
      ? { verdict: 'reproduced' }
      : d.ci95[1] < -m
        ? { verdict: 'not-reproduced' }
        : { verdict: 'inconclusive', deciding: { quantity: 'accuracy, diffusion minus AR (fraction)', ci95: d.ci95, decidesWhen: `reproduced when the interval lies at or above -${QUALITY_EFFECT_POINTS} points (at most that much worse), not reproduced when it lies below (decode more items: --quality-per-task)` } };
  const worst = lq.tasks
    .map((t) => ({ t: t.task, gap: t.accuracy - (aq.tasks.find((x) => x.task === t.task)?.accuracy ?? t.accuracy) }))
    .reduce<{ t: string; gap: number } | null>((w, x) => (w === null || x.gap < w.gap ? x : w), null);
  const scale = uniq([l, a].map((c) => ((c.parameters ?? 0) >= 1e9 ? 'full scale' : 'in miniature'))).join(' / ');
  const evidence =
    `At the setting the speed verdict judges, ${settingText(l)} (${ratio(pair.ratio)} the useful tokens/s of ${a.engine}), the diffusion model scores ` +
    `${pct(lq.overall.accuracy, 1)} (${lq.overall.correct}/${lq.overall.total}) and ${a.engine} ${pct(aq.overall.accuracy, 1)} (${aq.overall.correct}/${aq.overall.total}) on the same items: ` +
    `${points(d.estimate)} (${ciPoints(d.ci95)}); competitive means at most ${QUALITY_EFFECT_POINTS} points worse.` +
    (worst && worst.gap < 0 ? ` Largest gap by task: ${worst.t} (${points(worst.gap)}).` : '') +
    ` ${scale}; the blog's 10x is not required here (the speed verdict judges it).`;
  return verdict(r, id, decision, {
    evidence,
    cases: [l, a],
    holdsUnder: [`diffusion ${settingText(l)}`, `against ${a.engine}`, `${lq.overall.total} items of ${lq.source}`, scale],
    figures: {
      lladaAccuracy: lq.overall.accuracy,
      arAccuracy: aq.overall.accuracy,
      accuracyDifference: d.estimate,
      accuracyDifferenceCiLow: d.ci95[0],
      accuracyDifferenceCiHigh: d.ci95[1],
      usefulTokensPerSecRatio: pair.ratio,
      items: lq.overall.total,
    },
  });
}
