/**
 * Report entry points used by `run`: the console table and the files written beside results.json.
 * Exporters are pure `(results) => string` functions.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import chalk from 'chalk';
import Table from 'cli-table3';
import type { CaseResult, ResultsFile, Summary } from '../results/types.js';

const fmt = (v: number | undefined, digits = 1) => (v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(digits));
const pm = (s: Summary | undefined, digits = 1) => (s ? `${fmt(s.mean, digits)} ± ${fmt(s.sd, digits)}` : '-');

function caseLabel(c: CaseResult): string {
  const p = c.params;
  const parts = [`b${p.batchSize}`, `p${p.promptTokens}`, `g${p.genLength}`];
  if (c.engine === 'llada') parts.push(p.threshold != null ? `thr ${p.threshold}` : `${p.steps} steps`, `blk ${p.blockLength}`);
  if (p.concurrency !== undefined) parts.push(`c${p.concurrency}`);
  return parts.join(' ');
}

/** One row per case: the figures a reader compares first. */
export function renderTable(results: ResultsFile): string {
  const out: string[] = [];
  const style = chalk.level === 0 ? { head: [], border: [] } : { head: ['cyan'] };
  for (const s of results.scenarios) {
    out.push(chalk.bold(`${s.kind}${s.state !== 'completed' ? ` (${s.state}${s.error ? `: ${s.error}` : ''})` : ''}`));
    if (s.cases.length === 0) {
      out.push('  no cases measured');
      continue;
    }
    const t = new Table({ head: ['engine', 'case', 'tok/s', 'useful tok/s', 'latency ms', 'NFE', 'tok/fwd', 'ms/fwd', 'TTFT ms'], style });
    for (const c of s.cases) {
      if (c.state === 'errored') {
        t.push([c.engine, caseLabel(c), { colSpan: 7, content: chalk.red(`error: ${c.error}`) }]);
        continue;
      }
      const m = c.summary;
      t.push([c.engine, caseLabel(c), pm(m.tokensPerSec), pm(m.usefulTokensPerSec), pm(m.latencyMs), fmt(m.nfe?.mean, 0), fmt(m.tokensPerForward?.mean, 2), fmt(m.timePerForwardMs?.mean, 2), fmt(m.ttftMs?.mean, 1)]);
    }
    out.push(t.toString());
    for (const b of s.analysis.batchEfficiency ?? []) if (b.batchSize > 1) out.push(`  batch efficiency ${b.engine} B=${b.batchSize}: ${(b.efficiency * 100).toFixed(0)}%`);
    for (const f of s.analysis.scaling ?? []) {
      out.push(`  scaling ${f.engine} ${f.metric} ~ prompt^${f.exponent.toFixed(2)} (95% CI ${fmt(f.ci95[0], 2)} .. ${fmt(f.ci95[1], 2)}, R² ${f.r2.toFixed(3)})`);
    }
  }
  const env = results.environment;
  out.push(chalk.dim(`${env.executionProvider} on ${env.gpus[0]?.name ?? env.cpuModel} (${env.cpuCount} CPUs), onnxruntime ${env.onnxruntime}, Node ${env.node}`));
  return out.join('\n');
}

export function renderMarkdown(results: ResultsFile): string {
  const lines = [`# dllm-bench results ${results.runId}`, '', `${results.complete ? 'Complete' : '**Incomplete**'} run, ${results.createdAt}.`, ''];
  for (const s of results.scenarios) {
    lines.push(`## ${s.kind}`, '');
    lines.push('| engine | case | tok/s | useful tok/s | latency ms | NFE | ms/fwd |', '|---|---|---|---|---|---|---|');
    for (const c of s.cases) {
      const m = c.summary;
      lines.push(c.state === 'errored' ? `| ${c.engine} | ${caseLabel(c)} | error: ${c.error} | | | | |` : `| ${c.engine} | ${caseLabel(c)} | ${pm(m.tokensPerSec)} | ${pm(m.usefulTokensPerSec)} | ${pm(m.latencyMs)} | ${fmt(m.nfe?.mean, 0)} | ${fmt(m.timePerForwardMs?.mean, 2)} |`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

export function renderHtml(results: ResultsFile): string {
  const esc = (s: string) => s.replace(/[&<>]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[ch]!);
  return `<!doctype html><meta charset="utf-8"><title>dllm-bench ${esc(results.runId)}</title><pre>${esc(renderMarkdown(results))}</pre>`;
}

export async function writeReports(results: ResultsFile, dir: string): Promise<void> {
  writeFileSync(join(dir, 'report.md'), renderMarkdown(results));
  writeFileSync(join(dir, 'report.html'), renderHtml(results));
}
