/** `dllm-bench claims`: verdicts on the blog's claims from one results file. Exit 0 whatever the verdicts. */
import { ExitCode } from '../util/errors.js';
import { readResultsFile } from '../results/read.js';
import { evaluateClaims } from './claims.js';
import { renderClaimsJson, renderClaimsMarkdown, renderClaimsText } from './render.js';

export const CLAIMS_FORMATS = ['table', 'md', 'json'] as const;
export type ClaimsFormat = (typeof CLAIMS_FORMATS)[number];

export interface ClaimsCommandOptions {
  results: string;
  format: ClaimsFormat;
  /** Judge a ratio between sides whose prompts differ by more than a few tokens (default: refuse it). */
  allowPromptMismatch?: boolean;
}

/** The requested report goes to stdout, whatever its format (README, Commands: stdout and stderr). */
export async function claimsCommand(o: ClaimsCommandOptions, stdout: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  const r = readResultsFile(o.results);
  const verdicts = evaluateClaims(r, o.allowPromptMismatch ? { promptToleranceTokens: Infinity } : {});
  switch (o.format) {
    case 'json':
      stdout(renderClaimsJson(verdicts, r));
      break;
    case 'md':
      stdout(renderClaimsMarkdown(verdicts, r));
      break;
    case 'table':
      stdout(`${renderClaimsText(verdicts, r)}\n`);
      break;
  }
  return ExitCode.ok;
}
