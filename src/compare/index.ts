/** The regression gate: compare two results files, and export one run to benchmark dashboards. */
export {
  COMPARED_METRICS,
  DEFAULT_COMPARE_OPTIONS,
  compareMetric,
  compareResults,
  hasFailures,
  type Better,
  type CaseComparison,
  type CompareOptions,
  type Comparison,
  type Failure,
  type MetricComparison,
  type PooledComparison,
  type RunRef,
  type SideStats,
  type SignificanceMethod,
  type Verdict,
} from './compare.js';
export { renderCompareTable } from './table.js';
export { renderCompareMarkdown } from './markdown.js';
export { escapeXml, renderJUnit } from './junit.js';
export { toBenchmarkAction, toBmf, type BenchmarkActionEntry, type BenchmarkActionExport, type BencherMetricFormat } from './export.js';
export { MAX_ANNOTATIONS, appendStepSummary, githubAnnotations, inGitHubActions } from './github.js';
export { COMPARE_FORMATS, compareCommand, formatComparison, type CompareCommandOptions, type CompareFormat } from './command.js';
