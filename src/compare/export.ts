/**
 * Exports of one run's figures for benchmark dashboards that keep their own history: github-action-benchmark and
 * Bencher. Both take the current run only (the dashboards compare against what they stored before).
 */
import { summarizeMetric } from '../results/summary.js';
import type { CaseResult, Ci95, MetricName, ResultsFile } from '../results/types.js';
import { COMPARED_METRICS } from './compare.js';

/** One entry of github-action-benchmark's `customBiggerIsBetter` / `customSmallerIsBetter` tools. */
export interface BenchmarkActionEntry {
  name: string;
  unit: string;
  value: number;
  /** Half-width of the 95% CI, e.g. "± 1.234" (absent with one sample). */
  range?: string;
  extra?: string;
}

/** Feed each array to its own github-action-benchmark step (tool: customBiggerIsBetter / customSmallerIsBetter). */
export interface BenchmarkActionExport {
  biggerIsBetter: BenchmarkActionEntry[];
  smallerIsBetter: BenchmarkActionEntry[];
}

/** Bencher Metric Format: case id -> measure -> value with the 95% CI as its bounds. */
export type BencherMetricFormat = Record<string, Record<string, { value: number; lower_value?: number; upper_value?: number }>>;

function* metricStats(r: ResultsFile): Generator<{ c: CaseResult; metric: MetricName; better: 'higher' | 'lower'; unit: string; mean: number; ci95: Ci95; n: number }> {
  for (const c of r.scenarios.flatMap((s) => s.cases)) {
    if (c.state !== 'completed' || c.samples.length === 0) continue;
    for (const { metric, better, unit } of COMPARED_METRICS) {
      const v = c.samples.map((s) => s[metric]);
      if (v.some((x) => typeof x !== 'number' || !Number.isFinite(x))) continue;
      const s = summarizeMetric(v as number[]);
      yield { c, metric, better, unit, mean: s.mean, ci95: s.ci95, n: s.n };
    }
  }
}

export function toBenchmarkAction(r: ResultsFile): BenchmarkActionExport {
  const out: BenchmarkActionExport = { biggerIsBetter: [], smallerIsBetter: [] };
  for (const m of metricStats(r)) {
    const half = m.ci95 ? (m.ci95[1] - m.ci95[0]) / 2 : null;
    const entry: BenchmarkActionEntry = {
      name: `${m.c.id} ${m.metric}`,
      unit: m.unit,
      value: m.mean,
      ...(half !== null ? { range: `± ${half.toPrecision(4)}` } : {}),
      extra: `n=${m.n} ${m.c.conditions.device}/${m.c.conditions.executionProvider} ${m.c.conditions.dtype}${m.c.conditions.synthetic ? ' synthetic weights' : ''}; run ${r.runId}`,
    };
    (m.better === 'higher' ? out.biggerIsBetter : out.smallerIsBetter).push(entry);
  }
  return out;
}

export function toBmf(r: ResultsFile): BencherMetricFormat {
  const out: BencherMetricFormat = {};
  for (const m of metricStats(r)) {
    const metrics = (out[m.c.id] ??= {});
    // No interval (one sample): leave the bounds out.
    metrics[m.metric] = m.ci95 ? { value: m.mean, lower_value: m.ci95[0], upper_value: m.ci95[1] } : { value: m.mean };
  }
  return out;
}
