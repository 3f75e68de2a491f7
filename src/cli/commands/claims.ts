import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('claims')
    .description("verdicts on the blog's claims (10x faster, 1000+ tokens/s on H100, GPU and batch efficiency, context scaling and window) from a results file")
    .argument('<results>', 'results.json or run folder')
    .option('--json', 'print the verdicts as JSON on stdout')
    .option('--markdown', 'print a markdown table')
    .action(async (results: string, o: { json?: boolean; markdown?: boolean }) => {
      const { claimsCommand } = await import('../../claims/command.js');
      process.exitCode = await claimsCommand({ results, json: o.json, markdown: o.markdown });
    });
}
