/**
 * The regression gate: two results files, cases matched by id, each metric judged on its raw samples.
 * A change counts only when it is both larger than the threshold (does it matter?) and significant (is it real?).
 */
import { UserError } from '../util/errors.js';
import { summarizeMetric } from '../results/summary.js';
import type { CaseResult, Ci95, MetricName, ResultsFile } from '../results/types.js';
import { mannWhitneyU, median } from '../stats/index.js';
import { type PooledShift, pooledShift } from '../stats/pooled.js';

export type Better = 'higher' | 'lower';

/** The metrics compared, with the direction that is better. Others (nfe, tokensPerForward) describe, not rank. */
export const COMPARED_METRICS: readonly { metric: MetricName; better: Better; unit: string }[] = [
  { metric: 'tokensPerSec', better: 'higher', unit: 'tokens/s' },
  { metric: 'usefulTokensPerSec', better: 'higher', unit: 'tokens/s' },
  { metric: 'latencyMs', better: 'lower', unit: 'ms' },
  { metric: 'timePerForwardMs', better: 'lower', unit: 'ms' }, // local engines only: HTTP cases have no forward passes
  { metric: 'ttftMs', better: 'lower', unit: 'ms' },
  { metric: 'tpotMs', better: 'lower', unit: 'ms' },
  { metric: 'itlMs', better: 'lower', unit: 'ms' },
];

export interface CompareOptions {
  /** Smallest change that matters, in percent of the baseline mean (5 = 5%). */
  thresholdPct: number;
  /** Significance level for the test on raw samples. */
  alpha: number;
}

export const DEFAULT_COMPARE_OPTIONS: CompareOptions = { thresholdPct: 5, alpha: 0.05 };

/**
 * regression / improvement: beyond the threshold and significant. unchanged: within the threshold.
 * noise: beyond the threshold but not significant (the spread, or too few samples, cannot tell it from chance).
 */
export type Verdict = 'regression' | 'improvement' | 'unchanged' | 'noise';

/**
 * mann-whitney-u: two-sided test on the raw samples (both sides have >= 3 samples).
 * ci-overlap: fewer than 3 samples on a side; significant only when the two 95% CIs do not overlap
 * (with one sample the CI is unbounded, so never significant).
 */
export type SignificanceMethod = 'mann-whitney-u' | 'ci-overlap';

export interface SideStats {
  n: number;
  mean: number;
  /** The figure the change is computed from (current median / baseline median). */
  median: number;
  sd: number;
  /** 95% CI of the mean; null when undefined (one sample). */
  ci95: Ci95;
}

export interface MetricComparison {
  metric: MetricName;
  better: Better;
  unit: string;
  baseline: SideStats;
  current: SideStats;
  /** (current median / baseline median - 1) * 100: the ratio of medians, the one statistic of every change compare reports. */
  changePct: number;
  direction: 'better' | 'worse' | 'same';
  method: SignificanceMethod;
  /** Mann-Whitney U two-sided p-value; null for ci-overlap. */
  pValue: number | null;
  significant: boolean;
  verdict: Verdict;
}

interface CaseRef {
  id: string;
  scenario: CaseResult['scenario'];
  engine: CaseResult['engine'];
}

/** A case present in both runs: its metrics, or why they could not be compared. */
export type CaseComparison =
  | (CaseRef & { state: 'compared'; metrics: MetricComparison[] })
  /** Completed in the baseline, errored or aborted in the current run: a failure of the gate. */
  | (CaseRef & { state: 'current-errored'; error: string })
  /** Errored or aborted in the baseline: nothing to compare against. */
  | (CaseRef & { state: 'baseline-errored'; error: string });

export interface RunRef {
  runId: string;
  createdAt: string;
  toolVersion: string;
  gitSha: string | null;
}

/**
 * One metric across every matched case: the per-case effect is log(current / baseline) of the medians, oriented so
 * that positive is worse, and a one-sample t-test asks whether their mean is zero (src/stats/pooled.ts). It flags a
 * consistent slowdown that no single case can show with few repetitions (3 per side cannot reach p < 0.1).
 */
