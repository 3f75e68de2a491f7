/**
 * Fetching a model from the Hugging Face hub into the standard cache (hf-cache.ts), over plain fetch: the
 * repository's file list for a revision (/api/models/{repo}/revision/{rev}), then each wanted file
 * (/{repo}/resolve/{commit}/{file}) into blobs/<etag>.incomplete, resumed with a Range request, renamed to
 * blobs/<etag> only once it has every byte, then linked into snapshots/<commit>/. A snapshot already complete in
 * the cache is used with no request at all; HF_HUB_OFFLINE=1 never makes one. Honours HF_ENDPOINT and HF_TOKEN.
 */
import { createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, copyFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { UserError, errorMessage } from '../util/errors.js';
import { specFromConfig } from './families.js';
import {
  type HubRef,
  cachedCommit,
  hubEndpoint,
  hubOffline,
  hubToken,
  isCommitHash,
  isWantedFile,
  repoCacheDir,
  snapshotComplete,
  snapshotDir,
} from './hf-cache.js';

export interface DownloadProgress {
  file: string;
  bytes: number;
  total: number | null;
  bytesPerSecond: number;
  done: boolean;
}

export interface SnapshotResult {
  dir: string;
  commit: string;
  /** Files fetched by this call (0: served from the cache). */
  downloaded: number;
  requests: number;
}

/** The repository holds no safetensors weights (an ONNX export, say). */
export class NoSafetensorsError extends UserError {}

interface Ctx {
  h: HubRef;
  endpoint: string;
  headers: Record<string, string>;
  requests: number;
  env: NodeJS.ProcessEnv;
  onProgress?: (p: DownloadProgress) => void;
}

const label = (h: HubRef) => (h.revision === 'main' ? h.repo : `${h.repo}@${h.revision}`);

function statusError(ctx: Ctx, status: number, what: string): UserError {
  const page = `${ctx.endpoint}/${ctx.h.repo}`;
  if (status === 404) return new UserError(`${label(ctx.h)}: ${what} not found on ${ctx.endpoint} (404): check the model id and revision`);
  if (status === 401 || status === 403) {
    return new UserError(`${label(ctx.h)}: access denied (${status}): a gated or private model; accept its license at ${page} and set HF_TOKEN to a token with access`);
  }
  return new UserError(`${label(ctx.h)}: ${what}: the hub answered HTTP ${status}`);
}

async function request(ctx: Ctx, url: string, init: RequestInit): Promise<Response> {
  ctx.requests++;
  try {
    return await fetch(url, { ...init, headers: { ...ctx.headers, ...(init.headers as Record<string, string> | undefined) } });
  } catch (err) {
    const cause = (err as { cause?: unknown }).cause;
    throw new UserError(`${label(ctx.h)}: cannot reach ${ctx.endpoint} (${errorMessage(cause ?? err)}); set HF_HUB_OFFLINE=1 to use the cache only`);
  }
}

interface Listing {
  commit: string;
  files: string[];
}

async function listRevision(ctx: Ctx): Promise<Listing> {
  const url = `${ctx.endpoint}/api/models/${ctx.h.repo}/revision/${encodeURIComponent(ctx.h.revision)}`;
  const res = await request(ctx, url, {});
  if (!res.ok) throw statusError(ctx, res.status, 'model or revision');
  let body: { sha?: unknown; siblings?: { rfilename?: unknown }[] };
  try {
    body = (await res.json()) as typeof body;
  } catch {
    throw new UserError(`${label(ctx.h)}: the hub's answer for ${url} is not JSON`);
  }
  const commit = typeof body.sha === 'string' ? body.sha : '';
  if (!isCommitHash(commit)) throw new UserError(`${label(ctx.h)}: the hub's answer names no commit`);
  const files = (body.siblings ?? []).map((s) => s.rfilename).filter((f): f is string => typeof f === 'string');
  return { commit, files };
}

const unquote = (etag: string) => etag.replace(/^W\//, '').replace(/^"|"$/g, '');

function writeFailure(ctx: Ctx, file: string, err: unknown): UserError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC') return new UserError(`${label(ctx.h)}: no space left on the device writing ${file} (free some space, or set HF_HUB_CACHE elsewhere, and run again to resume)`);
  return new UserError(`${label(ctx.h)}: cannot write ${file}: ${code ?? errorMessage(err)}`);
}

/** One file into blobs/ (resuming a .incomplete) and linked into the snapshot. */
async function downloadFile(ctx: Ctx, commit: string, file: string, snap: string): Promise<void> {
  const url = `${ctx.endpoint}/${ctx.h.repo}/resolve/${commit}/${encodeURIComponent(file)}`;
  // HEAD without following redirects: large files redirect to a CDN; the hub's own headers name the blob.
  const head = await request(ctx, url, { method: 'HEAD', redirect: 'manual' });
  if (head.status >= 400) throw statusError(ctx, head.status, file);
  const etag = unquote(head.headers.get('x-linked-etag') ?? head.headers.get('etag') ?? '');
  if (!/^[\w.-]+$/.test(etag)) throw new UserError(`${label(ctx.h)}: the hub sent no usable ETag for ${file}`);
  const sizeHeader = head.headers.get('x-linked-size') ?? (head.status < 300 ? head.headers.get('content-length') : null);
  const total = sizeHeader !== null && /^\d+$/.test(sizeHeader) ? Number(sizeHeader) : null;
  const blobs = join(repoCacheDir(ctx.h.repo, ctx.env), 'blobs');
  const blob = join(blobs, etag);
  const partial = `${blob}.incomplete`;
  try {
    mkdirSync(blobs, { recursive: true });
  } catch (err) {
    throw writeFailure(ctx, blobs, err);
  }
  if (!(existsSync(blob) && (total === null || statSync(blob).size === total))) {
    let start = existsSync(partial) ? statSync(partial).size : 0;
    if (total !== null && start > total) start = 0;
    const res = await request(ctx, url, start > 0 ? { headers: { Range: `bytes=${start}-` } } : {});
    if (res.status === 416 && total !== null && start === total) {
      // The partial file already holds every byte.
    } else {
      if (!res.ok) throw statusError(ctx, res.status, file);
      if (res.status !== 206) start = 0; // the server ignored the range: start over
      await writeBody(ctx, res, partial, start, total, file);
    }
    const have = statSync(partial).size;
    if (total !== null && have !== total) {
      throw new UserError(`${label(ctx.h)}: download of ${file} cut short at ${have} of ${total} bytes; run again to resume`);
    }
    renameSync(partial, blob);
  }
  const target = join(snap, file);
  rmSync(target, { force: true });
  try {
    symlinkSync(relative(dirname(target), blob), target);
  } catch {
    copyFileSync(blob, target);
  }
}

async function writeBody(ctx: Ctx, res: Response, partial: string, start: number, total: number | null, file: string): Promise<void> {
  if (!res.body) throw new UserError(`${label(ctx.h)}: empty answer for ${file}`);
  const out = createWriteStream(partial, { flags: start > 0 ? 'a' : 'w' });
  let failure: unknown = null;
  out.on('error', (e) => (failure = e));
  const t0 = performance.now();
  let bytes = start;
  let lastReport = 0;
  const report = (done: boolean) => {
    const s = (performance.now() - t0) / 1000;
    ctx.onProgress?.({ file, bytes, total, bytesPerSecond: s > 0 ? (bytes - start) / s : 0, done });
  };
  try {
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (failure) throw failure;
      if (!out.write(value)) await new Promise<void>((r, j) => { out.once('drain', r); out.once('error', j); });
      bytes += value.byteLength;
      if (performance.now() - lastReport > 250) {
        lastReport = performance.now();
        report(false);
      }
    }
  } catch (err) {
    await new Promise<void>((r) => out.end(r));
    if (failure) throw writeFailure(ctx, file, failure);
    throw new UserError(`${label(ctx.h)}: download of ${file} cut short at ${bytes}${total !== null ? ` of ${total}` : ''} bytes (${errorMessage((err as { cause?: unknown }).cause ?? err)}); run again to resume`);
  }
  await new Promise<void>((r, j) => out.end((e?: Error | null) => (e ? j(e) : r()))).catch((e: unknown) => {
    throw writeFailure(ctx, file, e);
  });
  if (failure) throw writeFailure(ctx, file, failure);
  report(true);
}

