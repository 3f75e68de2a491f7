/**
 * What every verdict reads the run through: case selection, the claimed device class, the weights and scale of the
 * models, which AR engines count as "at their best", the quality floor, and the one place each figure that another
 * part of the tool may rename is read (accuracy, MFU/MBU, decode time per token).
 */
import type { CaseResult, CompletedCase, EngineKind, MetricName, ResultsFile, ScenarioKind } from '../results/types.js';
import { handicapSlows } from '../config/kinds.js';
import { mean } from '../stats/index.js';
import { FAMILIES, familyOf } from '../models/families.js';
import type { Family } from '../models/spec.js';
import { blocksBy } from '../stats/bootstrap.js';
import { type Role, roleOf } from '../results/sides.js';
import { CLAIM_TEXT, type ClaimConditions, type ClaimId, type ClaimVerdict } from './schema.js';

/** Each side by the role a case (or an analysis of its cases) records: local or served alike. */
export const isAr = (c: { engine: EngineKind; role?: Role | undefined }) => roleOf(c) === 'ar';
export const isLlada = (c: { engine: EngineKind; role?: Role | undefined }) => roleOf(c) === 'diffusion';
/** The diffusion model's family as a verdict names it ("LLaDA", "Dream"): its adapter's label, LLaDA when unrecorded. */
export function diffusionLabel(c: { family?: string | undefined }): string {
  return c.family && Object.hasOwn(FAMILIES, c.family) ? familyOf(c.family as Family).label : 'LLaDA';
}

/** A side measured over HTTP: its decoding settings, size and device are the server's, unseen by the client. */
export const isServed = (c: { engine: EngineKind }) => c.engine === 'openai';
/** One request at a time, as the local engines run: a served side's closed loop at concurrency 1. */
export const oneAtATime = (c: CaseResult) => c.params.requestRate === undefined && (c.params.concurrency ?? 1) === 1;

/** Prompt lengths (tokens) two sides may differ by and still count as the same work in a ratio. */
export const PROMPT_TOLERANCE_TOKENS = 4;

export const TOKEN_COUNTING =
  'tokens/s counts every generated position (a diffusion model fills all gen_length positions, EOS padding included); useful tokens/s counts only tokens before the first EOS/EoT';

/** A model of at least this many parameters is of the size the blog's claims are about (LLaDA-8B, Llama 3 8B). */
export const FULL_SCALE_PARAMS = 1e9;

/** The quality floor: a faster diffusion setting counts when its accuracy is within this many points of full steps. */
export const QUALITY_MARGIN_POINTS = 2;

export const uniq = <T>(xs: T[]): T[] => [...new Set(xs)];

/** Mean of a metric over a case's raw samples (NaN when absent). */
export function m(c: CaseResult, metric: MetricName): number {
  return mean(values(c, metric));
}

export function values(c: CaseResult, metric: MetricName): number[] {
  return c.samples.map((s) => s[metric]).filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
}

/**
 * A case's repetitions pooled with those of the identical cases other scenarios of the run measured
 * (`sameSettingsAs`: same engine, settings and prompts): the most precise figure the run has for it.
 */
export function pooledFigure(r: ResultsFile, c: CompletedCase, metric: MetricName): { values: number[]; ids: string[]; blocks: number[][] } {
  const ids = [c.id, ...(c.sameSettingsAs ?? []).map((x) => x.caseId)];
  const cases = [c, ...completed(r.scenarios.flatMap((s) => s.cases)).filter((x) => x !== c && ids.includes(x.id) && x.engine === c.engine)];
  // One block per pass over the engines (the same engine opening measured both scenarios' cases in it).
  const blocks = blocksBy(cases.flatMap((x) => x.samples), (s) => s[metric], (s) => s.pass);
  return { values: cases.flatMap((x) => values(x, metric)), ids: cases.map((x) => x.id), blocks };
}

/** "pooled over throughput/... (5) and steps/... (7 repetitions)", or "" for a case measured once. */
export function pooledNote(p: { ids: string[] }, r: ResultsFile, metric: MetricName): string {
  if (p.ids.length < 2) return '';
  const all = completed(r.scenarios.flatMap((s) => s.cases));
  return ` pooled over ${p.ids.map((id) => `${id} (${values(all.find((x) => x.id === id)!, metric).length})`).join(' and ')}`;
}

