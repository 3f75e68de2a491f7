/**
 * The results folder of a run: never destroy what a user already has. A folder that holds a run's files is written
 * into only with --force; nothing is written (not even the folder created) before the run has measured something;
 * a failed write (disk full) keeps the last complete results.json and says which cases it holds.
 */
import { accessSync, constants, existsSync, rmSync, rmdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { RESULTS_FILE, ResultsWriteError, writeResultsAtomic } from '../results/writer.js';
import type { ResultsFile } from '../results/types.js';
import { UserError } from '../util/errors.js';
import { fileInTheWay, folderErrorReason, mkdirp } from '../util/fs.js';

/** What a run writes into its folder. */
export const RUN_FILES = [RESULTS_FILE, 'report.md', 'report.html'] as const;

/** Checks, without writing anything, that a run may write its results into `dir`. */
export function checkOutDir(dir: string, force: boolean): void {
  const abs = resolve(dir);
  const blocker = fileInTheWay(abs);
  if (blocker) throw new UserError(`--out ${dir}: cannot write output folder: ${blocker === abs ? 'it exists and is not a folder' : `${blocker} is a file, not a folder`}`);
  if (!existsSync(abs)) {
    // Proven by creating it and removing it again: permissions alone do not tell (root under /proc, read-only mounts).
    try {
      const created = mkdirp(abs);
      for (const d of created.reverse()) rmdirSync(d);
    } catch (err) {
      throw new UserError(`--out ${dir}: cannot write output folder: ${folderErrorReason(abs, err)}`);
    }
    return;
  }
  try {
    accessSync(abs, constants.W_OK);
  } catch (err) {
    throw new UserError(`--out ${dir}: cannot write output folder: ${folderErrorReason(abs, err)}`);
  }
  if (force) return;
  const found = RUN_FILES.filter((f) => existsSync(join(abs, f)));
  if (found.length > 0) {
    throw new UserError(`--out ${dir} already holds a run's results (${found.join(', ')}); choose another folder, or pass --force to replace them`);
  }
}

function caseIds(results: ResultsFile): string[] {
  return results.scenarios.flatMap((s) => s.cases.map((c) => c.id));
}

export interface Persister {
  /** Writes results.json once there is something in it (a measured or failed case, an error); returns its path, or null when not written. */
  save(results: ResultsFile): string | null;
  /** The path of the last complete write, or null when nothing has been written. */
  readonly path: string | null;
  /** The case ids the last complete write holds. */
  readonly savedCases: string[];
}

export function createPersister(dir: string, opts: { force: boolean; write?: typeof writeResultsAtomic }): Persister {
  const abs = resolve(dir);
  const write = opts.write ?? writeResultsAtomic;
  let path: string | null = null;
  let savedCases: string[] = [];
  return {
    save(results) {
      // A case interrupted before its first repetition holds no measurement: not a reason to write.
      const hasContent = results.errors.length > 0 || results.scenarios.some((s) => s.cases.some((c) => c.state === 'errored' || c.samples.length > 0));
      if (!hasContent && path === null) return null;
      if (path === null) {
        try {
          mkdirp(abs);
        } catch (err) {
          throw new ResultsWriteError(join(abs, RESULTS_FILE), (err as NodeJS.ErrnoException).code, `cannot create ${dir}: ${folderErrorReason(abs, err)}`);
        }
        // --force: the previous run's reports must not stand beside the new results.
        if (opts.force) for (const f of RUN_FILES) rmSync(join(abs, f), { force: true });
      }
      path = write(abs, results);
      savedCases = caseIds(results);
      return path;
    },
    get path() {
      return path;
    },
    get savedCases() {
      return savedCases;
    },
  };
}

/** One line for a failed write: what happened, and what the results.json on disk still holds. */
export function describeWriteFailure(err: ResultsWriteError, p: Persister): string {
  if (p.path === null) return `${err.message}; no results.json was written`;
  const n = p.savedCases.length;
  return `${err.message}; ${p.path} keeps the last complete write: ${n} case${n === 1 ? '' : 's'}${n ? ` (${p.savedCases.join(', ')})` : ''}`;
}