export interface PooledComparison extends PooledShift {
  /**
   * The table's statistic across cases: geometric mean over cases of (current median / baseline median), minus 1
   * (-0.286 for rates 1.4x slower, +0.4 for times 1.4x longer). relativeChange is the same change oriented worse.
   */
  change: number;
  /** 95% interval of `change`; null with fewer than 2 cases. */
  changeCi95: [number, number] | null;
  metric: MetricName;
  better: Better;
  unit: string;
  /** regression / improvement: |relativeChange| beyond the threshold and p < alpha; noise: beyond, not significant. */
  verdict: Verdict;
}

/** One line per thing that fails the gate, in a stable order (scenario order, case order, metric order, pooled). */
export type Failure =
  | { kind: 'regression'; caseId: string; scenario: CaseResult['scenario']; metric: MetricComparison }
  | { kind: 'errored'; caseId: string; scenario: CaseResult['scenario']; error: string }
  | { kind: 'pooled-regression'; pooled: PooledComparison };

export interface Comparison {
  baseline: RunRef;
  current: RunRef;
  options: CompareOptions;
  cases: CaseComparison[];
  /** Case ids only in the current run (not an error: a new case has no baseline yet). */
  newCases: string[];
  failures: Failure[];
  improvements: { caseId: string; scenario: CaseResult['scenario']; metric: MetricComparison }[];
  /** Per compared metric, the pooled test across every matched case that has it in both runs. */
  pooled: PooledComparison[];
  /** Things a reader should know, e.g. sample sizes too small for the test to ever reach alpha. */
  warnings: string[];
}

const runRef = (r: ResultsFile): RunRef => ({ runId: r.runId, createdAt: r.createdAt, toolVersion: r.tool.version, gitSha: r.tool.gitSha });

function casesById(r: ResultsFile, label: string): Map<string, CaseResult> {
  const m = new Map<string, CaseResult>();
  for (const c of r.scenarios.flatMap((s) => s.cases)) {
    if (m.has(c.id)) throw new UserError(`${label}: case id "${c.id}" appears twice; cannot match cases by id`);
    m.set(c.id, c);
  }
  return m;
}

const show = (v: unknown) => (v === undefined ? 'unset' : JSON.stringify(v));

/** The GPU a case ran on (nvidia-smi name of the run's first GPU); null for CPU and HTTP cases. */
function gpuOf(r: ResultsFile, c: CaseResult): string | null {
  return c.conditions.device === 'cuda' || c.conditions.device === 'webgpu' ? (r.environment.gpus[0]?.name ?? 'unknown GPU') : null;
}

/**
 * Same id must mean same conditions: a cpu-vs-cuda "regression" is a misconfigured gate, not a slowdown; so is an
 * H100 baseline against an A100 run, another model, or synthetic weights against real ones. A case matches only a
 * case of its own family decoded by the same sampler (a Qwen2 `ar-ort` case is no baseline for a Llama one, whatever
 * the two were called).
 */
function checkConditions(b: CaseResult, c: CaseResult, gpus: [string | null, string | null]): void {
  const fields: [string, unknown, unknown][] = [
    ['family', b.family, c.family],
    ['sampler', samplerOf(b), samplerOf(c)],
    ['device', b.conditions.device, c.conditions.device],
    ['executionProvider', b.conditions.executionProvider, c.conditions.executionProvider],
    ['dtype', b.conditions.dtype, c.conditions.dtype],
    ['GPU', gpus[0] ?? undefined, gpus[1] ?? undefined],
    ['model', b.model, c.model],
    ['weights', b.conditions.synthetic ? 'synthetic' : 'real', c.conditions.synthetic ? 'synthetic' : 'real'],
  ];
  const keys = [...new Set([...Object.keys(b.params), ...Object.keys(c.params)])].sort();
  for (const k of keys) fields.push([`params.${k}`, (b.params as unknown as Record<string, unknown>)[k], (c.params as unknown as Record<string, unknown>)[k]]);
  for (const [field, bv, cv] of fields) {
    if (show(bv) !== show(cv)) {
      throw new UserError(`case "${b.id}" ran under different conditions: ${field} is ${show(bv)} in the baseline and ${show(cv)} in the current run`);
    }
  }
}

/** The diffusion sampler a local diffusion case used; files written before cases recorded it only ran LLaDA's. */
function samplerOf(c: CaseResult): string | undefined {
  return c.engine === 'llada' ? (c.conditions.sampler ?? 'llada') : undefined;
}

