/**
 * The headline: the answer a person came for, in ten seconds. A pure function of results.json (through the claims'
 * verdicts, so its numbers are the verdicts' numbers): the best diffusion setting within the quality floor against
 * the strongest AR engine without a handicap (speed ratio with its 95% interval, both accuracies with theirs, forward
 * passes per token), the device, the pair of models and the scale, then one line per claim with the number that
 * decided it. Shown last on the terminal after `run`, first in report.md, report.html and `claims`.
 */
import type { CompletedCase, ResultsFile } from '../results/types.js';
import { fmt, pct, ratio } from '../util/format.js';
export { terminalWidth } from '../util/format.js';
import { evaluateClaims } from './claims.js';
import { QUALITY_EFFECT_POINTS } from './quality.js';
import { FULL_SCALE_PARAMS, paramsText, settingText, uniq } from './evidence.js';
import type { ClaimId, ClaimVerdict, VerdictKind } from './schema.js';
import { at } from '../util/indexing.js';

export interface Interval {
  value: number;
  ci95: [number, number] | null;
}

export interface HeadlineSide {
  caseId: string;
  engine: string;
  model: string;
  /** "threshold 0.9, dual KV cache" for diffusion; the engine for AR. */
  setting: string;
  usefulTokensPerSec: number;
  accuracy: Interval | null;
  forwardsPerToken: number | null;
}

export interface HeadlineClaim {
  id: ClaimId;
  /** Short name: "10x faster". */
  name: string;
  verdict: VerdictKind;
  /** The one number (or missing condition) that decided it. */
  deciding: string;
}

export interface Headline {
  runId: string;
  /** "cpu (AMD EPYC x2)" / "cuda (NVIDIA H100 80GB HBM3)". */
  device: string;
  /** "twins vs twins (~0.8 M parameters each)". */
  models: string;
  /** "in miniature", "full scale" or "synthetic weights (speed only)"; null when nothing was compared. */
  scale: string | null;
  /** Null when no diffusion setting could be set against an unhandicapped AR engine (the reason is in `why`). */
  comparison: { diffusion: HeadlineSide; ar: HeadlineSide; speedRatio: Interval; scenario: string } | null;
  why: string | null;
  claims: HeadlineClaim[];
}

export const CLAIM_NAME: Record<ClaimId, string> = {
  'speed-10x': '10x faster',
  'h100-1000-tokens-per-sec': '1000+ tok/s on H100',
  'gpu-efficiency': '85% vs 60-65% GPU efficiency',
  'batch-efficiency': '92% batch efficiency',
  'context-scaling': 'quadratic vs linear context',
  'context-window-3000': '3,000-token window',
  'reversal-curse': 'reversal curse solved',
  'multi-step-chains': 'weak on multi-step chains',
  'competitive-accuracy': 'competitive accuracy',
};

const num = (v: number | null | undefined): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const interval = (f: Record<string, number | null>, k: string, lo: string, hi: string): Interval | null => {
  const v = num(f[k]);
  if (v === null) return null;
  const a = num(f[lo]);
  const b = num(f[hi]);
  return { value: v, ci95: a !== null && b !== null ? [a, b] : null };
};

/** Up to `max` characters, cut at a word with an ellipsis. */
export function clip(s: string, max: number): string {
  if (s.length <= max) return s;
  const cut = s.slice(0, max - 1);
  const at = cut.lastIndexOf(' ');
  return `${(at > max / 2 ? cut.slice(0, at) : cut).replace(/[,;:(]+$/, '')}…`;
}

/** What a not-measurable claim needs, in a few words, where the verdict's own first clause is long. */
const SHORT_NEEDS: Partial<Record<ClaimId, string>> = {
  'h100-1000-tokens-per-sec': 'LLaDA on an H100/H200-class GPU (CUDA provider)',
  'gpu-efficiency': 'both sides on an H100/H200-class GPU (CUDA provider)',
};

const pointsOf = (v: number | null | undefined) => (typeof v === 'number' && Number.isFinite(v) ? `${v >= 0 ? '+' : ''}${fmt(v * 100, 0)} pts` : '-');
const pointsText = (d: Interval) => `${pointsOf(d.value)}${d.ci95 ? ` (95% CI ${pointsOf(d.ci95[0])} to ${pointsOf(d.ci95[1])})` : ''}`;

const ciText = (ci: [number, number] | null, f: (v: number) => string) => (ci ? ` (95% CI ${f(ci[0])}-${f(ci[1])})` : '');

