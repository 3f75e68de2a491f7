import type { CaseResult } from '../results/types.js';

/** The row text of a case that did not complete: "error: ..." or "aborted after 2 runs: interrupted". */
export function notCompleted(c: Exclude<CaseResult, { state: 'completed' }>): string {
  return c.state === 'aborted' ? `aborted after ${c.samples.length} run${c.samples.length === 1 ? '' : 's'}: ${c.error}` : `error: ${c.error}`;
}
