import type { Comparison } from './compare.js';
import { num } from '../util/format.js';
import { changeText, failureLine, metricChange, pooledText, significanceText } from './format.js';

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
const code = (s: string) => `\`${s.replace(/`/g, "'")}\``;

function runLine(label: string, r: Comparison['baseline']): string {
  return `${label}: run ${code(r.runId)} (${r.createdAt}, dllm-bench ${r.toolVersion}${r.gitSha ? `, ${r.gitSha.slice(0, 12)}` : ''})`;
}

/** Markdown summary (for PR comments and $GITHUB_STEP_SUMMARY): regressions first, then improvements, then all. */
export function renderCompareMarkdown(c: Comparison): string {
  const out: string[] = [];
  const n = c.failures.length;
  out.push(`## dllm-bench compare: ${n === 0 ? 'no regressions' : `${n} regression${n === 1 ? '' : 's'}`}`, '');
  out.push(
    `Every change is the ratio of medians, current / baseline (across cases: its geometric mean). A change is flagged only when it is worse than ${c.options.thresholdPct}% and significant ` +
      `(Mann-Whitney U on the raw samples, p < ${c.options.alpha}; non-overlapping 95% CIs when a side has fewer than 3 samples), ` +
      `or when every case together is consistently worse (t-test on the per-case log ratios of medians, p < ${c.options.alpha}).`,
    '',
    `- ${runLine('baseline', c.baseline)}`,
    `- ${runLine('current', c.current)}`,
    '',
  );
  if (n > 0) {
    out.push('### Regressions', '');
    for (const f of c.failures) {
      if (f.kind === 'regression') out.push(`- **${code(f.caseId)}** ${metricChange(f.metric)}`);
      else if (f.kind === 'errored') out.push(`- **${code(f.caseId)}** errored in the current run: ${f.error}`);
      else out.push(`- **all cases** ${failureLine(f)}`);
    }
    out.push('');
  }
  if (c.improvements.length > 0) {
    out.push('### Improvements', '');
    for (const i of c.improvements) out.push(`- ${code(i.caseId)} ${metricChange(i.metric)}`);
    out.push('');
  }
  if (c.pooled.length > 0) {
    out.push('### Across cases (pooled)', '');
    for (const p of c.pooled) out.push(`- ${p.verdict === 'regression' ? '**regression**' : p.verdict}: ${pooledText(p)}`);
    out.push('');
  }
  if (c.warnings.length > 0) {
    out.push('### Warnings', '');
    for (const w of c.warnings) out.push(`- ${w}`);
    out.push('');
  }
  if (c.newCases.length > 0) {
    out.push('### New cases (no baseline yet)', '');
    for (const id of c.newCases) out.push(`- ${code(id)}`);
    out.push('');
  }
  out.push('<details><summary>All compared metrics</summary>', '');
  out.push('| case | metric | baseline median | current median | change | significance | verdict |', '|---|---|---:|---:|---:|---|---|');
  for (const k of c.cases) {
    if (k.state !== 'compared') {
      out.push(`| ${cell(k.id)} | - | - | - | - | - | ${k.state === 'current-errored' ? '**errored in current**' : 'errored in baseline'}: ${cell(k.error)} |`);
      continue;
    }
    for (const m of k.metrics) {
      const verdict = m.verdict === 'regression' ? '**regression**' : m.verdict;
      out.push(`| ${cell(k.id)} | ${m.metric} | ${num(m.baseline.median)} | ${num(m.current.median)} | ${changeText(m)} | ${cell(significanceText(m))} | ${verdict} |`);
    }
  }
  out.push('', '</details>', '');
  return out.join('\n');
}
