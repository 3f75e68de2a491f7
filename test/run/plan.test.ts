/**
 * The memory plan: the estimates against the formulas written out here, the nvidia-smi parsers, the three 8B
 * verdicts from shapes alone (no preset is built), and a run that skips the cases the plan refuses and goes on.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CUDA_RUNTIME_BYTES, GIB, caseMemory, weightBytes } from '../../src/models/memory.js';
import { parameterCount } from '../../src/models/spec.js';
import { parseGpuFree, refusal, sideSpec } from '../../src/run/plan.js';
import { parseComputeApps } from '../../src/telemetry/engine-memory.js';
import type { ResultsFile } from '../../src/results/types.js';
import { cli } from '../helpers/cli.js';
import { tempDir } from '../helpers/models.js';

describe('memory estimates', () => {
  const llama = sideSpec('llama3-8b', 'llama')!;
  const llada = sideSpec('llada-8b', 'llada')!;

  it('weights: parameters x bytes per element; the 8B presets are 8.0 B parameters', () => {
    expect(parameterCount(llama) / 1e9).toBeCloseTo(8.03, 2);
    expect(parameterCount(llada) / 1e9).toBeCloseTo(8.02, 2);
    expect(weightBytes(llama, 'fp16')).toBe(parameterCount(llama) * 2);
  });

  it('AR KV cache: 2 x layers x kv_heads x head_dim x (prompt + gen) x batch x bytes', () => {
    const n = caseMemory(llama, 'fp16', 'cuda', { graph: 'causal', batchSize: 4, promptTokens: 1000, genLength: 24 });
    expect(n.kvCacheBytes).toBe(2 * 32 * 8 * 128 * 1024 * 4 * 2);
    expect(n.runtimeBytes).toBe(CUDA_RUNTIME_BYTES);
    expect(n.totalBytes).toBe(n.weightsBytes + n.kvCacheBytes + n.activationBytes + n.runtimeBytes);
  });

  it('LLaDA keeps a cache only with a Fast-dLLM cache mode, over the whole sequence and both CFG copies', () => {
    const base = { graph: 'diffusion' as const, batchSize: 2, promptTokens: 100, genLength: 28 };
    expect(caseMemory(llada, 'fp16', 'cpu', { ...base, cache: 'none' }).kvCacheBytes).toBe(0);
    expect(caseMemory(llada, 'fp16', 'cpu', { ...base, cache: 'dual' }).kvCacheBytes).toBe(2 * 32 * 32 * 128 * 128 * 2 * 2);
    expect(caseMemory(llada, 'fp16', 'cpu', { ...base, cache: 'dual', cfg: true }).kvCacheBytes).toBe(2 * 32 * 32 * 128 * 128 * 4 * 2);
    expect(caseMemory(llada, 'fp16', 'cpu', { ...base, cache: 'none' }).runtimeBytes).toBe(0);
  });

  it('a refusal names the need, the budget and the shortfall in one line', () => {
    const need = caseMemory(llama, 'fp16', 'cuda', { graph: 'causal', batchSize: 1, promptTokens: 64, genLength: 32 });
    expect(refusal(need, { device: 'cuda', bytes: 80 * GIB, source: 'x' })).toBeNull();
    const r = refusal(need, { device: 'cuda', bytes: 8 * GIB, source: '--gpu-memory 8' })!;
    expect(r).toMatch(/^needs 15\.\d GiB \(weights 15\.0 GiB, .*\) but 8\.0 GiB is free \(--gpu-memory 8\): 7\.\d GiB short$/);
    expect(r).not.toContain('\n');
  });

  it('parses nvidia-smi free memory and per-process memory, skipping anything else', () => {
    expect(parseGpuFree('0, 81000\n1, 1200\n', 1)).toBe(1200 * 2 ** 20);
    expect(parseGpuFree('No devices were found\n', 0)).toBeNull();
    expect(parseComputeApps('1234, 15000\n999, 10\n1234, 500\n', 1234)).toBe(15500 * 2 ** 20);
    expect(parseComputeApps('No running processes found\n', 1234)).toBeNull();
  });
});

describe('run --plan (built CLI): 8B pair from shapes alone', () => {
  const plan = async (gb: number) => {
    const cache = tempDir('dllm-plan-cache-');
    const r = await cli(['run', '--plan', '--diffusion', 'llada-8b', '--ar', 'llama3-8b', '--device', 'cuda', '--dtype', 'fp16', '--gpu-memory', String(gb)], { DLLM_BENCH_CACHE: cache });
    // Nothing was built: the cache folder is empty.
    expect(existsSync(cache) ? readdirSync(cache) : []).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    return r.stdout;
  };

  it('80 GiB: the pair fits', async () => {
    expect(await plan(80)).toMatch(/verdict: the pair fits: both models resident at once need 3\d\.\d GiB of 80\.0 GiB/);
  });

  it('24 GiB: one model at a time, and what the largest case needs', async () => {
    expect(await plan(24)).toMatch(/verdict: fits one model at a time .*the largest case, \S+ \w+ b\d+ p\d+ g\d+.*, needs 1\d\.\d GiB of 24\.0 GiB/);
  });

  it('16 GiB: names what does not fit and by how much', async () => {
    const out = await plan(16);
    expect(out).toMatch(/verdict: does not fit/);
    expect(out).toMatch(/ar \(llama3-8b\): \d+ of \d+ cases do not fit; the largest, .*needs 1\d\.\d GiB: [\d.]+ (MiB|GiB) over/);
  });

  it('--gpu-memory with --device cpu is bad input', async () => {
    const r = await cli(['run', '--plan', '--device', 'cpu', '--gpu-memory', '8']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/--gpu-memory plans for a GPU/);
  });
});

describe('run with a memory budget (built CLI, CPU)', () => {
  it('refuses the cases that do not fit, records them with their reason, and measures the rest', async () => {
    const out = join(tempDir(), 'skip');
    // The twins' weights fit in 4.5 MiB; a 1024-token context case does not (its L x L attention scores alone).
    const budgetGiB = 4.5 / 1024;
    const r = await cli(
      ['run', '--device', 'cpu', '--out', out, '--scenarios', 'context', '--context', '16,1024', '--gen-length', '16', '--steps', '16', '--block-length', '16', '--repetitions', '1', '--warmup', '0', '--ar-engines', 'ar-ort', '--cpu-memory', String(budgetGiB)],
      { DLLM_BENCH_CACHE: tempDir('dllm-cache-') },
    );
    expect(r.code).toBe(0);
    const res = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as ResultsFile;
    expect(res.complete).toBe(true);
    expect(res.memoryPlan).toMatchObject({ device: 'cpu', source: `--cpu-memory ${budgetGiB}` });
    const cases = res.scenarios[0]!.cases;
    expect(cases.map((c) => `${c.engine}/${c.params.promptTokens}`).sort()).toEqual(['ar-ort/16', 'llada/16']);
    expect(res.skippedCases!.map((s) => s.id).sort()).toEqual(['context/ar-ort/b1/p1024/g16', 'context/llada/b1/p1024/g16/s16/bl16']);
    for (const s of res.skippedCases!) expect(s.reason).toMatch(/^needs .* but 4\.5 MiB is free \(--cpu-memory .*\): .* short$/);
    expect(r.stderr).toMatch(/context\/llada\/b1\/p1024\/g16\/s16\/bl16: skipped \(needs/);
    // The report lists them as not measured, and never as a failure.
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).toMatch(/skipped by the memory plan/);
    expect(md).not.toMatch(/error:/);
  }, 240_000);
});