export function scenario(r: ResultsFile, kind: ScenarioKind) {
  return r.scenarios.find((s) => s.kind === kind);
}

/** " (the batch scenario errored: ...)" when a scenario did not complete, so a thin verdict says why. */
export function stateNote(s: { kind: ScenarioKind; state: string; error?: string } | undefined): string {
  return s && s.state !== 'completed' ? ` (the ${s.kind} scenario ${s.state}${s.error ? `: ${s.error}` : ''})` : '';
}

export const completed = (cases: readonly CaseResult[]) => cases.filter((c): c is CompletedCase => c.state === 'completed' && c.samples.length > 0);

function gpuNames(r: ResultsFile): string | null {
  return r.environment.gpus.length ? uniq(r.environment.gpus.map((g) => g.name)).join(', ') : null;
}

/** What the run was, for "not measurable" reasons: "cpu execution provider, no GPU". */
export function runSummary(r: ResultsFile): string {
  return `${r.environment.executionProvider} execution provider, ${gpuNames(r) ?? 'no GPU'}`;
}

// -- accuracy: the quality hook ------------------------------------------------------------------------------------

/** Accuracy of a case on its prompts, 0..1, or null when the case measured none. */
export type AccuracyOf = (c: CompletedCase) => number | null;

/**
 * The accuracy results.json records with a case (`quality.overall`: held-out tasks decoded with the case's settings,
 * models with a task file such as the twins); null without one, so the quality floor then admits only settings that
 * decode one token per step.
 */
export const recordedAccuracy: AccuracyOf = (c) => (c.quality && c.quality.overall.total > 0 ? c.quality.overall.accuracy : null);

export interface EvaluateOptions {
  accuracyOf?: AccuracyOf;
  /** Points (of 100) a faster setting may lose against full steps; default QUALITY_MARGIN_POINTS. */
  qualityMarginPoints?: number;
  /** Prompt tokens the two sides of a ratio may differ by; default PROMPT_TOLERANCE_TOKENS (Infinity: any). */
  promptToleranceTokens?: number;
}

/**
 * One token per step, no threshold, no approximate KV cache: the reference sampler's own quality, needing no accuracy
 * to be admitted.
 */
export const isFullSteps = (c: CompletedCase) => c.params.threshold == null && (c.params.steps ?? 0) >= c.params.genLength && (c.params.cache ?? 'none') === 'none';

/** The diffusion setting in words: "32 steps", "threshold 0.9, dual KV cache". */
export function settingText(c: CompletedCase): string {
  if (isServed(c)) return `served by ${c.model}`;
  const p = c.params;
  return `${p.threshold != null ? `threshold ${p.threshold}` : `${p.steps} steps`}${p.cache && p.cache !== 'none' ? `, ${p.cache} KV cache` : ''}`;
}

/** Which suite a case's accuracy is on, as a phrase: " on GSM8K (flexible-extract)", " on the held-out tasks". */
function suiteText(c: CompletedCase): string {
  const q = c.quality;
  if (!q?.suite) return '';
  if (q.suite === 'gsm8k') return ` on GSM8K (${q.filters?.leading ?? 'flexible-extract'}, ${q.overall.total} items)`;
  return q.suite === 'twins' ? ' on the held-out tasks' : ` on ${q.source}`;
}

export interface QualityCheck {
  admitted: boolean;
  /** One phrase: why it is admitted or not. */
  note: string;
  /** No accuracy to check the floor with (as opposed to an accuracy below it). */
  unchecked: boolean;
  accuracy: number | null;
  fullStepsAccuracy: number | null;
}

/**
 * The quality floor for a diffusion setting: full steps pass by construction; a setting that decodes several tokens
 * per step (fewer steps, a threshold) passes only when its accuracy is within the margin of the full-steps case on
 * the same prompts (`peers`: the scenario's LLaDA cases).
 */
