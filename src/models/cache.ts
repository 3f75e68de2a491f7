/**
 * Model references in configs: a preset name is built once into a cache folder and reused; anything else must be
 * an existing model folder. The cache key includes the model format version, so an upgraded tool rebuilds.
 */
import { at, field } from '../util/indexing.js';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ExitCode, UserError, errorMessage } from '../util/errors.js';
import { fileInTheWay, folderErrorReason, mkdirp } from '../util/fs.js';
import { packageRoot } from '../util/version.js';
import { buildPreset, convertCheckpoint } from './build.js';
import type { BuildJob, BuildReply } from './build-worker.js';
import type { OnnxDtype } from './dtype.js';
import { MODEL_FORMAT_VERSION, loadModelFolder, loadVerifiedModelFolder } from './folder.js';
import { isHubId } from './hub.js';
import { type DownloadProgress, ensureSnapshot } from './hub-download.js';
import { parseHubRef } from './hf-cache.js';
import { DEFAULT_FAMILY, FAMILY_NAMES, type FamilyRole, familiesFor, familyOf, specFromConfig } from './families.js';
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
  /** Set when a damaged cache entry was found and rebuilt: what was wrong with it. */
  rebuiltBecause?: string;
  /** The family a preset was built in (null for a folder or hub reference: its config says). */
  family: Family | null;
}

export function isPresetName(ref: string): boolean {
  return Object.hasOwn(PRESETS, ref) || Object.hasOwn(TRAINED_PRESETS, ref);
}

/** The shipped checkpoint folder of a trained preset for one family. */
export function trainedCheckpointDir(ref: string, family: Family): string {
  return join(packageRoot, field(TRAINED_PRESETS, ref, 'TRAINED_PRESETS').folder, family);
}

/** The family a preset reference builds on one side (trained presets ship llada and llama checkpoints). */
export function presetFamilyOf(ref: string, role: FamilyRole): Family {
  return Object.hasOwn(PRESETS, ref) ? presetFamily(field(PRESETS, ref, 'PRESETS'), role) : DEFAULT_FAMILY[role];
}

/** A side of the comparison, or a family (which names its side, and the family a preset is built in). */
export type SideOrFamily = FamilyRole | Family;

function roleOf(side: SideOrFamily): FamilyRole {
  return side === 'diffusion' || side === 'ar' ? side : familyOf(side).role;
}

