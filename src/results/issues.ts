/** One line from a failed zod parse: the first failing path and its message, with how many more problems there are. */
import type { z } from 'zod';

/** "scenarios[0].cases[2].summary.tokensPerSec.ci95: Invalid input" */
export function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
  return `${path || '(top level)'}: ${issue.message}`;
}

export function firstIssue(error: z.ZodError): string {
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more problems)` : '';
  const [issue] = error.issues;
  return issue ? `${describeIssue(issue)}${more}` : 'invalid';
}
