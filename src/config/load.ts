/** Config file + flag overrides -> a validated RunConfig, with one-line errors that name the file and field. */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { z } from 'zod';
import { UserError } from '../util/errors.js';
import { decodeUtf8 } from '../util/fs.js';
import { packageRoot } from '../util/version.js';
import { type ConfigPath, type ConfigValue, RunConfig, type RunConfigInput, isUrl } from './schema.js';
import { at } from '../util/indexing.js';

/** A built-in config name (configs/NAME.json) or a path. */
function resolveConfigPath(nameOrPath: string): string {
  if (existsSync(nameOrPath)) return nameOrPath;
  const builtIn = join(packageRoot, 'configs', `${nameOrPath.replace(/\.json$/, '')}.json`);
  if (!isAbsolute(nameOrPath) && existsSync(builtIn)) return builtIn;
  throw new UserError(`config ${nameOrPath}: file not found (built-in configs are in ${join(packageRoot, 'configs')})`);
}

export function readJsonFile(file: string, what: string): unknown {
  let text: string;
  try {
    text = decodeUtf8(readFileSync(file), `${what} ${file}`);
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`${what} ${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UserError(`${what} ${file}: not valid JSON (${(err as Error).message})`);
  }
}

function setPath(obj: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let cur = obj;
  for (const key of path.slice(0, -1)) {
    if (typeof cur[key] !== 'object' || cur[key] === null) cur[key] = {};
    cur = cur[key] as Record<string, unknown>;
  }
  cur[path.at(-1)!] = value;
}

/** One flag's value for one config field; the path is checked against the schema's type (ConfigPath). */
export type Override = ConfigPath extends infer P ? (P extends ConfigPath ? { path: P; value: ConfigValue<P> } : never) : never;

export function formatZodError(err: z.ZodError, source: string): string {
  const issue = at(err.issues, 0, 'err.issues');
  const where = issue.path.length ? issue.path.join('.') : '(root)';
  return `${source}: ${where}: ${issue.message}`;
}

export function loadRunConfig(configArg: string | undefined, overrides: Override[]): { config: RunConfig; source: string } {
  const file = resolveConfigPath(configArg ?? 'default');
  const raw = readJsonFile(file, 'config');
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new UserError(`config ${file}: expected a JSON object`);
  const merged = structuredClone(raw) as Record<string, unknown>;
  for (const o of overrides) setPath(merged, o.path, o.value);
  dropServedOnlyFields(merged, overrides);
  const parsed = RunConfig.safeParse(merged);
  if (!parsed.success) throw new UserError(formatZodError(parsed.error, `config ${file}${overrides.length ? ' (with flags)' : ''}`));
  const config = parsed.data;
  checkCrossFields(config, file);
  return { config, source: file };
}

/**
 * `--endpoint` and `--api-key-env` apply to every served side: on a local side (a preset or folder) the http block
 * they created holds no model name and is dropped, so `--ar URL --ar-model m --endpoint chat` leaves a local
 * diffusion side as it was. A served side left without a model name is then reported by checkCrossFields, naming
 * the flag.
 */
function dropServedOnlyFields(merged: Record<string, unknown>, overrides: Override[]): void {
  for (const side of ['diffusion', 'ar'] as const) {
    const s = merged[side] as { model?: unknown; http?: Record<string, unknown> } | undefined;
    if (!s?.http || s.http.model !== undefined) continue;
    if (overrides.some((o) => o.path[0] === side && o.path[1] === 'http')) delete s.http;
  }
}

/** Combinations zod cannot see; the sampler's own (engine) rules are checked by run/check-config.ts. */
function checkCrossFields(c: RunConfig, file: string): void {
  const fail = (m: string) => {
    throw new UserError(`config ${file}: ${m}`);
  };
  for (const side of ['diffusion', 'ar'] as const) {
    const flag = side === 'ar' ? '--ar-model' : '--diffusion-model';
    if (isUrl(c[side].model) && !c[side].http) fail(`${side}.model is a URL, so the served model's name is required: pass ${flag} NAME (or set ${side}.http.model)`);
  }
}

export type { RunConfigInput };
