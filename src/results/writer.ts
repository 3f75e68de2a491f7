/** results.json is rewritten after every case, atomically (temp file + rename): a crash never leaves half a file. */
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ResultsFile } from './types.js';

export const RESULTS_FILE = 'results.json';

export function writeResultsAtomic(dir: string, results: ResultsFile): string {
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
