/** Small checkpoints in native Hugging Face layouts as a hub repository's files (for the loopback hub server). */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configFromSpec, familyOf } from '../../src/models/families.js';
import type { TransformerSpec } from '../../src/models/spec.js';
import { writeSyntheticCheckpoint } from '../../src/models/synthetic.js';
import { buildTokenizerFiles } from '../../src/models/tokenizer.js';
import { hfDecoderTensors, writeShardedCheckpoint } from './hf-checkpoint.js';
import { type HubServer, commitOf, startHubServer } from './hub-server.js';
import { microSpec, tempDir } from './models.js';

const V = 320;
const special = { bos: V - 6, eos: V - 5, startHeader: V - 4, endHeader: V - 3, eot: V - 2, mask: V - 1 };

function tokenizerFiles(dir: string, spec: TransformerSpec): void {
  const { tokenizer, tokenizerConfig } = buildTokenizerFiles(familyOf(spec.family), V, { ...special, mask: spec.maskTokenId }, spec.maxPositions);
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tokenizer));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig));
}

const readAll = (dir: string): Record<string, Buffer> => Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f))]));

/** A LLaDA checkpoint (single model.safetensors) with tokenizer files. */
export function lladaRepoFiles(): Record<string, Buffer> {
  const dir = join(tempDir('dllm-hub-llada-'), 'repo');
  mkdirSync(dir);
  const spec = microSpec('llada', { vocabSize: V, maxPositions: 1024, maskTokenId: special.mask, eosTokenIds: [special.eos, special.eot], bosTokenId: special.bos, padTokenId: special.eos });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(configFromSpec(spec)));
  writeSyntheticCheckpoint(spec, join(dir, 'model.safetensors'), 3);
  tokenizerFiles(dir, spec);
  return readAll(dir);
}

/** A Qwen2 checkpoint (BF16, two shards and an index, QKV biases, tied embeddings) with tokenizer files. */
export function qwenRepoFiles(config: Record<string, unknown> = {}): Record<string, Buffer> {
  const dir = join(tempDir('dllm-hub-qwen-'), 'repo');
  const spec = microSpec('qwen2', { vocabSize: V, numKvHeads: 2, maxPositions: 1024, tieWordEmbeddings: true, ropeTheta: 1e6, eosTokenIds: [special.eot, special.eos], bosTokenId: null, padTokenId: special.eos });
  writeShardedCheckpoint(dir, { ...configFromSpec(spec), ...config }, hfDecoderTensors({ vocab: V, d: 32, layers: 2, heads: 4, kvHeads: 2, headDim: 8, mlp: 48 }, 5, { bias: true, tied: true }));
  tokenizerFiles(dir, spec);
  writeFileSync(join(dir, 'generation_config.json'), JSON.stringify({ eos_token_id: spec.eosTokenIds }));
  return readAll(dir);
}

/**
 * A loopback hub serving owner/qwen-mini and owner/llada-mini, and the environment that points the CLI at it with
 * fresh Hugging Face and dllm-bench caches (HF_HUB_OFFLINE empty: not offline, whatever the calling shell says).
 */
export async function startMiniHub(): Promise<{ hub: HubServer; env: Record<string, string> }> {
  const hub = await startHubServer({
    'owner/qwen-mini': { commit: commitOf('qwen'), files: qwenRepoFiles() },
    'owner/llada-mini': { commit: commitOf('llada'), files: lladaRepoFiles() },
  });
  return { hub, env: { HF_ENDPOINT: hub.url, HF_HUB_CACHE: tempDir('dllm-hf-'), DLLM_BENCH_CACHE: tempDir('dllm-cache-'), HF_HUB_OFFLINE: '', HF_TOKEN: '' } };
}
