/**
 * `generate --model owner/name` takes a hub id as `run` does (the built CLI against a loopback hub, CPU): the first
 * call downloads into the Hugging Face cache with progress and converts once; a second makes zero requests; a
 * diffusion repository decodes on the diffusion engine; an unknown repository is one line, exit 2.
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { cli } from '../helpers/cli.js';
import type { HubServer } from '../helpers/hub-server.js';
import { startMiniHub } from '../helpers/hub-repos.js';

let hub: HubServer;
let env: Record<string, string>;

beforeAll(async () => {
  ({ hub, env } = await startMiniHub());
});
afterAll(async () => {
  await hub.close();
});

describe('generate with a hub id', () => {
  it('an AR repository: downloads with progress and converts once, then runs from the cache with no request', async () => {
    const args = ['generate', '--model', 'owner/qwen-mini', '--engine', 'ar-ort', '--prompt-ids', '5,6,7,8', '--max-new-tokens', '6', '--mode', 'fixed', '--device', 'cpu'];
    const first = await cli(args, env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/downloaded owner\/qwen-mini model-00001-of-00002\.safetensors: [\d.]+ (?:[KMG]i)?B, [\d.]+ (?:[KMG]i)?B\/s/);
    expect(first.stderr).toMatch(/converted owner\/qwen-mini \(qwen2, commit [0-9a-f]{12}\)/);
    const before = hub.requests.length;
    const second = await cli([...args, '--json'], env);
    expect(second.code, second.stderr).toBe(0);
    expect(hub.requests.length).toBe(before);
    const j = JSON.parse(second.stdout) as { family: string; engine: string; tokens: number[][] };
    expect(j).toMatchObject({ family: 'qwen2', engine: 'ar-ort' });
    expect(j.tokens[0]).toHaveLength(6);
  }, 240_000);

  it('a diffusion repository decodes on the diffusion engine with its family sampler', async () => {
    const r = await cli(['generate', '--model', 'owner/llada-mini', '--prompt-ids', '5,6,7', '--gen-length', '8', '--steps', '4', '--json', '--device', 'cpu'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ engine: 'llada', sampler: 'llada', family: 'llada' });
  }, 240_000);

  it('an unknown repository: exit 2 and one line', async () => {
    const r = await cli(['generate', '--model', 'owner/nope', '--prompt-ids', '1,2', '--device', 'cpu'], env);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n').at(-1)).toMatch(/owner\/nope: model or revision not found on http:\/\/127\.0\.0\.1:\d+ \(404\)/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }, 60_000);
});
