/**
 * Reads a results.json (or the run folder holding one) for report, compare and claims: older schema versions are
 * migrated, then the whole file is validated with the one schema (src/results/schema.ts). Any problem is one
 * UserError line (exit code 2) naming the file and, for an invalid file, the first failing path.
 */
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UserError } from '../util/errors.js';
import { firstIssue } from './issues.js';
import { MIGRATIONS, MigrationError } from './migrate.js';
import { ResultsFile as ResultsSchema, SCHEMA_VERSION } from './schema.js';
import type { ResultsFile } from './types.js';
import { RESULTS_FILE } from './writer.js';

/**
 * Checks already-parsed JSON; `label` names the source in the error (a path, or "baseline" in tests).
 * A foreign file says so before any field-level detail; a version this reader does not know says which.
 */
export function parseResults(value: unknown, label: string): ResultsFile {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UserError(`${label}: not a dllm-bench results file (the JSON is not an object)`);
  }
  let v = value as Record<string, unknown>;
  const tool = v.tool as Record<string, unknown> | undefined;
  if (typeof tool !== 'object' || tool === null || tool.name !== 'dllm-bench') {
    const name = typeof tool === 'object' && tool !== null && 'name' in tool ? JSON.stringify(tool.name) : 'missing';
    throw new UserError(`${label}: not a dllm-bench results file (tool.name is ${name})`);
  }
  const version = v.schemaVersion;
  let migrated = '';
  if (version !== SCHEMA_VERSION) {
    const steps: ((f: Record<string, unknown>) => Record<string, unknown>)[] = [];
    for (let n = version; typeof n === 'number' && n < SCHEMA_VERSION; n++) {
      const step = MIGRATIONS[n];
      if (!step) break;
      steps.push(step);
    }
    if (typeof version !== 'number' || version + steps.length !== SCHEMA_VERSION) {
      const newer = typeof version === 'number' && version > SCHEMA_VERSION;
      throw new UserError(
        `${label}: results schemaVersion ${JSON.stringify(version ?? null)} (written by dllm-bench ${String(tool.version ?? '?')}); ` +
          `this dllm-bench reads schemaVersion ${Object.keys(MIGRATIONS).join(', ')} and ${SCHEMA_VERSION}` +
          (newer ? '; use the dllm-bench version that wrote it, or a newer one' : '; re-run the benchmark with this version'),
      );
    }
    try {
      for (const step of steps) v = step(v);
    } catch (err) {
      if (err instanceof MigrationError) throw new UserError(`${label}: cannot migrate from schemaVersion ${version}: ${err.message}`);
      throw err;
    }
    migrated = ` (migrated from schemaVersion ${version})`;
  }
  const parsed = ResultsSchema.safeParse(v);
  if (!parsed.success) throw new UserError(`${label}: invalid results file${migrated}: ${firstIssue(parsed.error)}`);
  return parsed.data;
}

/** results.json, or a run folder that holds one. */
export function readResultsFile(pathOrDir: string): ResultsFile {
  let file = pathOrDir;
  if (existsSync(pathOrDir) && statSync(pathOrDir).isDirectory()) {
    file = join(pathOrDir, RESULTS_FILE);
    if (!existsSync(file)) throw new UserError(`${pathOrDir}: folder has no ${RESULTS_FILE} (is it a dllm-bench run folder?)`);
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (code ?? 'cannot read');
    throw new UserError(`${file}: cannot read results file (${reason})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UserError(`${file}: not JSON (${(err as Error).message.split('\n')[0]})`);
  }
  return parseResults(value, file);
}

/** The paths a results input may stand for: the file itself, and for a run folder its results.json. */
function inputPaths(input: string): string[] {
  const real = (p: string) => (existsSync(p) ? realpathSync(p) : resolve(p));
  const paths = [real(input)];
  if (existsSync(input) && statSync(input).isDirectory()) paths.push(real(join(input, RESULTS_FILE)));
  return paths;
}

/** `--out` (or any output file) must not be one of the command's inputs: writing it would destroy the measurements. */
export function assertOutNotInput(flag: string, out: string, inputs: string[]): void {
  const target = existsSync(out) ? realpathSync(out) : resolve(out);
  for (const input of inputs) {
    if (inputPaths(input).includes(target)) throw new UserError(`${flag} ${out} is the input ${input}: it would replace the results; write to another file`);
  }
}