export function qualityFloor(c: CompletedCase, peers: readonly CompletedCase[], o: Required<EvaluateOptions>): QualityCheck {
  const acc = o.accuracyOf(c);
  const full = peers.find((p) => isFullSteps(p) && p.params.genLength === c.params.genLength && p.params.batchSize === c.params.batchSize && p.params.promptTokens === c.params.promptTokens);
  const fullAcc = full ? o.accuracyOf(full) : null;
  if (isFullSteps(c)) return { admitted: true, note: 'full steps (one token per step)', unchecked: false, accuracy: acc, fullStepsAccuracy: acc };
  if (isServed(c)) return { admitted: true, note: 'served model (its decoding settings are the server\'s)', unchecked: false, accuracy: acc, fullStepsAccuracy: null };
  const setting = `${settingText(c)} for ${c.params.genLength} tokens`;
  if (acc === null || fullAcc === null) {
    return { admitted: false, note: `${setting}${full ? '' : ' (no full-steps case on the same prompts)'}`, unchecked: true, accuracy: acc, fullStepsAccuracy: fullAcc };
  }
  const ok = (fullAcc - acc) * 100 <= o.qualityMarginPoints;
  const text = `accuracy ${(acc * 100).toFixed(1)}% vs ${(fullAcc * 100).toFixed(1)}% at full steps${suiteText(c)}`;
  return { admitted: ok, note: `${setting}: ${text} (${ok ? 'within' : 'more than'} ${o.qualityMarginPoints} points)`, unchecked: false, accuracy: acc, fullStepsAccuracy: fullAcc };
}

// -- hardware --------------------------------------------------------------------------------------------------------

/** The claimed device class: an H100 or H200 in the environment, and the cases ran on the CUDA provider. */
export function claimedDevice(r: ResultsFile, cases: readonly CaseResult[]): { ok: boolean; gpu: string | null; why: string } {
  const gpu = r.environment.gpus.find((g) => /\bH(100|200)\b/i.test(g.name))?.name ?? null;
  const onCuda = cases.length > 0 && cases.every((c) => c.conditions.executionProvider === 'cuda');
  if (gpu && onCuda) return { ok: true, gpu, why: '' };
  const eps = uniq(cases.map((c) => c.conditions.executionProvider));
  return { ok: false, gpu, why: `this run had ${runSummary(r)}${cases.length ? ` and its cases ran on ${eps.join(', ')}` : ''}` };
}

export const CLAIMED_DEVICE = 'an H100/H200-class GPU recorded in the environment and the cases on the CUDA execution provider (ONNXRUNTIME_NODE_INSTALL=cuda12; see README, Using a GPU)';

export interface EfficiencyFigures {
  /** End to end (over wall time, PaLM's MFU): the judged figures. */
  mfu: number | null;
  mbu: number | null;
  /** Over the time inside session.run, shown beside. */
  mfuInRun: number | null;
  mbuInRun: number | null;
  /** 'decode' for AR engines with a decode split (the steady state a generation spends its time in). */
  phase: 'whole' | 'decode';
}

/** Model FLOPs and bandwidth utilization of a case (fractions), read in one place. */
export function efficiencyOf(c: CompletedCase): EfficiencyFigures {
  const e = c.efficiency;
  const p = isAr(c) && e?.decode ? e.decode : e;
  return { mfu: p?.mfuEndToEnd ?? null, mbu: p?.mbuEndToEnd ?? null, mfuInRun: p?.mfuInRun ?? null, mbuInRun: p?.mbuInRun ?? null, phase: isAr(c) && e?.decode ? 'decode' : 'whole' };
}

// -- models ----------------------------------------------------------------------------------------------------------

/** The model's parameter count as the case recorded it (older files: as the migration estimated it); null when unknown. */
export function paramsOf(c: CompletedCase): number | null {
  return c.parameters ?? null;
}

export function paramsText(p: number | null): string {
  return p === null ? 'size unknown' : `~${p >= 1e9 ? `${(p / 1e9).toFixed(1)} B` : `${(p / 1e6).toFixed(p >= 1e7 ? 0 : 1)} M`} parameters`;
}

/** real & >= 1e9 parameters: full; real & smaller (or size unknown): miniature; any synthetic: null. */
export function scaleOf(cases: readonly CompletedCase[]): 'full' | 'miniature' | null {
  if (!cases.length || cases.some((c) => c.conditions.synthetic)) return null;
  return cases.every((c) => (paramsOf(c) ?? 0) >= FULL_SCALE_PARAMS) ? 'full' : 'miniature';
}

