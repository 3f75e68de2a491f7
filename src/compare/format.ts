/** Wording shared by every compare exporter, so the table, markdown, JUnit and annotations say the same thing. */
import { num, signedPct } from '../util/format.js';
import type { Failure, MetricComparison, PooledComparison } from './compare.js';

/** The change of a metric, signed: "-20.0%" (current median / baseline median - 1; MetricComparison.changePct is in percent). */
export function changeText(m: MetricComparison): string {
  return signedPct(m.changePct / 100);
}

/** "p=0.0012 (Mann-Whitney U)" or "95% CIs do not overlap" / "95% CIs overlap". */
export function significanceText(m: MetricComparison): string {
  if (m.method === 'mann-whitney-u') return `p=${m.pValue === null ? '-' : m.pValue < 0.0001 ? m.pValue.toExponential(1) : m.pValue.toFixed(4)} (Mann-Whitney U, n=${m.baseline.n}/${m.current.n})`;
  return `95% CIs ${m.significant ? 'do not overlap' : 'overlap'} (n=${m.baseline.n}/${m.current.n}, too few samples for a rank test)`;
}

/** "tokensPerSec 100.00 -> 80.00 tokens/s (medians; -20.0%, ...)" */
export function metricChange(m: MetricComparison): string {
  return `${m.metric} ${num(m.baseline.median)} -> ${num(m.current.median)} ${m.unit} (medians; ${changeText(m)}, ${m.better} is better; ${significanceText(m)})`;
}

/** "p=0.0012" with small values in exponent form. */
const pText = (p: number) => (p < 0.0001 ? p.toExponential(1) : p.toFixed(4));

/**
 * "tokensPerSec across 35 cases: -28.6% (worse; 95% CI -30.1% to -27.0%), p=1.2e-9 (...)": the same statistic as
 * the table's change column, the ratio of medians, here its geometric mean over the cases.
 */
export function pooledText(p: PooledComparison): string {
  const ci = p.changeCi95 ? `; 95% CI ${signedPct(p.changeCi95[0])} to ${signedPct(p.changeCi95[1])}` : '';
  const way = p.relativeChange > 0 ? 'worse' : p.relativeChange < 0 ? 'better' : 'unchanged';
  return `${p.metric} across ${p.n} cases: ${signedPct(p.change)} (${way}${ci}), p=${pText(p.pValue)} (current / baseline median per case, geometric mean over cases; t-test on the log ratios; ${p.better} is better)`;
}

/** One line naming the case (or the pooled test), the metric and the change. */
export function failureLine(f: Failure): string {
  switch (f.kind) {
    case 'regression':
      return `${f.caseId}: ${metricChange(f.metric)}`;
    case 'errored':
      return `${f.caseId}: errored in the current run: ${f.error}`;
    case 'pooled-regression':
      return `consistent slowdown: ${pooledText(f.pooled)}`;
  }
}

/** A short title for annotations. */
export function failureTitle(f: Failure): string {
  switch (f.kind) {
    case 'regression':
      return `Performance regression: ${f.caseId} ${f.metric.metric}`;
    case 'errored':
      return `Benchmark case errored: ${f.caseId}`;
    case 'pooled-regression':
      return `Consistent slowdown across cases: ${f.pooled.metric}`;
  }
}
