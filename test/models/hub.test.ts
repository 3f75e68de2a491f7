/**
 * Hub ids through the standard Hugging Face cache, against a loopback hub (test/helpers/hub-server.ts): download with
 * progress into the Python layout, zero requests once cached, HF_HUB_OFFLINE=1, a cache Python filled, and the
 * failures (404, 401, a download cut short, no safetensors, an unsupported family) as one line that leaves no
 * partial file a later run would trust.
 */
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { checkCache } from '../../src/doctor/probes.js';
import { resolveHubModel } from '../../src/models/cache.js';
import { loadModelFolder } from '../../src/models/folder.js';
import { parseHubRef } from '../../src/models/hf-cache.js';
import { type DownloadProgress, NoSafetensorsError, ensureSnapshot } from '../../src/models/hub-download.js';
import { UserError } from '../../src/util/errors.js';
import { type HubServer, commitOf, startHubServer } from '../helpers/hub-server.js';
import { lladaRepoFiles, qwenRepoFiles } from '../helpers/hub-repos.js';
import { tempDir } from '../helpers/models.js';

let hub: HubServer;
const qwen = { commit: commitOf('qwen'), files: qwenRepoFiles() };
const saved = { ...process.env };

beforeAll(async () => {
  hub = await startHubServer({
    'owner/qwen-mini': qwen,
    'owner/llada-mini': { commit: commitOf('llada'), files: lladaRepoFiles() },
    'owner/gated': { commit: commitOf('gated'), files: qwen.files, gatedToken: 'hf_good' },
    'owner/onnx-only': { commit: commitOf('onnx'), files: { 'config.json': qwen.files['config.json']!, 'tokenizer.json': qwen.files['tokenizer.json']! } },
    'owner/gpt2': { commit: commitOf('gpt2'), files: { ...qwen.files, 'config.json': Buffer.from(JSON.stringify({ model_type: 'gpt2', architectures: ['GPT2LMHeadModel'] })) } },
  });
});
afterAll(async () => {
  await hub.close();
});
beforeEach(() => {
  process.env.HF_HUB_CACHE = tempDir('dllm-hf-');
  process.env.DLLM_BENCH_CACHE = tempDir('dllm-cache-');
  process.env.HF_ENDPOINT = hub.url;
  delete process.env.HF_HUB_OFFLINE;
  delete process.env.HF_TOKEN;
  delete process.env.HF_HOME;
});
afterEach(() => {
  for (const k of ['HF_HUB_CACHE', 'DLLM_BENCH_CACHE', 'HF_ENDPOINT', 'HF_HUB_OFFLINE', 'HF_TOKEN', 'HF_HOME']) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});

async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    expect((e as Error).message).not.toContain('\n');
    return e as Error;
  }
  throw new Error('expected a failure');
}

const repoDir = (repo: string) => join(process.env.HF_HUB_CACHE!, `models--${repo.replace('/', '--')}`);

