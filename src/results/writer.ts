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

/**
 * results.json's text: checked against the schema, fields in schema order, so a run's in-memory results, the file
 * it wrote and that file read back all serialize to the same bytes (`run --json`, `report --format json`).
 */
export function serializeResults(results: ResultsFile): string {
  const checked = ResultsSchema.safeParse(results);
  // A bug in the code that built the object, not bad input.
  if (!checked.success) throw new Error(`results.json not written, it would not be valid: ${firstIssue(checked.error)}`);
  return JSON.stringify(checked.data, null, 2);
}

/** An invalid object throws before anything is written: the previous (valid) file stays in place. */
export function writeResultsAtomic(dir: string, results: ResultsFile): string {
  const text = serializeResults(results);
  const file = join(dir, RESULTS_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${text}\n`);
  renameSync(tmp, file);
  return file;
}

export function newRunId(now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
  return `${stamp}-${Math.random().toString(36).slice(2, 6)}`;
}