/** The number that decided a verdict, from its figures; for "not measurable", the first clause of what it needs. */
function decidingOf(v: ClaimVerdict): string {
  const f = v.figures;
  if (v.verdict === 'not-measurable') {
    const first = at(v.needs.split(/[:;(]/), 0, 'needs').trim();
    return `needs ${first.length > 60 && SHORT_NEEDS[v.id] ? SHORT_NEEDS[v.id] : first}`;
  }
  switch (v.id) {
    case 'speed-10x': {
      const r = interval(f, 'usefulTokensPerSecRatio', 'usefulTokensPerSecRatioCiLow', 'usefulTokensPerSecRatioCiHigh');
      return r ? `${ratio(r.value)}${ciText(r.ci95, ratio)} useful tok/s; 10x needed` : '-';
    }
    case 'h100-1000-tokens-per-sec':
      return `${fmt(num(f.lladaUsefulTokensPerSec) ?? num(f.lladaTokensPerSec), 0)} tok/s at batch ${f.batchSize ?? '?'}; 1000 needed`;
    case 'gpu-efficiency':
      return `LLaDA ${pct(f.lladaRooflineShare)} vs AR ${pct(f.arRooflineShare)} of the roofline; >= 85% vs <= 70% needed`;
    case 'batch-efficiency': {
      const b = interval(f, 'lladaBatchEfficiency', 'lladaBatchEfficiencyCiLow', 'lladaBatchEfficiencyCiHigh');
      return b ? `${pct(b.value)}${ciText(b.ci95, (x) => pct(x))} at B=${f.batchSize}; 92% needed` : '-';
    }
    case 'context-scaling': {
      const share = (phase: string) => {
        const k = Object.keys(f).find((x) => x.endsWith(`:${phase}:quadraticShareAtMaxL`));
        return k ? pct(f[k], 0) : '-';
      };
      return `L² share of cost at longest L: diffusion step ${share('diffusion-step')}, AR decode ${share('ar-decode')}`;
    }
    case 'reversal-curse': {
      const d = interval(f, 'backwardDifference', 'backwardDifferenceCiLow', 'backwardDifferenceCiHigh');
      return `backward ${pct(f.lladaBackwardAccuracy, 0)} vs ${pct(f.arBackwardAccuracy, 0)}${d ? `, ${pointsText(d)}` : ''}; above 0 needed`;
    }
    case 'multi-step-chains': {
      const d = interval(f, 'fallDifference', 'fallDifferenceCiLow', 'fallDifferenceCiHigh');
      return `fall k=1..4: diffusion ${pointsOf(f.lladaFall)} vs AR ${pointsOf(f.arFall)}${d ? `, ${pointsText(d)} more` : ''}; above 0 needed`;
    }
    case 'competitive-accuracy': {
      const d = interval(f, 'accuracyDifference', 'accuracyDifferenceCiLow', 'accuracyDifferenceCiHigh');
      return `accuracy ${pct(f.lladaAccuracy, 1)} vs ${pct(f.arAccuracy, 1)}${d ? `, ${pointsText(d)}` : ''}; >= -${QUALITY_EFFECT_POINTS} needed`;
    }
    case 'context-window-3000':
      return `longest accepted ${f.longestAcceptedTokens ?? '-'}, shortest refused ${f.shortestRefusedTokens ?? '-'} tokens`;
  }
}

function side(c: CompletedCase | undefined, f: Record<string, number | null>, prefix: 'llada' | 'strongestAr'): HeadlineSide | null {
  const tps = num(f[`${prefix}UsefulTokensPerSec`]);
  if (!c || tps === null) return null;
  return {
    caseId: c.id,
    engine: c.engine,
    model: c.model,
    setting: prefix === 'llada' ? settingText(c) : c.engine,
    usefulTokensPerSec: tps,
    accuracy: interval(f, `${prefix}Accuracy`, `${prefix}AccuracyCiLow`, `${prefix}AccuracyCiHigh`),
    forwardsPerToken: num(f[`${prefix}ForwardsPerToken`]),
  };
}

/** The headline of a run, from the verdicts `evaluateClaims` gives (pass them when already computed). */
export function headlineOf(r: ResultsFile, verdicts: readonly ClaimVerdict[] = evaluateClaims(r)): Headline {
  const all = r.scenarios.flatMap((s) => s.cases).filter((c): c is CompletedCase => c.state === 'completed');
  const speed = verdicts.find((v) => v.id === 'speed-10x');
  const byId = (id: string | undefined) => all.find((c) => c.id === id);
  const l = speed ? side(byId(speed.evidenceUsed[0]), speed.figures, 'llada') : null;
  const a = speed ? side(byId(speed.evidenceUsed[1]), speed.figures, 'strongestAr') : null;
  const ratioI = speed ? interval(speed.figures, 'usefulTokensPerSecRatio', 'usefulTokensPerSecRatioCiLow', 'usefulTokensPerSecRatioCiHigh') : null;
  const comparison = l && a && ratioI ? { diffusion: l, ar: a, speedRatio: ratioI, scenario: byId(l.caseId)!.scenario } : null;
  const pair = comparison ? [byId(comparison.diffusion.caseId)!, byId(comparison.ar.caseId)!] : all;
  const sizes = uniq(pair.map((c) => paramsText(c.parameters ?? null)));
  const models = uniq(pair.map((c) => `${c.model} (${c.family ?? c.engine})`));
  const sizeText = sizes.length === 1 ? `${at(sizes, 0, 'sizes')}${pair.length > 1 ? ' each' : ''}` : sizes.join(' vs ');
  const synthetic = pair.some((c) => c.conditions.synthetic);
  const scale = !pair.length ? null : synthetic ? 'synthetic weights (speed only)' : pair.every((c) => (c.parameters ?? 0) >= FULL_SCALE_PARAMS) ? 'full scale' : 'in miniature';
  const gpu = r.environment.gpus[0]?.name;
  const eps = uniq(pair.map((c) => c.conditions.executionProvider));
  return {
    runId: r.runId,
    device: `${eps.join(', ') || r.environment.executionProvider} (${eps.includes('cuda') && gpu ? gpu : r.environment.cpuModel})`,
    models: `${models.join(' vs ')}${pair.length ? `, ${sizeText}` : ''}`,
    scale,
    comparison,
    why: comparison ? null : speed ? speed.evidence.replace(/^Cannot compare: /, '') : 'no speed verdict',
    claims: verdicts.map((v) => ({ id: v.id, name: CLAIM_NAME[v.id], verdict: v.verdict, deciding: decidingOf(v) })),
  };
}

export const VERDICT_SHORT: Record<VerdictKind, string> = {
  reproduced: 'REPRODUCED',
  'not-reproduced': 'NOT REPRODUCED',
  inconclusive: 'INCONCLUSIVE',
  'not-measurable': 'NOT MEASURABLE',
};

const accText = (a: Interval | null) => (a ? `${pct(a.value, 1)}${a.ci95 ? ` (${pct(a.ci95[0])}-${pct(a.ci95[1])})` : ''}` : 'not measured');
const fpt = (v: number | null) => (v === null ? '-' : fmt(v, 2));

/**
 * The headline as plain lines (no colour; the caller styles them), each at most `width` characters: at most 16 lines
 * (2 + the comparison's 4 + a title and one line per claim: 9).
 */
export function headlineLines(h: Headline, width = 120): string[] {
  const out: string[] = [];
  out.push(`THE ANSWER (run ${h.runId}): diffusion vs autoregressive on ${h.device}`);
  out.push(`  models: ${h.models}${h.scale ? `; ${h.scale}` : ''}`);
  const c = h.comparison;
  if (c) {
    out.push(`  diffusion: the best setting within the quality floor, ${c.diffusion.setting} (${c.diffusion.caseId})`);
    out.push(`  vs AR: the strongest engine without a handicap, ${c.ar.engine} (${c.ar.caseId})`);
    out.push(`    speed      ${ratio(c.speedRatio.value)} useful tokens/s${c.speedRatio.ci95 ? ` (95% CI ${ratio(c.speedRatio.ci95[0])} to ${ratio(c.speedRatio.ci95[1])})` : ''}: ${fmt(c.diffusion.usefulTokensPerSec, 0)} vs ${fmt(c.ar.usefulTokensPerSec, 0)}`);
    out.push(`    accuracy   ${accText(c.diffusion.accuracy)} vs ${accText(c.ar.accuracy)} on held-out tasks; forward passes per token ${fpt(c.diffusion.forwardsPerToken)} vs ${fpt(c.ar.forwardsPerToken)}`);
  } else {
    out.push(`  no speed comparison: ${h.why ?? ''}`);
  }
  out.push("  the blog's claims (details: dllm-bench claims, report.html):");
  const w = Math.max(...h.claims.map((x) => VERDICT_SHORT[x.verdict].length));
  const n = Math.max(...h.claims.map((x) => x.name.length));
  for (const x of h.claims) out.push(`    ${VERDICT_SHORT[x.verdict].padEnd(w)}  ${x.name.padEnd(n)}  ${x.deciding}`);
  return out.map((l) => clip(l, width));
}

/** Markdown: a short paragraph and a claims table, for the top of report.md and `claims --format md`. */
export function headlineMarkdown(h: Headline): string {
  const c = h.comparison;
  const l: string[] = ['## The answer', ''];
  l.push(`On **${h.device}**, ${h.models}${h.scale ? ` (**${h.scale}**)` : ''}:`, '');
  if (c) {
    l.push(
      `- **Speed:** the best diffusion setting within the quality floor (${c.diffusion.setting}) is **${ratio(c.speedRatio.value)}**${c.speedRatio.ci95 ? ` (95% CI ${ratio(c.speedRatio.ci95[0])} to ${ratio(c.speedRatio.ci95[1])})` : ''} the useful tokens/s of the strongest AR engine without a handicap (${c.ar.engine}): ${fmt(c.diffusion.usefulTokensPerSec, 0)} vs ${fmt(c.ar.usefulTokensPerSec, 0)}.`,
      `- **Accuracy** (held-out tasks): ${accText(c.diffusion.accuracy)} vs ${accText(c.ar.accuracy)}.`,
      `- **Forward passes per generated token:** ${fpt(c.diffusion.forwardsPerToken)} vs ${fpt(c.ar.forwardsPerToken)}.`,
    );
  } else l.push(`- No speed comparison: ${h.why ?? ''}`);
  l.push('', '| claim | verdict | decided by |', '|---|---|---|');
  for (const x of h.claims) l.push(`| ${x.name} | **${VERDICT_SHORT[x.verdict].toLowerCase()}** | ${x.deciding.replace(/\|/g, '\\|')} |`);
  l.push('');
  return l.join('\n');
}
