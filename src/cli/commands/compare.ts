import { InvalidArgumentError, type Command } from 'commander';
import { COMPARE_FORMATS as FORMATS, type CompareFormat } from '../../compare/command.js';
import { oneOf } from '../parse.js';

/** "5%" or "5" -> 5 (percent of the baseline mean). */
export function percent(value: string): number {
  const v = value.trim().replace(/%$/, '');
  const n = Number(v);
  if (v === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a percentage >= 0, e.g. 5% or 5.');
  return n;
}

function alpha(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !(n > 0 && n < 1)) throw new InvalidArgumentError('expected a significance level in (0, 1), e.g. 0.05.');
  return n;
}

export function register(program: Command): void {
  program
    .command('compare')
    .description('regression gate: compare a run against a baseline run (exit 0 no regression, 1 regression, 2 unusable input)')
    .argument('<baseline>', 'baseline results.json or run folder')
    .argument('<current>', 'current results.json or run folder')
    .option('--threshold <pct>', 'smallest change that counts, in % of the baseline mean (5% or 5)', percent, 5)
    .option('--alpha <p>', 'significance level for the Mann-Whitney U test on raw samples', alpha, 0.05)
    .option('--format <format>', `output: ${FORMATS.join(' | ')}`, oneOf(FORMATS), 'table')
    .option('--out <file>', 'write the output format to this file instead of stdout')
    .option('--junit <file>', 'also write JUnit XML (one failure per regression)')
    .action(async (baseline: string, current: string, o: { threshold: number; alpha: number; format: CompareFormat; out?: string; junit?: string }) => {
      const { compareCommand } = await import('../../compare/command.js');
      process.exitCode = await compareCommand({ baseline, current, thresholdPct: o.threshold, alpha: o.alpha, format: o.format, out: o.out, junit: o.junit });
    });
}
