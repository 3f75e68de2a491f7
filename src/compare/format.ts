/** Wording shared by every compare exporter, so the table, markdown, JUnit and annotations say the same thing. */
import { num, signedPct } from '../util/format.js';
import type { Failure, MetricComparison } from './compare.js';

/** The change of a metric, signed: "-20.0%" (MetricComparison.changePct is in percent). */
export function changeText(m: MetricComparison): string {
  return signedPct(m.changePct / 100);
}

/** "p=0.0012 (Mann-Whitney U)" or "95% CIs do not overlap" / "95% CIs overlap". */
export function significanceText(m: MetricComparison): string {
  if (m.method === 'mann-whitney-u') return `p=${m.pValue === null ? '-' : m.pValue < 0.0001 ? m.pValue.toExponential(1) : m.pValue.toFixed(4)} (Mann-Whitney U, n=${m.baseline.n}/${m.current.n})`;
  return `95% CIs ${m.significant ? 'do not overlap' : 'overlap'} (n=${m.baseline.n}/${m.current.n}, too few samples for a rank test)`;
}

/** "tokensPerSec 100.00 -> 80.00 tokens/s (-20.0%, p=0.0006 (Mann-Whitney U, n=7/7))" */
export function metricChange(m: MetricComparison): string {
  return `${m.metric} ${num(m.baseline.mean)} -> ${num(m.current.mean)} ${m.unit} (${changeText(m)}, ${m.better} is better; ${significanceText(m)})`;
}

/** One line naming the case, the metric and the change. */
export function failureLine(f: Failure): string {
  return f.kind === 'regression' ? `${f.caseId}: ${metricChange(f.metric)}` : `${f.caseId}: errored in the current run: ${f.error}`;
}
