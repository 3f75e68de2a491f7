/**
 * Summaries as results.json stores them: src/stats' summary of the raw values, with an undefined confidence
 * interval (one sample, a two-point fit) as null rather than ±Infinity, so the run that measured a case and every
 * later reader of the file see the same value.
 */
import { first, last } from '../util/indexing.js';
import { mean, percentileSorted, summarize } from '../stats/index.js';
import { MetricName, PooledMetricName } from './schema.js';
import type { CaseSummary, Ci95, Distribution, PooledSummary, Sample, Summary } from './types.js';

/** An interval with an unbounded or undefined end is no interval: null. */
export function ci95OrNull(ci: readonly [number, number] | null): Ci95 {
  return ci && Number.isFinite(ci[0]) && Number.isFinite(ci[1]) ? [ci[0], ci[1]] : null;
}

export function summarizeMetric(values: readonly number[]): Summary {
  const s = summarize(values);
  return { ...s, ci95: ci95OrNull(s.ci95) };
}

/** Per metric, the summary of the samples when every sample has a finite value for it. */
export function summarizeSamples(samples: readonly Sample[]): CaseSummary {
  const summary: CaseSummary = {};
  for (const m of MetricName.options) {
    const values = samples.map((s) => s[m]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
    if (values.length === samples.length && values.length > 0) summary[m] = summarizeMetric(values);
  }
  return summary;
}

/** n, mean, min, max and type-7 percentiles of raw values (no interval: pooled values are not independent draws). */
export function distribution(values: readonly number[]): Distribution {
  if (values.length === 0) throw new RangeError('distribution: no values');
  const sorted = [...values].sort((a, b) => a - b);
  return {
    n: sorted.length,
    mean: mean(sorted),
    min: first(sorted),
    max: last(sorted),
    p50: percentileSorted(sorted, 0.5),
    p90: percentileSorted(sorted, 0.9),
    p99: percentileSorted(sorted, 0.99),
  };
}

/** Per metric, the distribution of every raw value of every sample (requests, answers, gaps) together. */
export function poolSamples(samples: readonly Sample[]): PooledSummary {
  const pooled: PooledSummary = {};
  for (const m of PooledMetricName.options) {
    const values = samples.flatMap((s) => s.values[m] ?? []).filter((v) => Number.isFinite(v));
    if (values.length > 0) pooled[m] = distribution(values);
  }
  return pooled;
}

/** What a case stores beside its samples: per-metric summaries over repetitions, and pooled distributions. */
export function summarizeCase(samples: readonly Sample[]): { summary: CaseSummary; pooled: PooledSummary } {
  return { summary: summarizeSamples(samples), pooled: poolSamples(samples) };
}
