/**
 * results.json is rewritten after every case, atomically (temp file + rename): a crash never leaves half a file.
 * What is written is first checked against the schema, so every file a run leaves behind is one `report`,
 * `compare` and `claims` can read.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { firstIssue } from './issues.js';
import { ResultsFile as ResultsSchema } from './schema.js';
import type { ResultsFile } from './types.js';

export const RESULTS_FILE = 'results.json';

/** The schema's verdict on an in-memory results object: null when valid, else its first failing path. */
export function resultsProblem(results: ResultsFile): string | null {
  const r = ResultsSchema.safeParse(results);
  return r.success ? null : firstIssue(r.error);
}

export function writeResultsAtomic(dir: string, results: ResultsFile): string {
  const problem = resultsProblem(results);
  // A bug in the writer, not bad input: the previous (valid) file stays in place.
  if (problem) throw new Error(`results.json not written, it would not be valid: ${problem}`);
  const file = join(dir, RESULTS_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(results, null, 2)}\n`);
  renameSync(tmp, file);
  return file;
}

export function newRunId(now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
  return `${stamp}-${Math.random().toString(36).slice(2, 6)}`;
}
