import type { Command } from 'commander';
import { oneOf } from '../parse.js';

const FORMATS = ['table', 'md', 'html', 'json', 'csv', 'jsonl'] as const;

export function register(program: Command): void {
  program
    .command('report')
    .description('render a past run from its results.json: console table, Markdown, self-contained HTML with charts, JSON, or one row per case (csv, jsonl)')
    .argument('<results>', 'a results.json or the run folder holding it')
    .option('--format <format>', FORMATS.join(' | '), oneOf(FORMATS), 'table')
    .option('--out <file>', 'write to a file instead of stdout')
    .option('--wide', 'table: every column, whatever the terminal width')
    .action(async (resultsArg: string, o: { format: (typeof FORMATS)[number]; out?: string; wide?: boolean }) => {
      const { assertOutNotInput, readResultsFile } = await import('../../results/read.js');
      const report = await import('../../report/index.js');
      if (o.out) assertOutNotInput('--out', o.out, [resultsArg]);
      const results = readResultsFile(resultsArg);
      const { terminalWidth } = await import('../../util/format.js');
      const text =
        o.format === 'table'
          ? report.renderTable(results, { width: o.out ? Infinity : terminalWidth(process.env, process.stdout.columns), wide: o.wide ?? false })
          : o.format === 'md'
            ? report.renderMarkdown(results)
            : o.format === 'html'
              ? await report.renderHtml(results)
              : o.format === 'csv'
                ? report.renderCsv(results)
                : o.format === 'jsonl'
                  ? report.renderJsonl(results)
                  : report.renderJson(results);
      if (o.out) {
        const { writeFileSync } = await import('node:fs');
        const { UserError } = await import('../../util/errors.js');
        try {
          writeFileSync(o.out, `${text}\n`);
        } catch (err) {
          throw new UserError(`${o.out}: cannot write (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
        }
      } else process.stdout.write(`${text}\n`); // the requested report, whatever its format (README, Commands)
    });
}
