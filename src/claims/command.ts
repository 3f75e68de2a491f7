/** `dllm-bench claims`: verdicts on the blog's claims from one results file. Exit 0 whatever the verdicts. */
import { ExitCode } from '../util/errors.js';
import { readResultsFile } from '../results/read.js';
import { evaluateClaims } from './claims.js';
import { renderClaimsJson, renderClaimsMarkdown, renderClaimsText } from './render.js';

export interface ClaimsCommandOptions {
  results: string;
  json?: boolean;
  markdown?: boolean;
}

export async function claimsCommand(o: ClaimsCommandOptions, stdout: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  const r = readResultsFile(o.results);
  const verdicts = evaluateClaims(r);
  if (o.json) stdout(renderClaimsJson(verdicts, r));
  else if (o.markdown) stdout(renderClaimsMarkdown(verdicts, r));
  else stdout(`${renderClaimsText(verdicts, r)}\n`);
  return ExitCode.ok;
}