describe('hub ids', () => {
  it('parses owner/name[@revision]', () => {
    expect(parseHubRef('Qwen/Qwen2.5-7B-Instruct')).toEqual({ repo: 'Qwen/Qwen2.5-7B-Instruct', revision: 'main' });
    expect(parseHubRef('a/b@v1.0')).toEqual({ repo: 'a/b', revision: 'v1.0' });
    expect(parseHubRef('a/../b')).toBeNull();
    expect(parseHubRef('just-a-name')).toBeNull();
  });

  it('downloads the wanted files into the Python cache layout with progress, then makes zero requests', async () => {
    const seen: DownloadProgress[] = [];
    const r = await ensureSnapshot({ repo: 'owner/qwen-mini', revision: 'main' }, { onProgress: (p) => seen.push(p) });
    expect(r.commit).toBe(qwen.commit);
    expect(r.dir).toBe(join(repoDir('owner/qwen-mini'), 'snapshots', qwen.commit));
    expect(readFileSync(join(repoDir('owner/qwen-mini'), 'refs', 'main'), 'utf8')).toBe(qwen.commit);
    expect(readdirSync(r.dir).sort()).toEqual(Object.keys(qwen.files).sort());
    for (const [f, bytes] of Object.entries(qwen.files)) {
      expect(lstatSync(join(r.dir, f)).isSymbolicLink()).toBe(true);
      expect(readFileSync(join(r.dir, f)).equals(bytes)).toBe(true);
      const done = seen.find((p) => p.file === f && p.done)!;
      expect(done).toMatchObject({ bytes: bytes.length, total: bytes.length });
      expect(done.bytesPerSecond).toBeGreaterThan(0);
    }
    // Blobs are named by the hub's ETag (the sha256 here), as huggingface_hub names them.
    const sha = createHash('sha256').update(qwen.files['config.json']!).digest('hex');
    expect(existsSync(join(repoDir('owner/qwen-mini'), 'blobs', sha))).toBe(true);
    // README.md and onnx/ are listed by the hub but never fetched; config.json comes before any weights.
    expect(hub.requests.filter((q) => /README|onnx\//.test(q))).toEqual([]);
    const gets = hub.requests.filter((q) => q.startsWith('GET /owner/qwen-mini/resolve'));
    expect(gets[0]).toMatch(/config\.json$/);
    const before = hub.requests.length;
    const again = await ensureSnapshot({ repo: 'owner/qwen-mini', revision: 'main' });
    expect(again).toMatchObject({ dir: r.dir, downloaded: 0, requests: 0 });
    expect(hub.requests.length).toBe(before);
  });

  it('converts once, keyed by commit and dtype; the second resolve makes no request and converts nothing', async () => {
    const first = await resolveHubModel('owner/qwen-mini', 'ar', { dtype: 'fp32' });
    expect(first).toMatchObject({ built: true, family: 'qwen2', commit: qwen.commit });
    expect(first.dir).toContain(`hub-owner-qwen-mini-${qwen.commit.slice(0, 12)}-fp32-v`);
    expect(loadModelFolder(first.dir).meta).toMatchObject({ family: 'qwen2', graph: 'causal' });
    // doctor lists the entry as usable, named by its snapshot.
    expect(checkCache().detail).toMatch(new RegExp(`hub-owner-qwen-mini-${qwen.commit.slice(0, 12)}-fp32-v\\d+ .* hub snapshot ${qwen.commit.slice(0, 12)} converted, fp32`));
    const before = hub.requests.length;
    const second = await resolveHubModel('owner/qwen-mini', 'ar', { dtype: 'fp32' });
    expect(second).toMatchObject({ built: false, dir: first.dir, downloaded: 0 });
    expect(hub.requests.length).toBe(before);
    // The wrong side is refused by family, after the (cached) snapshot and before any conversion.
    expect((await failure(resolveHubModel('owner/qwen-mini', 'diffusion', { dtype: 'fp32' }))).message).toMatch(/a qwen2 model, but this side needs a llada model or a dream model/);
  });

  it('HF_HUB_OFFLINE=1: uses the cache without a request, and refuses what is not cached in one line', async () => {
    await ensureSnapshot({ repo: 'owner/llada-mini', revision: 'main' });
    process.env.HF_HUB_OFFLINE = '1';
    const before = hub.requests.length;
    const m = await resolveHubModel('owner/llada-mini', 'diffusion', { dtype: 'fp32' });
    expect(m).toMatchObject({ built: true, family: 'llada' });
    const e = await failure(ensureSnapshot({ repo: 'owner/qwen-mini', revision: 'main' }));
    expect(e.message).toMatch(/owner\/qwen-mini: not in the Hugging Face cache .* HF_HUB_OFFLINE=1 forbids downloading it/);
    expect(hub.requests.length).toBe(before);
  });

  it('a cache filled by Python (HF_HOME layout, plain blobs and links) is used as it is, with no request', async () => {
    delete process.env.HF_HUB_CACHE;
    process.env.HF_HOME = tempDir('dllm-hfhome-');
    const commit = commitOf('python');
    const root = join(process.env.HF_HOME, 'hub', 'models--someone--py-qwen');
    mkdirSync(join(root, 'refs'), { recursive: true });
    mkdirSync(join(root, 'blobs'));
    mkdirSync(join(root, 'snapshots', commit), { recursive: true });
    writeFileSync(join(root, 'refs', 'main'), commit);
    for (const [f, bytes] of Object.entries(qwen.files)) {
      const sha = createHash('sha256').update(bytes).digest('hex');
      writeFileSync(join(root, 'blobs', sha), bytes);
      symlinkSync(`../../blobs/${sha}`, join(root, 'snapshots', commit, f));
    }
    const before = hub.requests.length;
    const m = await resolveHubModel('someone/py-qwen', 'ar', { dtype: 'fp32' });
    expect(m).toMatchObject({ built: true, commit, family: 'qwen2' });
    expect(hub.requests.length).toBe(before);
  });

  it('an unknown repository: one line naming 404', async () => {
    const e = await failure(ensureSnapshot({ repo: 'owner/nope', revision: 'main' }));
    expect(e.message).toMatch(/^owner\/nope: model or revision not found on http:\/\/127\.0\.0\.1:\d+ \(404\)/);
    expect(existsSync(join(repoDir('owner/nope'), 'snapshots'))).toBe(false);
  });

  it('a gated repository: 401 names the model page; HF_TOKEN opens it', async () => {
    const e = await failure(ensureSnapshot({ repo: 'owner/gated', revision: 'main' }));
    expect(e.message).toMatch(/^owner\/gated: access denied \(401\): .*accept its license at http:\/\/127\.0\.0\.1:\d+\/owner\/gated and set HF_TOKEN/);
    process.env.HF_TOKEN = 'hf_good';
    expect((await ensureSnapshot({ repo: 'owner/gated', revision: 'main' })).downloaded).toBe(Object.keys(qwen.files).length);
  });

  it('a download cut short: one line, nothing partial in the snapshot; the next call resumes with a Range request', async () => {
    const shard = 'model-00002-of-00002.safetensors';
    hub.cut.add(`owner/qwen-mini/${shard}`);
    const e = await failure(ensureSnapshot({ repo: 'owner/qwen-mini', revision: 'main' }));
    expect(e.message).toMatch(new RegExp(`owner/qwen-mini: download of ${shard} cut short at \\d+ of ${qwen.files[shard]!.length} bytes.*run again to resume`));
    const snap = join(repoDir('owner/qwen-mini'), 'snapshots', qwen.commit);
    expect(existsSync(join(snap, shard))).toBe(false);
    expect(existsSync(join(repoDir('owner/qwen-mini'), 'refs', 'main'))).toBe(false);
    const blobs = readdirSync(join(repoDir('owner/qwen-mini'), 'blobs'));
    expect(blobs.filter((b) => b.endsWith('.incomplete'))).toHaveLength(1);
    // A conversion of the half-filled snapshot is never attempted: the run goes back to the hub.
    const r = await ensureSnapshot({ repo: 'owner/qwen-mini', revision: 'main' });
    expect(hub.requests.some((q) => q.includes(shard) && /bytes=\d+-$/.test(q))).toBe(true);
    expect(readFileSync(join(r.dir, shard)).equals(qwen.files[shard]!)).toBe(true);
    expect(readdirSync(join(repoDir('owner/qwen-mini'), 'blobs')).filter((b) => b.endsWith('.incomplete'))).toEqual([]);
  });

  it('a repository without safetensors, and an unsupported family (refused before any weights move)', async () => {
    const e = await failure(ensureSnapshot({ repo: 'owner/onnx-only', revision: 'main' }));
    expect(e).toBeInstanceOf(NoSafetensorsError);
    expect(e.message).toMatch(/owner\/onnx-only: the repository has no \.safetensors weights/);
    const g = await failure(ensureSnapshot({ repo: 'owner/gpt2', revision: 'main' }));
    expect(g.message).toMatch(/owner\/gpt2 \(config\.json\): unknown model family \(model_type "gpt2"\)/);
    expect(hub.requests.filter((q) => q.startsWith('GET /owner/gpt2/resolve') && q.includes('safetensors'))).toEqual([]);
  });

  it('the hub unreachable: one line', async () => {
    process.env.HF_ENDPOINT = 'http://127.0.0.1:1';
    expect((await failure(ensureSnapshot({ repo: 'owner/qwen-mini', revision: 'main' }))).message).toMatch(/cannot reach http:\/\/127\.0\.0\.1:1 .*HF_HUB_OFFLINE=1/);
  });
});
