import chalk from 'chalk';
import Table from 'cli-table3';
import type { Comparison, Verdict } from './compare.js';
import { num } from '../util/format.js';
import { changeText, failureLine, pooledText } from './format.js';

const VERDICT_COLOR: Record<Verdict, (s: string) => string> = {
  regression: (s) => chalk.red.bold(s),
  improvement: (s) => chalk.green(s),
  unchanged: (s) => s,
  noise: (s) => chalk.yellow(s),
};

/** Console table, one row per case and metric (colour follows the global chalk level: none when it is 0). */
export function renderCompareTable(c: Comparison): string {
  const style = chalk.level === 0 ? { head: [], border: [], compact: true } : { head: ['cyan'], compact: true };
  const t = new Table({ head: ['case', 'metric', 'baseline median', 'current median', 'change', 'p / method', 'verdict'], style });
  for (const k of c.cases) {
    if (k.state !== 'compared') {
      const text = k.state === 'current-errored' ? VERDICT_COLOR.regression(`errored in current: ${k.error}`) : chalk.dim(`errored in baseline (not compared): ${k.error}`);
      t.push([k.id, { colSpan: 6, content: text }]);
      continue;
    }
    for (const m of k.metrics) {
      const p = m.method === 'mann-whitney-u' ? `p=${m.pValue! < 0.0001 ? m.pValue!.toExponential(1) : m.pValue!.toFixed(4)}` : `CI ${m.significant ? 'apart' : 'overlap'}`;
      t.push([k.id, m.metric, num(m.baseline.median), num(m.current.median), changeText(m), p, VERDICT_COLOR[m.verdict](m.verdict)]);
    }
  }
  const out = [t.toString()];
  for (const p of c.pooled) out.push(`across cases: ${VERDICT_COLOR[p.verdict](p.verdict)}: ${pooledText(p)}`);
  for (const id of c.newCases) out.push(chalk.dim(`new case (no baseline): ${id}`));
  for (const w of c.warnings) out.push(chalk.yellow(`warning: ${w}`));
  const rule = `threshold ${c.options.thresholdPct}%, alpha ${c.options.alpha}`;
  if (c.failures.length === 0) out.push(chalk.green(`no regressions (${rule}; ${c.improvements.length} improvement(s))`));
  else {
    out.push(chalk.red.bold(`${c.failures.length} regression(s) (${rule}):`));
    for (const f of c.failures) out.push(chalk.red(`  ${failureLine(f)}`));
  }
  return out.join('\n');
}