function values(c: CaseResult, metric: MetricName): number[] | null {
  if (c.samples.length === 0) return null;
  const v = c.samples.map((s) => s[metric]);
  // "Only where both have it": a metric some samples lack (ttft on a diffusion case) is not compared.
  if (v.some((x) => typeof x !== 'number' || !Number.isFinite(x))) return null;
  return v as number[];
}

function sideStats(v: number[]): SideStats {
  const s = summarizeMetric(v);
  return { n: s.n, mean: s.mean, median: s.p50, sd: s.sd, ci95: s.ci95 };
}

function ciDisjoint(a: SideStats, b: SideStats): boolean {
  if (!a.ci95 || !b.ci95) return false;
  return a.ci95[1] < b.ci95[0] || b.ci95[1] < a.ci95[0];
}

export function compareMetric(metric: MetricName, better: Better, unit: string, base: number[], cur: number[], o: CompareOptions): MetricComparison {
  const baseline = sideStats(base);
  const current = sideStats(cur);
  // The ratio of medians, as the pooled test across cases uses: one statistic for every change compare reports.
  const diff = current.median - baseline.median;
  const changePct = baseline.median !== 0 ? (diff / Math.abs(baseline.median)) * 100 : diff === 0 ? 0 : Math.sign(diff) * Infinity;
  const improves = better === 'higher' ? diff > 0 : diff < 0;
  const direction = diff === 0 ? 'same' : improves ? 'better' : 'worse';
  let method: SignificanceMethod;
  let pValue: number | null = null;
  let significant: boolean;
  if (base.length >= 3 && cur.length >= 3) {
    method = 'mann-whitney-u';
    pValue = mannWhitneyU(base, cur).pValue;
    significant = pValue < o.alpha;
  } else {
    method = 'ci-overlap';
    significant = ciDisjoint(baseline, current);
  }
  let verdict: Verdict;
  if (!(Math.abs(changePct) > o.thresholdPct) || direction === 'same') verdict = 'unchanged';
  else if (!significant) verdict = 'noise';
  else verdict = direction === 'worse' ? 'regression' : 'improvement';
  return { metric, better, unit, baseline, current, changePct, direction, method, pValue, significant, verdict };
}

/** log(current / baseline) of the medians, positive when worse; null when a median is not positive. */
function worseLogRatio(better: Better, base: number[], cur: number[]): number | null {
  const b = median(base);
  const c = median(cur);
  if (!(b > 0 && c > 0)) return null;
  return better === 'higher' ? Math.log(b / c) : Math.log(c / b);
}

/** Binomial coefficient as a float (sizes here are small). */
function choose(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return r;
}

/**
 * Compares `current` against `baseline`. Throws UserError (exit code 2) for input that cannot be compared:
 * duplicate ids, a baseline case missing from current, or the same id under different conditions.
 */
