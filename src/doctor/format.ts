/** Pure formatting of doctor results: an aligned, marked list for people; JSON for machines. */
import chalk from 'chalk';
import { type CheckResult, type CheckStatus, countByStatus, doctorReport } from './checks.js';

export const DOCTOR_FORMATS = ['table', 'json'] as const;
export type DoctorFormat = (typeof DOCTOR_FORMATS)[number];

const MARKS: Record<CheckStatus, string> = { ok: '✓', warn: '!', fail: '✗', skip: '-' };
const PAINT: Record<CheckStatus, (s: string) => string> = {
  ok: (s) => chalk.green(s),
  warn: (s) => chalk.yellow(s),
  fail: (s) => chalk.red(s),
  skip: (s) => chalk.dim(s),
};
/** Ids longer than this (model paths) do not widen the whole column. */
const MAX_ID_WIDTH = 14;

/**
 * One line per check (`✓ id  summary`), its detail and fix indented under the summary, then a tally line.
 * Colour comes from chalk's global level (set once in util/color.ts, called by cli/main.ts).
 */
export function formatChecks(checks: readonly CheckResult[]): string {
  const width = Math.min(MAX_ID_WIDTH, Math.max(0, ...checks.map((c) => c.id.length)));
  const indent = ' '.repeat(2 + width + 2);
  const lines: string[] = [];
  for (const c of checks) {
    const id = c.id.length > width ? c.id : c.id.padEnd(width);
    lines.push(`${PAINT[c.status](MARKS[c.status])} ${chalk.bold(id)}  ${c.summary}`);
    for (const d of (c.detail ?? '').split('\n')) if (d.trim() !== '') lines.push(`${indent}${chalk.dim(d.trimEnd())}`);
    if (c.fix) lines.push(`${indent}${PAINT[c.status]('fix:')} ${c.fix}`);
  }
  lines.push('', tally(checks));
  return `${lines.join('\n')}\n`;
}

/** `2 ok, 1 warning, 0 failed, 1 skipped` and what it means for a run. */
export function tally(checks: readonly CheckResult[]): string {
  const n = countByStatus(checks);
  const text = `${n.ok} ok, ${n.warn} warning${n.warn === 1 ? '' : 's'}, ${n.fail} failed, ${n.skip} skipped`;
  return n.fail > 0 ? chalk.red(`${text}: fix the failed checks above`) : text;
}

export function formatJson(checks: CheckResult[]): string {
  return `${JSON.stringify(doctorReport(checks), null, 2)}\n`;
}
