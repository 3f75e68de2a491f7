/**
 * The speed claims: "10x faster" and "92% batch efficiency" (ratios: they need real weights, full size or stated in
 * miniature) and "1000+ tokens/s on H100" (a hardware claim: it needs the claimed device class).
 */
import type { BatchEfficiency, CompletedCase, ResultsFile, ScenarioResult } from '../results/types.js';
import { blockBootstrap } from '../stats/bootstrap.js';
import { mean } from '../stats/index.js';
import { fmt, pct, ratio } from '../util/format.js';
import {
  CLAIMED_DEVICE,
  diffusionLabel,
  type Decision,
  type EvaluateOptions,
  REAL_WEIGHTS_NEEDED,
  claimedDevice,
  completed,
  decideAtLeast,
  isAr,
  isLlada,
  isServed,
  oneAtATime,
  m,
  notMeasurable,
  paramsText,
  paramsOf,
  pooledFigure,
  pooledNote,
  qualityFloor,
  scaleOf,
  scenario,
  settingText,
  sizeNote,
  stateNote,
  strongest,
  unhandicapped,
  uniq,
  verdict,
  FULL_SCALE_PARAMS,
} from './evidence.js';
import type { ClaimVerdict } from './schema.js';
import { effectivePromptTokens } from '../results/sides.js';

/** An engine as a verdict names it: a served side by its server's model. */
const sideName = (c: CompletedCase) => (isServed(c) ? `${c.engine} (served ${c.model})` : c.engine);

const f1 = (v: number) => fmt(v, 1);
const f0 = (v: number) => fmt(v, 0);

/** A speed ratio's verdict is only decided on real weights; synthetic runs report the figure and say what is needed. */
function weightsGate(cases: readonly CompletedCase[], decided: Decision): { decision: Decision; scaleNote: string } {
  const served = cases.filter(isServed);
  const local = cases.filter((c) => !isServed(c));
  if (served.length) {
    // A served model's size and weights are the server's: the ratio is judged as served, its local side gated as usual.
    const localGate = local.length ? weightsGate(local, decided) : { decision: decided, scaleNote: '' };
    return { decision: localGate.decision, scaleNote: `served ${uniq(served.map((c) => c.model)).join(', ')} (size unknown to the client, judged as served)${localGate.scaleNote ? `; local side: ${localGate.scaleNote}` : ''}` };
  }
  const scale = scaleOf(cases);
  if (scale === null) return { decision: notMeasurable(`${REAL_WEIGHTS_NEEDED}; this run used synthetic (random) weights, whose speed is real but whose text is noise`), scaleNote: 'synthetic weights: figure for the record only' };
  if (scale === 'miniature') return { decision: decided, scaleNote: `in miniature: ${uniq(cases.map((c) => `${c.model} (${paramsText(paramsOf(c))})`)).join(' vs ')}, real weights below ${FULL_SCALE_PARAMS / 1e9} B parameters` };
  return { decision: decided, scaleNote: 'full scale: real weights of billions of parameters' };
}

// (a) ---------------------------------------------------------------------------------------------------------------
const SPEEDUP_CLAIM = 10;

interface Pairing {
  l: CompletedCase;
  a: CompletedCase;
  others: CompletedCase[];
}

