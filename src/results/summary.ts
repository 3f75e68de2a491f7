/**
 * Summaries as results.json stores them: src/stats' summary of the raw values, with an undefined confidence
 * interval (one sample, a two-point fit) as null rather than ±Infinity, so the run that measured a case and every
 * later reader of the file see the same value.
 */
import { summarize } from '../stats/index.js';
import { MetricName } from './schema.js';
import type { CaseSummary, Ci95, Sample, Summary } from './types.js';

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
