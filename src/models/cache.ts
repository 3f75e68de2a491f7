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
import { type DownloadProgress, ensureSnapshot } from './hub-download.js';
import { parseHubRef } from './hf-cache.js';
import { DEFAULT_FAMILY, type FamilyRole, familiesFor, familyOf, specFromConfig } from './families.js';
import { PRESETS, TRAINED_PRESETS, presetFamily } from './presets.js';
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
  /** The family a preset was built in (null for a folder or hub reference: its config says). */
  family: Family | null;
}

export function isPresetName(ref: string): boolean {
  return Object.hasOwn(PRESETS, ref) || Object.hasOwn(TRAINED_PRESETS, ref);
}

/** The shipped checkpoint folder of a trained preset for one family. */
export function trainedCheckpointDir(ref: string, family: Family): string {
  return join(packageRoot, TRAINED_PRESETS[ref]!.folder, family);
}

/** The family a preset reference builds on one side (trained presets ship llada and llama checkpoints). */
export function presetFamilyOf(ref: string, role: FamilyRole): Family {
  return Object.hasOwn(PRESETS, ref) ? presetFamily(PRESETS[ref]!, role) : DEFAULT_FAMILY[role];
}

/** A side of the comparison, or a family (which names its side, and the family a preset is built in). */
export type SideOrFamily = FamilyRole | Family;

function roleOf(side: SideOrFamily): FamilyRole {
  return side === 'diffusion' || side === 'ar' ? side : familyOf(side).role;
}

/** Cheap check (no building) that a reference names a preset or a valid model folder for one side. */
export function checkModelRef(ref: string, side: SideOrFamily): string | null {
  const role = roleOf(side);
  if (isPresetName(ref)) return null;
  // owner/name[@revision]: a Hugging Face hub model, fetched (and checked) by resolveHubModel when the run starts.
  if (isHubId(ref)) return ref;
  if (!existsSync(ref)) throw new UserError(`model ${ref}: not a preset (${[...Object.keys(PRESETS), ...Object.keys(TRAINED_PRESETS)].join(', ')}) and no such folder`);
  const folder = loadModelFolder(ref);
  if (familyOf(folder.meta.family).role !== role) {
    throw new UserError(`model ${ref}: a ${folder.meta.family} model, but this side needs ${familiesFor(role).map((f) => `a ${f} model`).join(' or ')}`);
  }
  return folder.dir;
}

export function resolveModelRef(ref: string, side: SideOrFamily, opts: { dtype: OnnxDtype; seed: number }): ResolvedModel {
  const folderDir = checkModelRef(ref, side);
  if (folderDir) return { dir: folderDir, preset: null, built: false, buildSeconds: 0, family: null };
  const family = side === 'diffusion' || side === 'ar' ? presetFamilyOf(ref, side) : side;
  const trained = Object.hasOwn(TRAINED_PRESETS, ref);
  const source = trained ? trainedCheckpointDir(ref, family) : null;
  if (source && !existsSync(join(source, 'model.safetensors'))) throw new UserError(`preset ${ref}: ${source}/model.safetensors is missing from this installation`);
  // Trained weights are keyed by their content (a retrained checkpoint converts afresh), synthetic ones by seed.
  const variant = source ? createHash('sha256').update(readFileSync(join(source, 'model.safetensors'))).digest('hex').slice(0, 12) : `seed${opts.seed}`;
  const dir = join(cacheRoot(), 'models', `${ref}-${family}-${opts.dtype}-${variant}-v${MODEL_FORMAT_VERSION}`);
  if (existsSync(join(dir, 'config.json'))) {
    try {
      loadModelFolder(dir);
      return { dir, preset: ref, built: false, buildSeconds: 0, family };
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
    return { dir, preset: ref, built: true, buildSeconds: r.seconds, family };
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    if (err instanceof UserError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(`cannot build preset ${ref} into ${cacheRoot()}: ${code ?? (err as Error).message} (set DLLM_BENCH_CACHE to a writable folder)`);
  }
}

/**
 * The cache entry of a converted hub snapshot: hub-<owner>-<name>-<commit, 12 hex>-<dtype>-v<format>. No "--" in
 * the name: transformers.js refuses such a folder name as a model id.
 */
export function hubEntryName(repo: string, commit: string, dtype: OnnxDtype): string {
  return `hub-${repo.replace('/', '-')}-${commit.slice(0, 12)}-${dtype}-v${MODEL_FORMAT_VERSION}`;
}

/** Matches hubEntryName's names: [1] owner-name, [2] commit prefix, [3] dtype, [4] format version. */
export const HUB_ENTRY = /^hub-(.+)-([0-9a-f]{12})-(fp32|fp16)-v(\d+)$/;

/**
 * owner/name[@revision] -> a converted model folder: the snapshot comes from the Hugging Face cache (downloaded
 * into it when missing: hub-download.ts), then is converted once into this cache, keyed by the snapshot's commit
 * and the dtype. A second call makes no request and converts nothing.
 */
export async function resolveHubModel(
  ref: string,
  side: SideOrFamily,
  opts: { dtype: OnnxDtype; onProgress?: (p: DownloadProgress) => void },
): Promise<ResolvedModel & { commit: string; downloaded: number }> {
  const h = parseHubRef(ref);
  if (!h) throw new UserError(`${ref}: not a hub id (owner/name[@revision])`);
  const snap = await ensureSnapshot(h, { onProgress: opts.onProgress });
  const configFile = join(snap.dir, 'config.json');
  const spec = specFromConfig(JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>, `${ref} (config.json)`);
  const role = roleOf(side);
  if (familyOf(spec.family).role !== role) {
    throw new UserError(`model ${ref}: a ${spec.family} model, but this side needs ${familiesFor(role).map((f) => `a ${f} model`).join(' or ')}`);
  }
  const dir = join(cacheRoot(), 'models', hubEntryName(h.repo, snap.commit, opts.dtype));
  const base = { preset: null, family: spec.family, commit: snap.commit, downloaded: snap.downloaded };
  if (existsSync(join(dir, 'config.json'))) {
    try {
      loadModelFolder(dir);
      return { ...base, dir, built: false, buildSeconds: 0 };
    } catch {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const r = buildAtomically(dir, ref, (tmp) => convertCheckpoint(snap.dir, tmp, { dtype: opts.dtype }));
  return { ...base, dir, built: true, buildSeconds: r.seconds };
}

/** Builds into DIR.tmp-PID and renames, so that an interrupted build never leaves a half-written cache entry. */
function buildAtomically(dir: string, ref: string, build: (tmp: string) => { seconds: number }): { seconds: number } {
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  try {
    mkdirSync(tmp, { recursive: true });
    const r = build(tmp);
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
    return r;
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    if (err instanceof UserError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(`cannot build ${ref} into ${cacheRoot()}: ${code === 'ENOSPC' ? 'no space left on the device' : (code ?? (err as Error).message)} (set DLLM_BENCH_CACHE to a writable folder with room)`);
  }
}
