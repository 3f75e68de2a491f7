/**
 * The standard Hugging Face cache, as Python's huggingface_hub lays it out, so that one download serves both:
 *   $HF_HUB_CACHE (default $HF_HOME/hub, default ~/.cache/huggingface/hub)
 *     models--owner--name/refs/<revision>            the commit a branch or tag pointed at
 *     models--owner--name/blobs/<etag>               file contents (<etag>.incomplete while downloading)
 *     models--owner--name/snapshots/<commit>/<file>  links to the blobs (or plain files)
 * A snapshot is used as it is when it holds config.json and every safetensors file its index names.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { at } from '../util/indexing.js';

export interface HubRef {
  /** owner/name */
  repo: string;
  /** Branch, tag or commit; 'main' unless given as owner/name@revision. */
  revision: string;
}

const REF = /^([A-Za-z0-9][\w.-]*\/[\w.-]+)(?:@([\w.\-/]+))?$/;

/** owner/name[@revision] -> HubRef, or null when the string is not shaped like a hub id. */
export function parseHubRef(ref: string): HubRef | null {
  const m = REF.exec(ref);
  if (!m || at(m, 1, 'm').includes('..') || m[2]?.includes('..')) return null;
  return { repo: at(m, 1, 'm'), revision: m[2] ?? 'main' };
}

export function hubCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HF_HUB_CACHE) return env.HF_HUB_CACHE;
  return join(env.HF_HOME || join(homedir(), '.cache', 'huggingface'), 'hub');
}

export function hubEndpoint(env: NodeJS.ProcessEnv = process.env): string {
  return (env.HF_ENDPOINT || 'https://huggingface.co').replace(/\/+$/, '');
}

export function hubOffline(env: NodeJS.ProcessEnv = process.env): boolean {
  return ['1', 'on', 'yes', 'true'].includes(String(env.HF_HUB_OFFLINE ?? '').toLowerCase());
}

export function hubToken(env: NodeJS.ProcessEnv = process.env): string | null {
  return env.HF_TOKEN || env.HUGGING_FACE_HUB_TOKEN || null;
}

export function repoCacheDir(repo: string, env: NodeJS.ProcessEnv = process.env): string {
  return join(hubCacheDir(env), `models--${repo.replace('/', '--')}`);
}

export const isCommitHash = (rev: string): boolean => /^[0-9a-f]{40}$/.test(rev);

/** The commit a revision resolves to in the cache (a commit resolves to itself), or null. */
export function cachedCommit(h: HubRef, env: NodeJS.ProcessEnv = process.env): string | null {
  if (isCommitHash(h.revision)) return h.revision;
  const file = join(repoCacheDir(h.repo, env), 'refs', h.revision);
  if (!existsSync(file)) return null;
  const sha = readFileSync(file, 'utf8').trim();
  return isCommitHash(sha) ? sha : null;
}

export function snapshotDir(repo: string, commit: string, env: NodeJS.ProcessEnv = process.env): string {
  return join(repoCacheDir(repo, env), 'snapshots', commit);
}

/** Only these are fetched: what conversion and the tokenizer read. */
export function isWantedFile(name: string): boolean {
  if (name.includes('/')) return false;
  return (
    ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'model.safetensors.index.json'].includes(name) ||
    name.endsWith('.safetensors')
  );
}

/** The weight files a snapshot needs: the index's shards, else model.safetensors. */
export function weightFiles(dir: string): string[] | null {
  const index = join(dir, 'model.safetensors.index.json');
  if (existsSync(index)) {
    try {
      const map = (JSON.parse(readFileSync(index, 'utf8')) as { weight_map?: Record<string, string> }).weight_map ?? {};
      return [...new Set(Object.values(map))];
    } catch {
      return null;
    }
  }
  return existsSync(join(dir, 'model.safetensors')) ? ['model.safetensors'] : null;
}

const isFile = (p: string): boolean => {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
};

/** True when the snapshot holds config.json and every weight file (links followed to whole blobs). */
export function snapshotComplete(dir: string): boolean {
  if (!isFile(join(dir, 'config.json'))) return false;
  const weights = weightFiles(dir);
  return weights !== null && weights.length > 0 && weights.every((f) => isFile(join(dir, f)));
}
