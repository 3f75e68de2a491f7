/** GitHub Actions integration: the step summary and error annotations (workflow commands). */
import { appendFileSync } from 'node:fs';
import type { Comparison } from './compare.js';
import { failureLine, failureTitle } from './format.js';

/** GitHub shows at most 10 error annotations per step; more would only be dropped. */
export const MAX_ANNOTATIONS = 10;

// Workflow-command escaping (the runner's own rules): data escapes % CR LF; properties also : and ,.
const escapeData = (s: string) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const escapeProperty = (s: string) => escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');

/** `::error title=...::...` lines, at most MAX_ANNOTATIONS, plus a plain line saying how many were left out. */
export function githubAnnotations(c: Comparison, max = MAX_ANNOTATIONS): string[] {
  const lines = c.failures.slice(0, max).map((f) => {
    return `::error title=${escapeProperty(failureTitle(f))}::${escapeData(failureLine(f))}`;
  });
  if (c.failures.length > max) lines.push(`(${c.failures.length - max} more regressions are listed in the step summary and the JUnit report)`);
  return lines;
}

/** Appends the markdown summary to $GITHUB_STEP_SUMMARY when the runner provides it; returns whether it did. */
export function appendStepSummary(markdown: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const file = env.GITHUB_STEP_SUMMARY;
  if (!file) return false;
  appendFileSync(file, markdown.endsWith('\n') ? markdown : `${markdown}\n`);
  return true;
}

export const inGitHubActions = (env: NodeJS.ProcessEnv = process.env): boolean => env.GITHUB_ACTIONS === 'true';