/** Per scenario (same prompts): the fastest LLaDA setting that passes the quality floor against the strongest unhandicapped AR engine. */
function pairings(r: ResultsFile, o: Required<EvaluateOptions>): { pairs: Pairing[]; unchecked: string[]; below: string[]; handicapped: CompletedCase[]; mismatched: string[] } {
  const pairs: Pairing[] = [];
  const unchecked: string[] = [];
  const below: string[] = [];
  const handicapped: CompletedCase[] = [];
  const mismatched: string[] = [];
  for (const kind of ['throughput', 'steps'] as const) {
    // One request at a time on both sides: a served side's closed loop at concurrency 1, not its load levels.
    const cases = completed(scenario(r, kind)?.cases ?? []).filter((c) => Number.isFinite(m(c, 'usefulTokensPerSec')) && oneAtATime(c));
    const llada = cases.filter(isLlada);
    const checks = llada.map((c) => ({ c, q: qualityFloor(c, llada, o) }));
    for (const { q } of checks.filter((x) => !x.q.admitted)) (q.unchecked ? unchecked : below).push(`${kind}: ${q.note}`);
    for (const { c: l } of checks.filter((x) => x.q.admitted)) {
      const sameShape = cases.filter((a) => isAr(a) && a.params.genLength === l.params.genLength && a.params.batchSize === l.params.batchSize);
      // Same work: the prompts each side's model saw (a server's own count where it reported one) must agree.
      const gap = (a: CompletedCase) => Math.abs(effectivePromptTokens(a) - effectivePromptTokens(l));
      const peers = sameShape.filter((a) => gap(a) <= o.promptToleranceTokens);
      for (const a of sameShape.filter((x) => !peers.includes(x))) mismatched.push(`${l.id} (${effectivePromptTokens(l)} prompt tokens) vs ${a.id} (${effectivePromptTokens(a)})`);
      const fair = peers.filter(unhandicapped);
      handicapped.push(...peers.filter((p) => !fair.includes(p)));
      const a = fair.length ? fair.reduce((x, y) => (pooledMean(r, y, 'usefulTokensPerSec') > pooledMean(r, x, 'usefulTokensPerSec') ? y : x)) : null;
      if (a) pairs.push({ l, a, others: peers.filter((p) => p !== a) });
    }
  }
  return { pairs, unchecked: uniq(unchecked), below: uniq(below), handicapped: uniq(handicapped), mismatched: uniq(mismatched) };
}

/** Forward passes per generated position of one row (each forward advances every row of a batch); null without NFE. */
function forwardsPerToken(c: CompletedCase): number | null {
  const nfe = m(c, 'nfe');
  return Number.isFinite(nfe) ? nfe / c.params.genLength : null;
}

/** Mean of a metric over a case's repetitions pooled with its identical cases (pooledFigure). */
function pooledMean(r: ResultsFile, c: CompletedCase, metric: 'usefulTokensPerSec' | 'tokensPerSec'): number {
  return mean(pooledFigure(r, c, metric).values);
}

/**
 * Useful tokens/s ratio (diffusion / AR) with a bootstrap 95% interval over the two cases' repetitions, each pooled
 * with its identical case in the other scenario when the run measured one (the most precise figure). The repetitions
 * are resampled by pass over the engines first (blockBootstrap): each pass opened the engines at another time, so a
 * difference between passes (the machine's speed drifting) is in the interval.
 */
function speedup(r: ResultsFile, l: CompletedCase, a: CompletedCase) {
  return blockBootstrap([pooledFigure(r, l, 'usefulTokensPerSec').blocks, pooledFigure(r, a, 'usefulTokensPerSec').blocks], ([x, y]) => mean(x!) / mean(y!));
}

function bestOf(r: ResultsFile, pairs: readonly Pairing[]) {
  return pairs.map((p) => ({ p, b: speedup(r, p.l, p.a) })).reduce((x, y) => (y.b.estimate > x.b.estimate ? y : x));
}

/**
 * The pair the speed verdict and the headline judge: the fastest diffusion setting within the quality floor against
 * the strongest AR engine without a handicap (the same scenario, generation length and batch), with the useful
 * tokens/s ratio and its interval; null when the run has no such pair. The quality verdicts read the same pair.
 */
export function speedPair(r: ResultsFile, o: Required<EvaluateOptions>): { diffusion: CompletedCase; ar: CompletedCase; ratio: number; ci95: [number, number] | null } | null {
  const { pairs } = pairings(r, o);
  if (!pairs.length) return null;
  const best = bestOf(r, pairs);
  return { diffusion: best.p.l, ar: best.p.a, ratio: best.b.estimate, ci95: best.b.ci95 };
}

