/**
 * results.json is rewritten after every case, atomically (temp file + rename): a crash never leaves half a file.
 * What is written is first checked against the schema, so every file a run leaves behind is one `report`,
 * `compare` and `claims` can read.
 */
import { renameSync, rmSync, writeFileSync } from 'node:fs';
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

/** The file system refused a write (disk full, read-only, ...): the previous results.json is untouched. */
export class ResultsWriteError extends Error {
  constructor(
    readonly file: string,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'ResultsWriteError';
  }
}

/**
 * An invalid object throws before anything is written: the previous (valid) file stays in place. A failed write
 * (ENOSPC, EIO, ...) removes its temporary file and throws a ResultsWriteError; the previous file stays too.
 */
export function writeResultsAtomic(dir: string, results: ResultsFile, fs: { writeFileSync: typeof writeFileSync } = { writeFileSync }): string {
  const text = serializeResults(results);
  const file = join(dir, RESULTS_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(tmp, `${text}\n`);
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    const code = (err as NodeJS.ErrnoException).code;
    const what = code === 'ENOSPC' ? 'disk full' : code === 'EDQUOT' ? 'disk quota exceeded' : code === 'EROFS' ? 'read-only file system' : 'write failed';
    throw new ResultsWriteError(file, code, `${what}: cannot write ${file} (${code ?? (err instanceof Error ? err.message : String(err))})`);
  }
  return file;
}

export function newRunId(now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
  return `${stamp}-${Math.random().toString(36).slice(2, 6)}`;
}