export function sizeNote(c: CompletedCase): string {
  return `model ${c.model}, ${paramsText(paramsOf(c))}${c.conditions.synthetic ? ', synthetic weights' : ', real weights'}`;
}

export const REAL_WEIGHTS_NEEDED =
  'real weights: a converted checkpoint of the claim\'s size (models convert, e.g. LLaDA-8B-Instruct against Llama-3-8B-Instruct), or the trained twins as a scale-down stated "in miniature"';

// -- AR engines at their best -----------------------------------------------------------------------------------------

/**
 * Whether the engine ran this case at its best: no recorded handicap code that slows it (src/config/kinds.ts,
 * handicapSlows). Prose without codes counts as a handicap, to be safe.
 */
export function unhandicapped(c: CaseResult): boolean {
  const codes = c.conditions.handicapCodes;
  if (!codes) return c.conditions.handicaps.length === 0;
  return !codes.some((code) => handicapSlows(code, c.params.batchSize));
}

export function strongest(cases: readonly CompletedCase[], metric: MetricName): CompletedCase | null {
  return cases.length ? cases.reduce((x, y) => (m(y, metric) > m(x, metric) ? y : x)) : null;
}

// -- building a verdict -----------------------------------------------------------------------------------------------

export function conditionsOf(r: ResultsFile, cases: readonly CaseResult[], holdsUnder: string[] = []): ClaimConditions {
  const weights = uniq(cases.map((c) => c.conditions.synthetic));
  return {
    device: cases.length ? uniq(cases.map((c) => `${c.conditions.device} (${c.conditions.executionProvider})`)).join(', ') : null,
    gpuName: gpuNames(r),
    dtype: cases.length ? uniq(cases.map((c) => c.conditions.dtype)).join(', ') : null,
    weights: weights.length === 0 ? null : weights.length > 1 ? 'mixed' : weights[0] ? 'synthetic' : 'real',
    scale: scaleOf(completed(cases)),
    tokenCounting: TOKEN_COUNTING,
    handicaps: uniq(cases.flatMap((c) => c.conditions.handicaps.map((h) => `${c.engine}: ${h}`))),
    holdsUnder,
  };
}

/** The verdict-specific part of a verdict: its kind with what that kind carries. */
/** A verdict's own part (its kind and what decides or would make it measurable): ClaimVerdict less the shared fields. */
export type Decision = ClaimVerdict extends infer V ? (V extends ClaimVerdict ? Omit<V, keyof VerdictBase> : never) : never;
type VerdictBase = Pick<ClaimVerdict, 'id' | 'claim' | 'evidence' | 'evidenceUsed' | 'conditions' | 'figures'>;

export interface VerdictParts {
  evidence: string;
  cases?: readonly CaseResult[];
  analyses?: string[];
  holdsUnder?: string[];
  figures?: Record<string, number | null>;
}

export function verdict(r: ResultsFile, id: ClaimId, d: Decision, p: VerdictParts): ClaimVerdict {
  const cases = p.cases ?? [];
  return {
    id,
    claim: CLAIM_TEXT[id],
    ...d,
    evidence: p.evidence,
    evidenceUsed: [...cases.map((c) => c.id), ...(p.analyses ?? [])],
    conditions: conditionsOf(r, cases, p.holdsUnder ?? []),
    figures: p.figures ?? {},
  };
}

export const notMeasurable = (needs: string): Decision => ({ verdict: 'not-measurable', needs });

/**
 * A claim "value >= threshold" decided on a 95% interval: above it entirely, reproduced; below, not reproduced;
 * straddling (or no interval), inconclusive with that interval.
 */
export function decideAtLeast(quantity: string, ci: [number, number] | null, threshold: number, unit = ''): Decision {
  if (ci && ci[0] >= threshold) return { verdict: 'reproduced' };
  if (ci && ci[1] < threshold) return { verdict: 'not-reproduced' };
  return {
    verdict: 'inconclusive',
    deciding: { quantity, ci95: ci, decidesWhen: `reproduced when the interval lies at or above ${threshold}${unit}, not reproduced when it lies below${ci ? '' : ' (one repetition has no interval: run more repetitions)'}` },
  };
}