export function speed10x(r: ResultsFile, o: Required<EvaluateOptions>): ClaimVerdict {
  const id = 'speed-10x';
  const s = scenario(r, 'throughput');
  if (!s) return verdict(r, id, notMeasurable('a throughput scenario (run with --scenarios throughput)'), { evidence: 'The run has no throughput scenario.' });
  const { pairs, unchecked, below, handicapped, mismatched } = pairings(r, o);
  const left =
    (mismatched.length ? ` Refused, prompts differ by more than ${o.promptToleranceTokens} tokens (not the same work; claims --allow-prompt-mismatch judges them anyway): ${mismatched.join('; ')}.` : '') +
    (below.length ? ` Below the quality floor: ${below.join('; ')}.` : '') +
    (unchecked.length ? ` Left out for want of a recorded accuracy (quality floor unchecked): ${unchecked.join('; ')}.` : '');
  if (!pairs.length) {
    const tp = completed(s.cases);
    const why = !tp.some(isLlada)
      ? `no completed LLaDA case${stateNote(s)}`
      : !tp.some(isAr)
        ? `no completed autoregressive case${stateNote(s)}`
        : mismatched.length && !handicapped.length
          ? `the two sides' prompts differ by more than ${o.promptToleranceTokens} tokens`
          : handicapped.length
          ? `every AR engine that ran the same generation length and batch had a handicap that slows it (${uniq(handicapped.map((c) => `${c.engine}: ${c.conditions.handicaps.join('; ')}`)).join(' | ')})`
          : 'no LLaDA setting that passes the quality floor has an AR case at the same generation length and batch size';
    return verdict(r, id, notMeasurable('a LLaDA setting at full steps (or one within the quality floor) and an AR engine without a handicap (ar-loop keeps the cache on the device) at the same generation length and batch size'), {
      evidence: `Cannot compare: ${why}.${left}`,
      cases: tp,
    });
  }
  const best = bestOf(r, pairs);
  const { l, a, others } = best.p;
  const pm = (c: CompletedCase, metric: 'usefulTokensPerSec' | 'tokensPerSec') => pooledMean(r, c, metric);
  const tpsRatio = pm(l, 'tokensPerSec') / pm(a, 'tokensPerSec');
  const lPool = pooledFigure(r, l, 'usefulTokensPerSec');
  const aPool = pooledFigure(r, a, 'usefulTokensPerSec');
  const poolNote = lPool.ids.length > 1 || aPool.ids.length > 1 ? ` Figures${pooledNote(lPool, r, 'usefulTokensPerSec')}${lPool.ids.length > 1 && aPool.ids.length > 1 ? ';' : ''}${pooledNote(aPool, r, 'usefulTokensPerSec')} (repetitions): the same case, measured in ${Math.max(lPool.ids.length, aPool.ids.length)} scenarios of this run.` : '';
  const steps = settingText(l);
  const [lp, ap] = [effectivePromptTokens(l), effectivePromptTokens(a)];
  const prompts = lp === ap ? `${fmt(lp, 0)}-token prompts` : `the same prompts (${fmt(lp, 1)} LLaDA tokens, ${fmt(ap, 1)} ${sideName(a)} tokens)`;
  const decided = decideAtLeast('useful tokens/s ratio, LLaDA / strongest unhandicapped AR engine', best.b.ci95, SPEEDUP_CLAIM, 'x');
  const { decision, scaleNote } = weightsGate([l, a], decided);
  const ci = best.b.ci95 ? ` (95% CI ${ratio(best.b.ci95[0])} to ${ratio(best.b.ci95[1])})` : '';
  const evidence =
    `${diffusionLabel(l)} ${f1(pm(l, 'usefulTokensPerSec'))} useful tokens/s (${f1(pm(l, 'tokensPerSec'))} all positions; ${steps}${isServed(l) ? '' : `, block ${l.params.blockLength}, NFE ${f0(m(l, 'nfe'))}`}) ` +
    `vs the strongest AR engine without a handicap, ${sideName(a)}, ${f1(pm(a, 'usefulTokensPerSec'))} useful tokens/s` +
    `${others.length ? ` (other AR: ${others.map((x) => `${sideName(x)} ${f1(pooledMean(r, x, 'usefulTokensPerSec'))}${unhandicapped(x) ? '' : ', handicapped'}`).join(', ')})` : ''}, ` +
    `batch ${l.params.batchSize}, ${prompts}, ${l.params.genLength} generated tokens: ${ratio(best.b.estimate)}${ci} in useful tokens/s, ${ratio(tpsRatio)} in all positions ` +
    `(10x needed; ${scaleNote}).${poolNote}${left}`;
  return verdict(r, id, decision, {
    evidence,
    cases: [l, a, ...others],
    holdsUnder: [`${l.scenario} scenario`, `batch ${l.params.batchSize}`, `${l.params.genLength} generated tokens`, `${diffusionLabel(l)} ${steps}`, `against ${sideName(a)}`, scaleNote],
    figures: {
      lladaUsefulTokensPerSec: pm(l, 'usefulTokensPerSec'),
      lladaTokensPerSec: pm(l, 'tokensPerSec'),
      strongestArUsefulTokensPerSec: pm(a, 'usefulTokensPerSec'),
      strongestArTokensPerSec: pm(a, 'tokensPerSec'),
      lladaRepetitions: lPool.values.length,
      strongestArRepetitions: aPool.values.length,
      usefulTokensPerSecRatio: best.b.estimate,
      usefulTokensPerSecRatioCiLow: best.b.ci95?.[0] ?? null,
      usefulTokensPerSecRatioCiHigh: best.b.ci95?.[1] ?? null,
      tokensPerSecRatio: tpsRatio,
      lladaAccuracy: o.accuracyOf(l),
      lladaAccuracyCiLow: l.quality?.overall.ci95[0] ?? null,
      lladaAccuracyCiHigh: l.quality?.overall.ci95[1] ?? null,
      strongestArAccuracy: o.accuracyOf(a),
      strongestArAccuracyCiLow: a.quality?.overall.ci95[0] ?? null,
      strongestArAccuracyCiHigh: a.quality?.overall.ci95[1] ?? null,
      lladaForwardsPerToken: forwardsPerToken(l),
      strongestArForwardsPerToken: forwardsPerToken(a),
      lladaPromptTokens: lp,
      arPromptTokens: ap,
    },
  });
}

