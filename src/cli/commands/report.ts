import type { Command } from 'commander';
import { oneOf } from '../parse.js';

const FORMATS = ['table', 'md', 'html', 'json'] as const;

export function register(program: Command): void {
  program
    .command('report')
    .description('render a past run from its results.json: console table, Markdown, self-contained HTML with charts, or JSON')
    .argument('<results>', 'a results.json or the run folder holding it')
    .option('--format <format>', FORMATS.join(' | '), oneOf(FORMATS), 'table')
    .option('--out <file>', 'write to a file instead of stdout')
    .action(async (resultsArg: string, o: { format: (typeof FORMATS)[number]; out?: string }) => {
      const { assertOutNotInput, readResultsFile } = await import('../../results/read.js');
      const report = await import('../../report/index.js');
      if (o.out) assertOutNotInput('--out', o.out, [resultsArg]);
      const results = readResultsFile(resultsArg);
      const text =
        o.format === 'table'
          ? report.renderTable(results)
          : o.format === 'md'
            ? report.renderMarkdown(results)
            : o.format === 'html'
              ? await report.renderHtml(results)
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
