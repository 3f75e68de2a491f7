import { headlineMarkdown, headlineOf } from '../claims/index.js';
import type { ResultsFile } from '../results/types.js';
import { COLUMNS, analysisLines, caseRow, conditionLines, efficiencyLines, environmentLine } from './format.js';
import { ENGINES_NOTE, ENGINE_COLUMNS, SKIPPED_TITLE, engineRows, skippedLines } from './engines.js';
import { qualityTable } from './quality.js';
import { servingTable } from './serving.js';
import { notCompleted } from './state.js';
import { at } from '../util/indexing.js';

const cell = (s: string) => s.replace(/\|/g, '\\|');

export function renderMarkdown(results: ResultsFile): string {
  const l: string[] = [`# dllm-bench results: ${results.runId}`, ''];
  l.push(`${results.complete ? 'Complete run' : '**Incomplete run** (interrupted or a scenario failed)'}, ${results.createdAt}, dllm-bench ${results.tool.version}${results.tool.gitSha ? ` (${results.tool.gitSha.slice(0, 8)})` : ''}.`, '');
  l.push(headlineMarkdown(headlineOf(results)));
  l.push('## Conditions', '', `- ${environmentLine(results)}`, ...conditionLines(results).map((c) => `- ${c}`), '');
  l.push(
    'Tokens/s counts generated positions only; useful tokens stop at the first EOS/end-of-turn. Mean ± sd over the measured runs (warmup excluded); n = runs; ' +
      'latency, NFE and time inside the runtime are per request. TTFT and TPOT (time per output token of each answer) are p50 over answers, ITL p50 / p99 over every inter-token gap (vLLM\'s definitions), all runs pooled.',
    '',
  );
  for (const s of results.scenarios) {
    l.push(`## ${s.kind}${s.state !== 'completed' ? ` (${s.state})` : ''}`, '');
    if (s.error) l.push(`> ${s.error}`, '');
    if (s.cases.length === 0) {
      l.push('No cases measured.', '');
      continue;
    }
    l.push(`| ${COLUMNS.join(' | ')} |`, `|${COLUMNS.map(() => '---').join('|')}|`);
    for (const c of s.cases) {
      const row = c.state !== 'completed' ? [c.engine, at(caseRow(c), 1, 'caseRow(c)'), notCompleted(c), ...Array(COLUMNS.length - 3).fill('')] : caseRow(c);
      l.push(`| ${row.map(cell).join(' | ')} |`);
    }
    const q = qualityTable(s);
    if (q) l.push('', `Accuracy beside speed: ${q.note}.`, '', `| ${q.head.join(' | ')} |`, `|${q.head.map(() => '---').join('|')}|`, ...q.rows.map((r) => `| ${r.map(cell).join(' | ')} |`));
    const sv = servingTable(s);
    if (sv) l.push('', `Serving: ${sv.note}.`, '', `| ${sv.head.join(' | ')} |`, `|${sv.head.map(() => '---').join('|')}|`, ...sv.rows.map((r) => `| ${r.map(cell).join(' | ')} |`));
    const a = analysisLines(s);
    if (a.length) l.push('', ...a.map((x) => `- ${x}`));
    l.push('');
  }
  const eff = efficiencyLines(results);
  if (eff.length) {
    l.push('## Hardware efficiency (throughput cases)', '', 'MFU / MBU against each engine\'s own device peak for its dtype, in run (time inside session.run) / end to end (wall time). MBU counts the weights and the KV cache read per forward.', '');
    l.push(...eff.map((x) => `- ${x}`), '');
  }
  const engines = engineRows(results);
  if (engines.length) l.push('## Engines and memory', '', ENGINES_NOTE, '', `| ${ENGINE_COLUMNS.join(' | ')} |`, `|${ENGINE_COLUMNS.map(() => '---').join('|')}|`, ...engines.map((r) => `| ${r.map(cell).join(' | ')} |`), '');
  const skipped = skippedLines(results);
  if (skipped.length) l.push(`## ${SKIPPED_TITLE}`, '', ...skipped.map((x) => `- ${x}`), '');
  if (results.warnings.length) l.push('## Warnings', '', ...results.warnings.map((w) => `- ${w.message}`), '');
  if (results.errors.length) l.push('## Errors', '', ...results.errors.map((e) => `- ${e.caseId ?? e.scenario ?? ''}: ${e.message}`), '');
  return l.join('\n');
}