// (b) ---------------------------------------------------------------------------------------------------------------
const H100_CLAIM = 1000;

export function h100(r: ResultsFile, o: Required<EvaluateOptions>): ClaimVerdict {
  const id = 'h100-1000-tokens-per-sec';
  const pool = completed([...(scenario(r, 'throughput')?.cases ?? []), ...(scenario(r, 'batch')?.cases ?? []), ...(scenario(r, 'steps')?.cases ?? [])]).filter(isLlada);
  const dev = claimedDevice(r, pool);
  if (!pool.length || !dev.ok) {
    return verdict(r, id, notMeasurable(`LLaDA on ${CLAIMED_DEVICE}`), { evidence: `Needs LLaDA on an H100-class GPU; ${dev.why}${pool.length ? '' : ' and no completed LLaDA case'}.`, cases: pool });
  }
  const small = pool.filter((c) => (paramsOf(c) ?? 0) < FULL_SCALE_PARAMS);
  if (small.length === pool.length) {
    return verdict(r, id, notMeasurable('a model of the claim\'s size (billions of parameters, e.g. the llada-8b preset or a converted LLaDA-8B)'), {
      evidence: `LLaDA ran on ${dev.gpu}, but only with ${uniq(pool.map(sizeNote)).join('; ')}: tokens/s of a small model say nothing about the claim.`,
      cases: pool,
    });
  }
  // Per stream: judge at the smallest batch; a setting that decodes several tokens per step must pass the quality floor.
  const sized = pool.filter((c) => !small.includes(c));
  const admitted = sized.filter((c) => qualityFloor(c, sized.filter((p) => p.scenario === c.scenario), o).admitted);
  if (!admitted.length) return verdict(r, id, notMeasurable('a full-steps LLaDA case (or one whose accuracy is within the quality floor)'), { evidence: 'Every LLaDA case on the GPU decoded several tokens per step without a recorded accuracy.', cases: sized });
  const minB = Math.min(...admitted.map((c) => c.params.batchSize));
  const metric = admitted.every((c) => !c.conditions.synthetic) ? 'usefulTokensPerSec' : 'tokensPerSec';
  const c = strongest(admitted.filter((x) => x.params.batchSize === minB), metric)!;
  const summary = c.summary[metric];
  const est = m(c, metric);
  const decision = decideAtLeast(`LLaDA ${metric === 'tokensPerSec' ? 'tokens/s (all positions)' : 'useful tokens/s'} at batch ${minB}`, summary?.ci95 ?? null, H100_CLAIM, ' tokens/s');
  const counted = metric === 'tokensPerSec' ? 'all positions (synthetic weights: useful tokens are noise)' : 'useful tokens';
  const steps = settingText(c);
  const evidence =
    `${diffusionLabel(c)} on ${dev.gpu} (${c.conditions.dtype}, ${sizeNote(c)}, ${steps}): ${f0(est)} tokens/s counting ${counted}` +
    `${summary?.ci95 ? ` (95% CI ${f0(summary.ci95[0])} to ${f0(summary.ci95[1])})` : ''} at batch ${minB} (${c.id}); 1000 needed.`;
  return verdict(r, id, decision, {
    evidence,
    cases: [c],
    holdsUnder: [`${dev.gpu}`, `batch ${minB}`, `${c.params.genLength} generated tokens`, steps, `${c.conditions.dtype}`],
    figures: { batchSize: minB, lladaTokensPerSec: m(c, 'tokensPerSec'), lladaUsefulTokensPerSec: m(c, 'usefulTokensPerSec') },
  });
}

