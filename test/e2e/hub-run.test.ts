/**
 * `run --diffusion owner/llada-mini --ar owner/qwen-mini` against a loopback hub (the built CLI, CPU): the first
 * run downloads with progress, converts and runs every engine; the second makes zero requests; `models convert`
 * takes a hub id offline from the same cache.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResultsFile } from '../../src/results/types.js';
import { cli } from '../helpers/cli.js';
import type { HubServer } from '../helpers/hub-server.js';
import { startMiniHub } from '../helpers/hub-repos.js';
import { tempDir } from '../helpers/models.js';

const fast = ['--device', 'cpu', '--scenarios', 'throughput', '--repetitions', '1', '--warmup', '0', '--gen-length', '16', '--steps', '16', '--block-length', '16'];
let hub: HubServer;
let env: Record<string, string>;

beforeAll(async () => {
  ({ hub, env } = await startMiniHub());
});
afterAll(async () => {
  await hub.close();
});

describe('run with hub ids on both sides', () => {
  it('downloads with progress, converts and runs; a second run makes zero requests', async () => {
    const out = join(tempDir(), 'run');
    const args = ['run', '--diffusion', 'owner/llada-mini', '--ar', 'owner/qwen-mini', ...fast];
    const first = await cli([...args, '--out', out], env);
    expect(first.stderr).not.toMatch(/\n\s+at /);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/downloaded owner\/qwen-mini model-00001-of-00002\.safetensors: [\d.]+ (?:[KMG]i)?B \/ [\d.]+ (?:[KMG]i)?B, [\d.]+ (?:[KMG]i)?B\/s/);
    expect(first.stderr).toMatch(/converted owner\/llada-mini \(llada, commit [0-9a-f]{12}, fp32\)/);
    expect(first.stderr).toMatch(/converted owner\/qwen-mini \(qwen2, commit [0-9a-f]{12}, fp32\)/);
    const r = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as ResultsFile;
    expect(r.complete).toBe(true);
    const cases = r.scenarios.flatMap((s) => s.cases);
    expect(new Set(cases.map((c) => c.engine))).toEqual(new Set(['llada', 'ar', 'ar-ort', 'ar-loop']));
    for (const c of cases) expect(c.state).toBe('completed');

    const before = hub.requests.length;
    const second = await cli([...args, '--out', join(tempDir(), 'again')], env);
    expect(second.code).toBe(0);
    expect(second.stderr).not.toMatch(/downloaded|converted/);
    expect(hub.requests.length).toBe(before);

    const conv = await cli(['models', 'convert', 'owner/qwen-mini', '--out', join(tempDir(), 'conv')], { ...env, HF_HUB_OFFLINE: '1' });
    expect(conv.code).toBe(0);
    expect(conv.stderr).toMatch(/converted owner\/qwen-mini \(qwen2, fp32\)/);
    expect(hub.requests.length).toBe(before);
  });

  it('an unknown repository: exit 2 and one line', async () => {
    const r = await cli(['run', '--ar', 'owner/nope', ...fast, '--out', join(tempDir(), 'x')], env);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n').at(-1)).toMatch(/owner\/nope: model or revision not found on http:\/\/127\.0\.0\.1:\d+ \(404\)/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