/**
 * The snapshot folder of owner/name[@revision] in the Hugging Face cache, downloading what is missing. Only
 * config, generation config, tokenizer files and safetensors are fetched; config.json first, so that an
 * unsupported family is refused before any weights move.
 */
export async function ensureSnapshot(h: HubRef, opts: { onProgress?: (p: DownloadProgress) => void; env?: NodeJS.ProcessEnv } = {}): Promise<SnapshotResult> {
  const env = opts.env ?? process.env;
  const cached = cachedCommit(h, env);
  if (cached && snapshotComplete(snapshotDir(h.repo, cached, env))) return { dir: snapshotDir(h.repo, cached, env), commit: cached, downloaded: 0, requests: 0 };
  if (hubOffline(env)) {
    throw new UserError(`${label(h)}: not in the Hugging Face cache (${repoCacheDir(h.repo, env)}) and HF_HUB_OFFLINE=1 forbids downloading it`);
  }
  const token = hubToken(env);
  const ctx: Ctx = { h, endpoint: hubEndpoint(env), headers: token ? { Authorization: `Bearer ${token}` } : {}, requests: 0, env, onProgress: opts.onProgress };
  const { commit, files } = await listRevision(ctx);
  const wanted = files.filter(isWantedFile);
  if (!wanted.some((f) => f.endsWith('.safetensors'))) {
    throw new NoSafetensorsError(`${label(h)}: the repository has no .safetensors weights at ${commit.slice(0, 12)} (dllm-bench converts safetensors checkpoints)`);
  }
  if (!wanted.includes('config.json')) throw new UserError(`${label(h)}: the repository has no config.json`);
  const snap = snapshotDir(h.repo, commit, env);
  try {
    mkdirSync(snap, { recursive: true });
  } catch (err) {
    throw writeFailure(ctx, snap, err);
  }
  const ordered = ['config.json', ...wanted.filter((f) => f !== 'config.json').sort((a, b) => Number(a.endsWith('.safetensors')) - Number(b.endsWith('.safetensors')))];
  let downloaded = 0;
  for (const file of ordered) {
    if (!existsSync(join(snap, file))) {
      await downloadFile(ctx, commit, file, snap);
      downloaded++;
    }
    if (file === 'config.json') {
      let config: Record<string, unknown>;
      try {
        config = JSON.parse(readFileSync(join(snap, file), 'utf8')) as Record<string, unknown>;
      } catch {
        throw new UserError(`${label(h)}: config.json is not valid JSON`);
      }
      specFromConfig(config, `${label(h)} (config.json)`); // an unsupported family stops here, before the weights
    }
  }
  if (!snapshotComplete(snap)) throw new UserError(`${label(h)}: the snapshot ${snap} lacks weight files its index names`);
  if (!isCommitHash(h.revision)) {
    const refFile = join(repoCacheDir(h.repo, env), 'refs', h.revision);
    mkdirSync(dirname(refFile), { recursive: true });
    writeFileSync(refFile, commit);
  }
  return { dir: snap, commit, downloaded, requests: ctx.requests };
}