// (d) ---------------------------------------------------------------------------------------------------------------
const BATCH_EFFICIENCY_CLAIM = 0.92;

/** Batch efficiency of an engine at its largest batch above 1, as the batch analysis records it (with its interval). */
function batchEfficiencyOf(s: ScenarioResult, side: (b: BatchEfficiency) => boolean): BatchEfficiency | null {
  const mine = (s.analysis.batchEfficiency ?? []).filter((b) => side(b) && b.batchSize > 1 && Number.isFinite(b.efficiency));
  return mine.length ? mine.reduce((x, y) => (y.batchSize > x.batchSize ? y : x)) : null;
}

export function batchEff(r: ResultsFile): ClaimVerdict {
  const id = 'batch-efficiency';
  const s = scenario(r, 'batch');
  if (!s) return verdict(r, id, notMeasurable('a batch scenario (run with --scenarios batch --batch 1,4,8)'), { evidence: 'The run has no batch scenario.' });
  const cases = completed(s.cases);
  const l = batchEfficiencyOf(s, isLlada);
  if (!l) {
    return verdict(r, id, notMeasurable('LLaDA at batch 1 and at a larger batch, both completed'), { evidence: `The batch scenario has no LLaDA batch efficiency above batch size 1${stateNote(s)}.`, cases });
  }
  const B = l.batchSize;
  const ar = uniq(cases.filter(isAr).map((c) => c.engine)).flatMap((e) => {
    const x = batchEfficiencyOf(s, (b) => b.engine === e && isAr(b));
    return x ? [x] : [];
  });
  const used = (side: (c: CompletedCase) => boolean, engine: CompletedCase['engine'], b: number) => cases.filter((c) => side(c) && c.engine === engine && (c.params.batchSize === b || c.params.batchSize === 1));
  const lCases = used(isLlada, l.engine, B);
  const ciText = (ci: [number, number] | null) => (ci ? ` (95% CI ${pct(ci[0])} to ${pct(ci[1])})` : '');
  const arText = ar.length ? ar.map((a) => `${a.engine} ${pct(a.efficiency)}${ciText(a.ci95)} at B=${a.batchSize}`).join(', ') : 'no AR engine measured';
  const { decision, scaleNote } = weightsGate(lCases, decideAtLeast(`LLaDA batch efficiency at B=${B}`, l.ci95, BATCH_EFFICIENCY_CLAIM));
  const evidence =
    `Batch efficiency (throughput of the same B prompts as one batch / (B x their throughput one at a time), bootstrap interval over the repetitions) at the largest batch run: ` +
    `${diffusionLabel(lCases[0] ?? {})} ${pct(l.efficiency)}${ciText(l.ci95)} at B=${B}; ${arText}. ` +
    `The blog names no batch size and efficiency falls as B grows, so this holds for B=${B} only (${scaleNote}).`;
  return verdict(r, id, decision, {
    evidence,
    cases: [...lCases, ...ar.flatMap((a) => used(isAr, a.engine, a.batchSize))],
    analyses: ['batch.batchEfficiency'],
    holdsUnder: [`B=${B} against the same prompts one at a time`, `${lCases[0]?.params.genLength ?? '?'} generated tokens`, scaleNote],
    figures: {
      batchSize: B,
      lladaBatchEfficiency: l.efficiency,
      lladaBatchEfficiencyCiLow: l.ci95?.[0] ?? null,
      lladaBatchEfficiencyCiHigh: l.ci95?.[1] ?? null,
      ...Object.fromEntries(ar.map((a) => [`${a.engine}BatchEfficiency`, a.efficiency])),
    },
  });
}
