import type { Command } from 'commander';
import { CLAIMS_FORMATS as FORMATS, type ClaimsFormat } from '../../claims/command.js';
import { oneOf } from '../parse.js';

export function register(program: Command): void {
  program
    .command('claims')
    .description("verdicts on the blog's claims (10x faster, 1000+ tokens/s on H100, GPU and batch efficiency, context scaling and window) from a results file")
    .argument('<results>', 'results.json or run folder')
    .option('--format <format>', FORMATS.join(' | '), oneOf(FORMATS), 'table')
    .option('--allow-prompt-mismatch', 'judge a ratio between sides whose prompts differ by more than a few tokens (default: refused)')
    .action(async (results: string, o: { format: ClaimsFormat; allowPromptMismatch?: boolean }) => {
      const { claimsCommand } = await import('../../claims/command.js');
      process.exitCode = await claimsCommand({ results, format: o.format, allowPromptMismatch: Boolean(o.allowPromptMismatch) });
    });
}
