/** `dllm-bench compare`: read two runs, judge, print, write the requested exports, return the exit code. */
import { writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { ExitCode, UserError } from '../util/errors.js';
import { assertOutNotInput, readResultsFile } from '../results/read.js';
import { folderErrorReason, mkdirp } from '../util/fs.js';
import { compareResults, hasFailures, type Comparison } from './compare.js';
import { toBenchmarkAction, toBmf } from './export.js';
import { appendStepSummary, githubAnnotations, inGitHubActions } from './github.js';
import { renderJUnit } from './junit.js';
import { renderCompareMarkdown } from './markdown.js';
import { renderCompareTable } from './table.js';

export const COMPARE_FORMATS = ['table', 'md', 'json', 'github-action-benchmark', 'bmf'] as const;
export type CompareFormat = (typeof COMPARE_FORMATS)[number];

export interface CompareCommandOptions {
  baseline: string;
  current: string;
  thresholdPct: number;
  alpha: number;
  format: CompareFormat;
  junit?: string;
  out?: string;
}

export interface CommandIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  env: NodeJS.ProcessEnv;
}

const processIo: CommandIo = { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s), env: process.env };

function writeOutput(file: string, text: string, what: string): void {
  try {
    mkdirp(dirname(file));
    writeFileSync(file, text);
  } catch (err) {
    throw new UserError(`${file}: cannot write ${what} (${folderErrorReason(dirname(file), err)})`);
  }
}

const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;

export function formatComparison(format: CompareFormat, cmp: Comparison, current: Parameters<typeof toBmf>[0]): string {
  switch (format) {
    case 'table':
      // stdout carries the table only; its warnings go to stderr (compareCommand).
      return `${renderCompareTable({ ...cmp, warnings: [] })}\n`;
    case 'md':
      return renderCompareMarkdown(cmp);
    case 'json':
      return json(cmp);
    case 'github-action-benchmark':
      return json(toBenchmarkAction(current));
    case 'bmf':
      return json(toBmf(current));
  }
}

/** Exit code: 0 no regression, 1 regression (or a case that errored in the current run). Unusable input throws. */
export async function compareCommand(o: CompareCommandOptions, io: CommandIo = processIo): Promise<number> {
  // Never replace a measurement with its own comparison.
  for (const [flag, file] of [['--out', o.out], ['--junit', o.junit]] as const) if (file) assertOutNotInput(flag, file, [o.baseline, o.current]);
  const baseline = readResultsFile(o.baseline);
  const current = readResultsFile(o.current);
  const cmp = compareResults(baseline, current, { thresholdPct: o.thresholdPct, alpha: o.alpha });

  const output = formatComparison(o.format, cmp, current);
  // stdout carries the requested format unless --out takes it; the human table then goes to stderr.
  const stdoutIsMachine = o.format !== 'table' && !o.out;
  if (o.out) writeOutput(o.out, o.format === 'table' ? stripVTControlCharacters(output) : output, `--out ${o.format}`);
  else io.stdout(output);
  if (o.format !== 'table' || o.out) io.stderr(`${renderCompareTable(cmp)}\n`);
  else for (const w of cmp.warnings) io.stderr(`warning: ${w}\n`);

  if (o.junit) writeOutput(o.junit, renderJUnit(cmp), 'JUnit XML');
  appendStepSummary(renderCompareMarkdown(cmp), io.env);
  if (inGitHubActions(io.env)) {
    // The runner reads workflow commands from both streams; keep stdout clean when it carries JSON.
    const annotations = githubAnnotations(cmp);
    if (annotations.length > 0) (stdoutIsMachine ? io.stderr : io.stdout)(`${annotations.join('\n')}\n`);
  }
  return hasFailures(cmp) ? ExitCode.failure : ExitCode.ok;
}