/** Cheap check (no building) that a reference names a preset or a valid model folder for one side. */
export function checkModelRef(ref: string, side: SideOrFamily, opts: { verify?: boolean } = {}): string | null {
  const role = roleOf(side);
  if (isPresetName(ref)) return null;
  // owner/name[@revision]: a Hugging Face hub model, fetched (and checked) by resolveHubModel when the run starts.
  if (isHubId(ref)) return ref;
  if (!existsSync(ref)) throw new UserError(`model ${ref}: not a preset (${[...Object.keys(PRESETS), ...Object.keys(TRAINED_PRESETS)].join(', ')}) and no such folder`);
  // verify: the recorded hashes too (a damaged file of the right size); sizes are always checked.
  const folder = (opts.verify ?? true) ? loadVerifiedModelFolder(ref) : loadModelFolder(ref);
  if (familyOf(folder.meta.family).role !== role) {
    throw new UserError(`model ${ref}: a ${folder.meta.family} model, but this side needs ${familiesFor(role).map((f) => `a ${f} model`).join(' or ')}`);
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

const ENTRY = new RegExp(`^(.+)-(${FAMILY_NAMES.join('|')})-(fp32|fp16)-(seed\\d+|[0-9a-f]{12})-v(\\d+)$`);

/** The inverse of cacheEntryName; null for a name it never gives. */
export function parseCacheEntryName(name: string): CacheEntryKey | null {
  const m = ENTRY.exec(name);
  return m ? { preset: at(m, 1, 'm'), family: m[2] as Family, dtype: m[3] as OnnxDtype, variant: at(m, 4, 'm'), formatVersion: Number(m[5]) } : null;
}

/** "seed 0" or "trained weights c476520d1910". */
export function variantText(variant: string): string {
  return variant.startsWith('seed') ? `seed ${variant.slice(4)}` : `trained weights ${variant}`;
}

interface CacheSlot {
  dir: string;
  /** The shipped checkpoint of a trained preset; null for a synthetic one. */
  source: string | null;
  family: Family;
}

/** A preset's cache folder, or the resolved model when the reference is a folder or a sound cache entry. */
function lookup(ref: string, side: SideOrFamily, opts: { dtype: OnnxDtype; seed: number }): { found: ResolvedModel } | { slot: CacheSlot; rebuiltBecause?: string } {
  // A folder named by the user was verified when the command checked its references (checkModelRef).
  const folderDir = checkModelRef(ref, side, { verify: false });
  if (folderDir) return { found: { dir: folderDir, preset: null, built: false, buildSeconds: 0, family: null } };
  const family = side === 'diffusion' || side === 'ar' ? presetFamilyOf(ref, side) : side;
  const trained = Object.hasOwn(TRAINED_PRESETS, ref);
  const source = trained ? trainedCheckpointDir(ref, family) : null;
  if (source && !existsSync(join(source, 'model.safetensors'))) throw new UserError(`preset ${ref}: ${source}/model.safetensors is missing from this installation`);
  // Trained weights are keyed by their content (a retrained checkpoint converts afresh), synthetic ones by seed.
  const variant = source ? createHash('sha256').update(readFileSync(join(source, 'model.safetensors'))).digest('hex').slice(0, 12) : `seed${opts.seed}`;
  const root = cacheRoot();
  const blocker = fileInTheWay(root);
  if (blocker) throw new UserError(`model cache ${root}: ${blocker} is a file, not a folder (set DLLM_BENCH_CACHE to a writable folder)`);
  const dir = join(root, 'models', cacheEntryName({ preset: ref, family, dtype: opts.dtype, variant, formatVersion: MODEL_FORMAT_VERSION }));
  let rebuiltBecause: string | undefined;
  if (existsSync(dir)) {
    try {
      // Sizes and hashes recorded at build time: a cut or damaged entry is rebuilt, never loaded.
      const entry = loadVerifiedModelFolder(dir);
      // An entry built before sizes and hashes were recorded cannot be checked: rebuilt once, like a damaged one.
      if (!entry.meta.files) throw new Error(`${dir} was built without a record of its files' sizes and hashes`);
      return { found: { dir, preset: ref, built: false, buildSeconds: 0, family } };
    } catch (err) {
      rebuiltBecause = errorMessage(err);
      rmSync(dir, { recursive: true, force: true }); // a broken cache entry is rebuilt
    }
  }
  return { slot: { dir, source, family }, ...(rebuiltBecause ? { rebuiltBecause } : {}) };
}

function buildFailed(ref: string, err: unknown): UserError {
  if (err instanceof UserError) return err;
  return new UserError(`cannot build preset ${ref} into ${cacheRoot()}: ${folderErrorReason(cacheRoot(), err)} (set DLLM_BENCH_CACHE to a writable folder)`);
}

function prepareTmp(ref: string, dir: string): string {
  // Build into a temp folder and rename, so an interrupted build never leaves a half-written cache entry.
  const tmp = `${dir}.tmp-${process.pid}`;
  try {
    rmSync(tmp, { recursive: true, force: true });
    mkdirp(tmp);
  } catch (err) {
    throw buildFailed(ref, err);
  }
  return tmp;
}

function install(tmp: string, dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
}

export function resolveModelRef(ref: string, side: SideOrFamily, opts: { dtype: OnnxDtype; seed: number }): ResolvedModel {
  const l = lookup(ref, side, opts);
  if ('found' in l) return l.found;
  const { dir, source, family } = l.slot;
  const tmp = prepareTmp(ref, dir);
  try {
    const r = source ? convertCheckpoint(source, tmp, { dtype: opts.dtype }) : buildPreset(tmp, { preset: ref, family, seed: opts.seed, dtype: opts.dtype });
    install(tmp, dir);
    return { dir, preset: ref, built: true, buildSeconds: r.seconds, family, ...(l.rebuiltBecause ? { rebuiltBecause: l.rebuiltBecause } : {}) };
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw buildFailed(ref, err);
  }
}

function buildWorkerPath(): string {
  const here = fileURLToPath(new URL('./build-worker.js', import.meta.url));
  // Under vitest this module is the .ts source; the worker needs the compiled file (npm test builds first).
  return existsSync(here) ? here : join(packageRoot, 'dist', 'models', 'build-worker.js');
}

/**
 * resolveModelRef with the build in a worker thread, so the main thread sees Ctrl-C at once: on `signal` the worker
 * is terminated, the partial folder removed, and the call rejects with an exit-130 UserError.
 */
export async function resolveModelRefAsync(ref: string, side: SideOrFamily, opts: { dtype: OnnxDtype; seed: number }, signal?: AbortSignal): Promise<ResolvedModel> {
  const l = lookup(ref, side, opts);
  if ('found' in l) return l.found;
  const { dir, source, family } = l.slot;
  const interrupted = () => new UserError(`interrupted while building preset ${ref}; the partial cache entry was removed`, ExitCode.interrupted);
  if (signal?.aborted) throw interrupted();
  const tmp = prepareTmp(ref, dir);
  // A second Ctrl-C exits the process at once; the half-built folder goes with it.
  const cleanup = () => rmSync(tmp, { recursive: true, force: true });
  process.once('exit', cleanup);
  const job: BuildJob = { tmp, source, preset: ref, family, seed: opts.seed, dtype: opts.dtype };
  const worker = new Worker(buildWorkerPath(), { workerData: job });
  try {
    const seconds = await new Promise<number>((resolvePromise, reject) => {
      const onAbort = () => {
        void worker.terminate().finally(() => reject(interrupted()));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      worker.once('message', (m: BuildReply) => {
        signal?.removeEventListener('abort', onAbort);
        if (m.ok) resolvePromise(m.seconds);
        else reject(m.userError ? new UserError(m.message) : Object.assign(new Error(m.message), { code: m.code }));
      });
      worker.once('error', (err) => {
        signal?.removeEventListener('abort', onAbort);
        reject(err);
      });
      worker.once('exit', (code) => {
        if (!signal?.aborted) reject(new Error(`model build worker exited with code ${code}`));
      });
    });
    install(tmp, dir);
    return { dir, preset: ref, built: true, buildSeconds: seconds, family, ...(l.rebuiltBecause ? { rebuiltBecause: l.rebuiltBecause } : {}) };
  } catch (err) {
    cleanup();
    if (err instanceof UserError && err.exitCode === ExitCode.interrupted) throw err;
    throw buildFailed(ref, err);
  } finally {
    process.off('exit', cleanup);
    void worker.terminate();
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
 * and the dtype. A second call makes no request and converts nothing. `side` null accepts a model of either side.
 */
export async function resolveHubModel(
  ref: string,
  side: SideOrFamily | null,
  opts: { dtype: OnnxDtype; onProgress?: (p: DownloadProgress) => void },
): Promise<ResolvedModel & { commit: string; downloaded: number }> {
  const h = parseHubRef(ref);
  if (!h) throw new UserError(`${ref}: not a hub id (owner/name[@revision])`);
  const snap = await ensureSnapshot(h, { onProgress: opts.onProgress });
  const configFile = join(snap.dir, 'config.json');
  const spec = specFromConfig(JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>, `${ref} (config.json)`);
  // side null (generate): either side will do, the model's family decides how it decodes.
  const role = side === null ? familyOf(spec.family).role : roleOf(side);
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
    mkdirp(tmp);
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
