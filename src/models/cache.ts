/**
 * Model references in configs: a preset name is built once into a cache folder and reused; anything else must be
 * an existing model folder. The cache key includes the model format version, so an upgraded tool rebuilds.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../util/errors.js';
import { packageRoot } from '../util/version.js';
import { buildPreset, convertCheckpoint } from './build.js';
import type { OnnxDtype } from './dtype.js';
import { MODEL_FORMAT_VERSION, loadModelFolder } from './folder.js';
import { isHubId } from './hub.js';
import { PRESETS, TRAINED_PRESETS } from './presets.js';
import type { Family } from './spec.js';

export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DLLM_BENCH_CACHE) return env.DLLM_BENCH_CACHE;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'dllm-bench');
}

export interface ResolvedModel {
  dir: string;
  /** Preset name when the reference was a preset. */
  preset: string | null;
  /** True when this call built it. */
  built: boolean;
  buildSeconds: number;
}

export function isPresetName(ref: string): boolean {
  return Object.hasOwn(PRESETS, ref) || Object.hasOwn(TRAINED_PRESETS, ref);
}

/** The shipped checkpoint folder of a trained preset for one family. */
export function trainedCheckpointDir(ref: string, family: Family): string {
  return join(packageRoot, TRAINED_PRESETS[ref]!.folder, family);
}

/** Cheap check (no building) that a reference names a preset or a valid model folder of the family. */
export function checkModelRef(ref: string, family: Family): string | null {
  if (isPresetName(ref)) return null;
  // owner/name: a Hugging Face hub model for the transformers.js engine, resolved (and checked) when it loads.
  if (family === 'llama' && isHubId(ref)) return ref;
  if (!existsSync(ref)) throw new UserError(`model ${ref}: not a preset (${[...Object.keys(PRESETS), ...Object.keys(TRAINED_PRESETS)].join(', ')}) and no such folder`);
  const folder = loadModelFolder(ref);
  if (folder.meta.family !== family) {
    throw new UserError(`model ${ref}: a ${folder.meta.family} model, but this side needs a ${family} model`);
  }
  return folder.dir;
}

/** What a cache entry holds: a preset for one family and dtype, its weights' variant, the model format it was built in. */
export interface CacheEntryKey {
  preset: string;
  family: Family;
  dtype: OnnxDtype;
  /** Synthetic presets: `seed<N>`; trained presets: the first 12 hex digits of the checkpoint's SHA-256. */
  variant: string;
  formatVersion: number;
}

/** The one place cache entries are named (resolveModelRef builds there; doctor reads names back with parseCacheEntryName). */
export function cacheEntryName(k: CacheEntryKey): string {
  return `${k.preset}-${k.family}-${k.dtype}-${k.variant}-v${k.formatVersion}`;
}

const ENTRY = /^(.+)-(llada|llama)-(fp32|fp16)-(seed\d+|[0-9a-f]{12})-v(\d+)$/;

/** The inverse of cacheEntryName; null for a name it never gives. */
export function parseCacheEntryName(name: string): CacheEntryKey | null {
  const m = ENTRY.exec(name);
  return m ? { preset: m[1]!, family: m[2] as Family, dtype: m[3] as OnnxDtype, variant: m[4]!, formatVersion: Number(m[5]) } : null;
}

/** "seed 0" or "trained weights c476520d1910". */
export function variantText(variant: string): string {
  return variant.startsWith('seed') ? `seed ${variant.slice(4)}` : `trained weights ${variant}`;
}

export function resolveModelRef(ref: string, family: Family, opts: { dtype: OnnxDtype; seed: number }): ResolvedModel {
  const folderDir = checkModelRef(ref, family);
  if (folderDir) return { dir: folderDir, preset: null, built: false, buildSeconds: 0 };
  const trained = Object.hasOwn(TRAINED_PRESETS, ref);
  const source = trained ? trainedCheckpointDir(ref, family) : null;
  if (source && !existsSync(join(source, 'model.safetensors'))) throw new UserError(`preset ${ref}: ${source}/model.safetensors is missing from this installation`);
  // Trained weights are keyed by their content (a retrained checkpoint converts afresh), synthetic ones by seed.
  const variant = source ? createHash('sha256').update(readFileSync(join(source, 'model.safetensors'))).digest('hex').slice(0, 12) : `seed${opts.seed}`;
  const dir = join(cacheRoot(), 'models', cacheEntryName({ preset: ref, family, dtype: opts.dtype, variant, formatVersion: MODEL_FORMAT_VERSION }));
  if (existsSync(join(dir, 'config.json'))) {
    try {
      loadModelFolder(dir);
      return { dir, preset: ref, built: false, buildSeconds: 0 };
    } catch {
      rmSync(dir, { recursive: true, force: true }); // a broken cache entry is rebuilt
    }
  }
  // Build into a temp folder and rename, so an interrupted build never leaves a half-written cache entry.
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    const r = source ? convertCheckpoint(source, tmp, { dtype: opts.dtype }) : buildPreset(tmp, { preset: ref, family, seed: opts.seed, dtype: opts.dtype });
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
    return { dir, preset: ref, built: true, buildSeconds: r.seconds };
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    if (err instanceof UserError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(`cannot build preset ${ref} into ${cacheRoot()}: ${code ?? (err as Error).message} (set DLLM_BENCH_CACHE to a writable folder)`);
  }
}