export function compareResults(baseline: ResultsFile, current: ResultsFile, options: Partial<CompareOptions> = {}): Comparison {
  const o: CompareOptions = { ...DEFAULT_COMPARE_OPTIONS, ...options };
  if (!(o.thresholdPct >= 0) || !Number.isFinite(o.thresholdPct)) throw new UserError(`threshold must be a number >= 0, got ${o.thresholdPct}`);
  if (!(o.alpha > 0 && o.alpha < 1)) throw new UserError(`alpha must be in (0, 1), got ${o.alpha}`);
  const base = casesById(baseline, 'baseline');
  const cur = casesById(current, 'current');
  // A case the memory plan skipped (either run) was not measured: missing from the comparison, never a failure.
  const skipped = new Set([...(baseline.skippedCases ?? []), ...(current.skippedCases ?? [])].map((s) => s.id));
  for (const id of base.keys()) {
    if (!cur.has(id) && !skipped.has(id)) {
      const why = current.complete ? '' : ' (the current run is incomplete: it was interrupted or a scenario failed)';
      throw new UserError(`baseline case "${id}" is missing from the current run${why}`);
    }
  }
  const cases: CaseComparison[] = [];
  const failures: Failure[] = [];
  const improvements: Comparison['improvements'] = [];
  const smallSamples = new Set<string>();
  const effects = new Map<MetricName, number[]>(COMPARED_METRICS.map((m) => [m.metric, []]));
  for (const [id, b] of base) {
    const c = cur.get(id);
    if (!c) continue;
    checkConditions(b, c, [gpuOf(baseline, b), gpuOf(current, c)]);
    const ref: CaseRef = { id, scenario: b.scenario, engine: b.engine };
    if (b.state !== 'completed') {
      cases.push({ ...ref, state: 'baseline-errored', error: b.state === 'aborted' ? `aborted: ${b.error}` : b.error });
      continue;
    }
    if (c.state !== 'completed') {
      const error = c.state === 'aborted' ? `aborted: ${c.error}` : c.error;
      cases.push({ ...ref, state: 'current-errored', error });
      failures.push({ kind: 'errored', caseId: id, scenario: b.scenario, error });
      continue;
    }
    const metrics: MetricComparison[] = [];
    for (const { metric, better, unit } of COMPARED_METRICS) {
      const bv = values(b, metric);
      const cv = values(c, metric);
      if (!bv || !cv) continue;
      const m = compareMetric(metric, better, unit, bv, cv, o);
      metrics.push(m);
      const effect = worseLogRatio(better, bv, cv);
      if (effect !== null) effects.get(metric)!.push(effect);
      if (m.verdict === 'regression') failures.push({ kind: 'regression', caseId: id, scenario: b.scenario, metric: m });
      if (m.verdict === 'improvement') improvements.push({ caseId: id, scenario: b.scenario, metric: m });
      // With n1, n2 samples and no ties the smallest two-sided p Mann-Whitney U can reach is 2 / C(n1 + n2, n1).
      if (m.method === 'mann-whitney-u' && 2 / choose(bv.length + cv.length, bv.length) >= o.alpha) smallSamples.add(`${bv.length} vs ${cv.length}`);
    }
    cases.push({ ...ref, state: 'compared', metrics });
  }
  const pooled: PooledComparison[] = [];
  for (const { metric, better, unit } of COMPARED_METRICS) {
    const e = effects.get(metric)!;
    if (e.length < 2) continue;
    const shift = pooledShift(e);
    // relativeChange is oriented worse (current / baseline for times, baseline / current for rates): back to current / baseline.
    const asRatio = (worse: number) => (better === 'higher' ? 1 / (1 + worse) - 1 : worse);
    const changeCi95: [number, number] | null = shift.ci95 ? (better === 'higher' ? [asRatio(shift.ci95[1]), asRatio(shift.ci95[0])] : shift.ci95) : null;
    const p: PooledComparison = { metric, better, unit, ...shift, change: asRatio(shift.relativeChange), changeCi95, verdict: 'unchanged' };
    const beyond = Math.abs(p.change) * 100 > o.thresholdPct;
    p.verdict = !beyond ? 'unchanged' : !(p.pValue < o.alpha) ? 'noise' : p.relativeChange > 0 ? 'regression' : 'improvement';
    pooled.push(p);
    if (p.verdict === 'regression') failures.push({ kind: 'pooled-regression', pooled: p });
  }
  const warnings: string[] = [];
  for (const sizes of smallSamples) {
    let n = 3;
    while (2 / choose(2 * n, n) >= o.alpha && n < 50) n++;
    warnings.push(
      `${sizes} samples: Mann-Whitney U cannot reach p < ${o.alpha} with so few, so no single case can be flagged (the pooled test across cases still can); use --repetitions ${n} or more in both runs for per-case verdicts`,
    );
  }
  if (cases.some((c) => c.state === 'compared' && c.metrics.some((m) => m.method === 'ci-overlap'))) {
    warnings.push('some cases have fewer than 3 samples: judged by non-overlapping 95% CIs, which rarely flags anything; use more repetitions');
  }
  if (!current.complete) warnings.push('the current run is marked incomplete');
  const newCases = [...cur.keys()].filter((id) => !base.has(id));
  return { baseline: runRef(baseline), current: runRef(current), options: o, cases, newCases, failures, improvements, pooled, warnings };
}

/** True when the gate fails (exit code 1). */
export const hasFailures = (c: Comparison): boolean => c.failures.length > 0;
