import chalk from 'chalk';
import Table from 'cli-table3';
import type { ResultsFile } from '../results/types.js';
import { COLUMNS, analysisLines, caseRow, environmentLine } from './format.js';
import { qualityTable } from './quality.js';
import { notCompleted } from './state.js';
import { ENGINE_COLUMNS, engineRows, skippedLines } from './engines.js';

/** Console tables (stderr): colourless when chalk.level is 0 (NO_COLOR, not a TTY). */
export function renderTable(results: ResultsFile): string {
  const out: string[] = [];
  const style = chalk.level === 0 ? { head: [], border: [] } : { head: ['cyan'] };
  for (const s of results.scenarios) {
    out.push(chalk.bold(`${s.kind}${s.state !== 'completed' ? ` (${s.state}${s.error ? `: ${s.error}` : ''})` : ''}`));
    if (s.cases.length === 0) out.push('  no cases measured');
    else {
      const t = new Table({ head: [...COLUMNS], style });
      for (const c of s.cases) {
        if (c.state !== 'completed') t.push([c.engine, caseRow(c)[1]!, { colSpan: COLUMNS.length - 2, content: chalk.red(notCompleted(c)) }]);
        else t.push(caseRow(c));
      }
      out.push(t.toString());
    }
    const q = qualityTable(s);
    if (q) {
      const t = new Table({ head: q.head, style });
      for (const r of q.rows) t.push(r);
      out.push(chalk.bold(`${s.kind}: accuracy beside speed`), t.toString(), chalk.dim(`  ${q.note}`));
    }
    for (const l of analysisLines(s)) out.push(`  ${l}`);
  }
  const engines = engineRows(results);
  if (engines.length) {
    const t = new Table({ head: ENGINE_COLUMNS, style });
    for (const r of engines) t.push(r);
    out.push(chalk.bold('engines and memory'), t.toString());
  }
  for (const x of skippedLines(results)) out.push(chalk.yellow(`skipped by the memory plan: ${x}`));
  for (const w of results.warnings) out.push(chalk.yellow(`warning: ${w.message}`));
  out.push(chalk.dim(environmentLine(results)));
  return out.join('\n');
}
