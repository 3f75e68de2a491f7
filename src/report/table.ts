import chalk from 'chalk';
import Table from 'cli-table3';
import type { ResultsFile } from '../results/types.js';
import { visibleLength, wrapLine } from '../util/format.js';
import { COLUMNS, analysisLines, caseRow, environmentLine } from './format.js';
import { qualityTable } from './quality.js';
import { servingTable } from './serving.js';
import { notCompleted } from './state.js';
import { ENGINE_COLUMNS, engineRows, skippedLines } from './engines.js';
import { at } from '../util/indexing.js';

export interface TableOptions {
  /** Fit every line to this many columns (drop table columns, wrap prose); Infinity: no limit. Default 120. */
  width?: number;
  /** Every column, whatever the width (`--wide`). */
  wide?: boolean;
}

/** The case table's columns in the order they are given up when the terminal is narrow (the last goes first). */
const KEEP_ORDER: readonly (typeof COLUMNS)[number][] = ['engine', 'case', 'tok/s', 'useful tok/s', 'n', 'NFE', 'latency ms', 'TTFT p50 ms', 'tok/fwd', 'ms/fwd', 'TPOT p50 ms', 'ITL p50/p99 ms'];

type Cell = string | { colSpan: number; content: string };

/**
 * The widest selection of columns (kept in `keep` order, shown in their own order) whose table fits `width`; at
 * least `min` columns. `render` draws a table of the given column indices.
 */
function fitColumns(keep: readonly number[], min: number, width: number, render: (cols: number[]) => string): { cols: number[]; text: string } {
  for (let n = keep.length; n >= min; n--) {
    const cols = keep.slice(0, n).sort((a, b) => a - b);
    const text = render(cols);
    if (n === min || Math.max(...text.split('\n').map(visibleLength)) <= width) return { cols, text };
  }
  const cols = keep.slice(0, min).sort((a, b) => a - b);
  return { cols, text: render(cols) };
}

/**
 * Console tables (stderr): colourless when chalk.level is 0 (NO_COLOR, not a TTY). Fits `width` columns by leaving
 * out the least important table columns (named under the table) and wrapping prose; `wide` shows every column.
 */
export function renderTable(results: ResultsFile, o: TableOptions = {}): string {
  const width = o.wide ? Infinity : (o.width ?? 120);
  const out: string[] = [];
  const prose = (s: string, style: (x: string) => string = (x) => x, indent = '    ') => wrapLine(s, width, indent).map((x) => style(x));
  const style = chalk.level === 0 ? { head: [], border: [] } : { head: ['cyan'] };
  const dropped = new Set<string>();
  for (const s of results.scenarios) {
    out.push(chalk.bold(`${s.kind}${s.state !== 'completed' ? ` (${s.state}${s.error ? `: ${s.error}` : ''})` : ''}`));
    if (s.cases.length === 0) out.push('  no cases measured');
    else {
      const keep = KEEP_ORDER.map((c) => COLUMNS.indexOf(c));
      const render = (cols: number[]) => {
        const t = new Table({ head: cols.map((i) => at(COLUMNS, i, 'COLUMNS')), style });
        for (const c of s.cases) {
          const row = caseRow(c);
          if (c.state !== 'completed') t.push([at(row, 0, 'row'), at(row, 1, 'row'), { colSpan: cols.length - 2, content: chalk.red(notCompleted(c)) }] as Cell[]);
          else t.push(cols.map((i) => at(row, i, 'row')));
        }
        return t.toString();
      };
      const { cols, text } = fitColumns(keep, 4, width, render);
      for (const [i, name] of COLUMNS.entries()) if (!cols.includes(i)) dropped.add(name);
      out.push(text);
    }
    const q = qualityTable(s);
    if (q) {
      // Per-task columns go first, then NFE on the tasks; engine, case, accuracy, tok/s and NFE stay.
      const keep = [0, 1, 2, 3, 4, 5, ...q.head.slice(6).map((_, i) => 6 + i)];
      const render = (cols: number[]) => {
        const t = new Table({ head: cols.map((i) => at(q.head, i, 'q.head')), style });
        for (const r of q.rows) t.push(cols.map((i) => at(r, i, 'r')));
        return t.toString();
      };
      const { cols, text } = fitColumns(keep, 5, width, render);
      const tasksLeft = q.head.length - 6 - cols.filter((i) => i >= 6).length;
      out.push(chalk.bold(`${s.kind}: accuracy beside speed`), text, ...prose(`  ${q.note}${tasksLeft ? `; accuracy per task: --wide or report.md` : ''}`, chalk.dim));
    }
    const sv = servingTable(s);
    if (sv) {
      const render = (cols: number[]) => {
        const t = new Table({ head: cols.map((i) => at(sv.head, i, 'sv.head')), style });
        for (const r of sv.rows) t.push(cols.map((i) => at(r, i, 'r')));
        return t.toString();
      };
      // The later percentile columns go first when the terminal is narrow; `--wide` or report.md have them all.
      const { cols, text } = fitColumns(sv.head.map((_, i) => i), Math.min(4, sv.head.length), width, render);
      const left = sv.head.length - cols.length;
      out.push(chalk.bold(`${s.kind}: serving`), text, ...prose(`  ${sv.note}${left ? `; ${left} more column(s): --wide or report.md` : ''}`, chalk.dim));
    }
    for (const l of analysisLines(s)) out.push(...prose(`  ${l}`));
  }
  if (dropped.size) out.push(...prose(`  columns left out to fit ${width} characters: ${[...dropped].join(', ')} (--wide shows them; report.md has every column)`, chalk.dim));
  const engines = engineRows(results);
  if (engines.length) {
    const t = new Table({ head: ENGINE_COLUMNS, style });
    for (const r of engines) t.push(r);
    out.push(chalk.bold('engines and memory'), t.toString());
  }
  for (const x of skippedLines(results)) out.push(...prose(`skipped by the memory plan: ${x}`, chalk.yellow));
  for (const w of results.warnings) out.push(...prose(`warning: ${w.message}`, chalk.yellow));
  out.push(...prose(environmentLine(results), chalk.dim));
  return out.join('\n');
}
