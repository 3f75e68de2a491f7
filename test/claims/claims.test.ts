import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import chalk from 'chalk';
import { describe, expect, it } from 'vitest';
import { claimsCommand, evaluateClaims, renderClaimsJson, renderClaimsMarkdown, renderClaimsText, type ClaimId, type ClaimVerdict } from '../../src/claims/index.js';
import type { CaseResult, ResultsFile, ScalingFit } from '../../src/results/types.js';
import { buildCase, buildResults, cuda, h100Environment, writeJson } from '../fixtures/results/builder.js';
import { cliAsync } from '../helpers/cli.js';

chalk.level = 0;

const claim = (r: ResultsFile, id: ClaimId): ClaimVerdict => evaluateClaims(r).find((v) => v.id === id)!;

/** Throughput cases for LLaDA and both AR engines at the same prompts and generation length. */
function throughput(llada: number, ar: number, arOrt: number, over: { llada?: Parameters<typeof buildCase>[0]; ar?: Parameters<typeof buildCase>[0] } = {}): CaseResult[] {
  return [
    buildCase({ engine: 'llada', tokensPerSec: { mean: llada, sd: llada / 100 }, ...over.llada }),
    buildCase({ engine: 'ar', tokensPerSec: { mean: ar, sd: ar / 100 }, seed: 2, conditions: { handicaps: ['KV cache copied device->host->device every token'] }, ...over.ar }),
    buildCase({ engine: 'ar-ort', tokensPerSec: { mean: arOrt, sd: arOrt / 100 }, seed: 3 }),
  ];
}

function fit(engine: ScalingFit['engine'], exponent: number, half = 0.1, metric: ScalingFit['metric'] = 'latencyMs'): ScalingFit {
  const points = [256, 512, 1024, 2048].map((n) => ({ promptTokens: n, value: n ** exponent / 100 }));
  return { engine, metric, exponent, ci95: [exponent - half, exponent + half], r2: 0.999, points };
}

function contextRun(llada: number, ar: number, half = 0.1): ResultsFile {
  const cases = [256, 2048].flatMap((p) => [buildCase({ scenario: 'context', engine: 'llada', params: { promptTokens: p } }), buildCase({ scenario: 'context', engine: 'ar', params: { promptTokens: p } })]);
  return buildResults({ cases, analysis: { context: { scaling: [fit('llada', llada, half), fit('ar', ar, half), fit('llada', llada, half, 'timePerForwardMs')] } } });
}

describe('evaluateClaims', () => {
  it('returns the six claims with the blog words and a verdict each, on an empty run without crashing', () => {
    const v = evaluateClaims(buildResults({ cases: [] }));
    expect(v.map((x) => x.id)).toEqual(['speed-10x', 'h100-1000-tokens-per-sec', 'gpu-efficiency', 'batch-efficiency', 'context-scaling', 'context-window-3000']);
    expect(v.every((x) => x.verdict === 'not-measurable')).toBe(true);
    expect(v.find((x) => x.id === 'speed-10x')!.evidence).toMatch(/no throughput scenario/);
    expect(v.find((x) => x.id === 'batch-efficiency')!.evidence).toMatch(/no batch scenario/);
    expect(v.find((x) => x.id === 'context-scaling')!.evidence).toMatch(/no context scenario/);
    expect(v.find((x) => x.id === 'speed-10x')!.claim).toContain('10x speed boost');
  });

  describe('(a) 10x faster', () => {
    it('refuted on a run where the strongest AR engine is faster; names it and discloses AR handicaps', () => {
      const v = claim(buildResults({ cases: throughput(80, 400, 760) }), 'speed-10x');
      expect(v.verdict).toBe('refuted');
      expect(v.evidence).toMatch(/strongest AR engine, ar-ort, 7[56]\d\.\d tokens\/s/);
      expect(v.evidence).toMatch(/0\.1\dx in tokens\/s, 0\.1\dx in useful tokens\/s/);
      expect(v.evidence).toContain('AR handicaps: ar: KV cache copied device->host->device every token');
      expect(v.conditions.handicaps).toContain('ar: KV cache copied device->host->device every token');
      expect(v.figures.tokensPerSecRatio!).toBeCloseTo(80 / 760, 1);
    });

    it('supported only when >= 10x the strongest baseline in tokens/s and in useful tokens/s', () => {
      expect(claim(buildResults({ cases: throughput(5000, 300, 400) }), 'speed-10x').verdict).toBe('supported');
      // Padding makes the raw figure 12x but only 3x counts: EOS padding is not speed.
      const padded = claim(buildResults({ cases: throughput(5000, 300, 400, { llada: { usefulRatio: 0.25 } }) }), 'speed-10x');
      expect(padded.verdict).toBe('refuted');
      expect(padded.evidence).toMatch(/12\.\dx in tokens\/s, 3\.\d\dx in useful tokens\/s/);
      expect(padded.conditions.tokenCounting).toMatch(/useful tokens\/s counts only tokens before the first EOS/);
    });
  });

  describe('(b) 1000+ tokens/s on H100', () => {
    it('supported on a (fabricated) H100 CUDA run at 1200 tokens/s; refuted at 800', () => {
      const run = (tps: number) =>
        buildResults({
          environment: h100Environment(),
          cases: [buildCase({ engine: 'llada', tokensPerSec: { mean: tps, sd: 10 }, conditions: cuda, model: 'llada-8b', efficiency: { flopsPerForward: 2 * 8e9 * 96 } })],
        });
      const ok = claim(run(1200), 'h100-1000-tokens-per-sec');
      expect(ok.verdict).toBe('supported');
      expect(ok.evidence).toMatch(/LLaDA on NVIDIA H100 80GB HBM3 \(fp16, model llada-8b, ~8\.0 B parameters\): 1\d{3} tokens\/s/);
      expect(ok.conditions).toMatchObject({ device: 'cuda (cuda)', gpuName: 'NVIDIA H100 80GB HBM3', dtype: 'fp16', weights: 'real' });
      expect(claim(run(800), 'h100-1000-tokens-per-sec').verdict).toBe('refuted');
    });

    it('not measurable on a CPU run, saying what the run had', () => {
      const v = claim(buildResults({ cases: throughput(80, 400, 760) }), 'h100-1000-tokens-per-sec');
      expect(v.verdict).toBe('not-measurable');
      expect(v.evidence).toBe('Needs LLaDA on CUDA on an NVIDIA H100; this run had cpu execution provider, no GPU and LLaDA ran on cpu.');
      expect(v.conditions.gpuName).toBeNull();
    });

    it('not measurable on another GPU', () => {
      const env = { ...h100Environment(), gpus: [{ index: 0, name: 'NVIDIA A100-SXM4-80GB', driver: null, memoryTotalBytes: null }] };
      const v = claim(buildResults({ environment: env, cases: [buildCase({ engine: 'llada', tokensPerSec: { mean: 2000, sd: 1 }, conditions: cuda })] }), 'h100-1000-tokens-per-sec');
      expect(v.verdict).toBe('not-measurable');
      expect(v.evidence).toContain('NVIDIA A100-SXM4-80GB');
    });
  });

  describe('(c) 85%+ GPU efficiency vs 60-65%', () => {
    it('not measurable without GPU telemetry, saying why', () => {
      const v = claim(buildResults({ cases: throughput(80, 400, 760) }), 'gpu-efficiency');
      expect(v.verdict).toBe('not-measurable');
      expect(v.evidence).toMatch(/telemetry came from the process sampler .* not nvidia-smi/);
      const off = claim(buildResults({ cases: throughput(80, 400, 760), telemetry: { state: 'unavailable', reason: 'nvidia-smi not found' } }), 'gpu-efficiency');
      expect(off.evidence).toMatch(/telemetry was unavailable \(nvidia-smi not found\)/);
    });

    it('judged from nvidia-smi utilization, with MFU reported', () => {
      const run = (l: number, a: number) =>
        buildResults({
          environment: h100Environment(),
          telemetry: { state: 'available', source: 'nvidia-smi', sampleIntervalMs: 100, samples: 100 },
          cases: [
            buildCase({ engine: 'llada', conditions: cuda, telemetry: { gpuUtilizationPctMean: l }, efficiency: { mfuInRun: 0.21 } }),
            buildCase({ engine: 'ar', conditions: cuda, telemetry: { gpuUtilizationPctMean: a }, efficiency: { mfuInRun: 0.02 } }),
          ],
        });
      const ok = claim(run(91, 62), 'gpu-efficiency');
      expect(ok.verdict).toBe('supported');
      expect(ok.evidence).toMatch(/LLaDA 91% vs ar 62%.*MFU\): LLaDA 21%, ar 2%/);
      expect(ok.evidence).toContain('not how busy the SMs were');
      expect(claim(run(70, 62), 'gpu-efficiency').verdict).toBe('refuted');
      expect(claim(run(95, 90), 'gpu-efficiency').verdict).toBe('refuted');
    });
  });

  describe('(d) 92% batch efficiency', () => {
    const run = (l: number) =>
      buildResults({
        cases: [1, 8].flatMap((b) => [buildCase({ scenario: 'batch', engine: 'llada', params: { batchSize: b } }), buildCase({ scenario: 'batch', engine: 'ar', params: { batchSize: b } })]),
        analysis: {
          batch: {
            batchEfficiency: [
              { engine: 'llada', batchSize: 1, efficiency: 1, ci95: null, tokensPerSec: 1, tokensPerSecB1: 1 },
              { engine: 'llada', batchSize: 4, efficiency: 0.99, ci95: null, tokensPerSec: 1, tokensPerSecB1: 1 },
              { engine: 'llada', batchSize: 8, efficiency: l, ci95: null, tokensPerSec: 1, tokensPerSecB1: 1 },
              { engine: 'ar', batchSize: 1, efficiency: 1, ci95: null, tokensPerSec: 1, tokensPerSecB1: 1 },
              { engine: 'ar', batchSize: 8, efficiency: 0.7, ci95: null, tokensPerSec: 1, tokensPerSecB1: 1 },
            ],
          },
        },
      });
    it('judged at the largest batch size, for LLaDA and AR', () => {
      const ok = claim(run(0.95), 'batch-efficiency');
      expect(ok.verdict).toBe('supported');
      expect(ok.evidence).toMatch(/LLaDA 95% at B=8; ar 70% at B=8/);
      expect(ok.figures).toMatchObject({ batchSize: 8, lladaBatchEfficiency: 0.95, arBatchEfficiency: 0.7 });
      expect(claim(run(0.5), 'batch-efficiency').verdict).toBe('refuted');
    });
    it('not measurable with only batch size 1', () => {
      const r = buildResults({ cases: [buildCase({ scenario: 'batch' })], analysis: { batch: { batchEfficiency: [{ engine: 'llada', batchSize: 1, efficiency: 1, ci95: null, tokensPerSec: 1, tokensPerSecB1: 1 }] } } });
      expect(claim(r, 'batch-efficiency').verdict).toBe('not-measurable');
    });
  });

  describe('(e) linear vs quadratic context scaling', () => {
    it('exponents 1.0 (LLaDA) vs 2.0 (AR): supported', () => {
      const v = claim(contextRun(1.0, 2.0), 'context-scaling');
      expect(v.verdict).toBe('supported');
      expect(v.evidence).toMatch(/latencyMs ~ prompt\^k over prompt lengths 256-2048: llada 1\.00 \(95% CI 0\.90 to 1\.10\); ar 2\.00 \(95% CI 1\.90 to 2\.10\)/);
      expect(v.evidence).toContain('Other fits: timePerForwardMs llada 1.00');
      expect(v.figures).toMatchObject({ lladaExponent: 1, arExponent: 2 });
    });

    it('exponents 1.0 vs 1.0: refuted, with the mechanism explained', () => {
      const v = claim(contextRun(1.0, 1.0), 'context-scaling');
      expect(v.verdict).toBe('refuted');
      expect(v.evidence).toMatch(/the AR exponent is not ~2 \(ar\)/);
      expect(v.evidence).toMatch(/without a KV cache runs a full forward over the whole sequence.*KV cache.*grows linearly with context/);
    });

    it('a quadratic LLaDA refutes it too', () => {
      expect(claim(contextRun(1.9, 2.0), 'context-scaling').evidence).toMatch(/the LLaDA exponent is not ~1/);
    });

    it('intervals too wide (or unbounded, two points) to tell: not measurable', () => {
      expect(claim(contextRun(1.2, 1.6, 1.0), 'context-scaling').verdict).toBe('not-measurable');
      const two = contextRun(1.0, 2.0);
      for (const f of two.scenarios[0]!.analysis.scaling!) f.ci95 = null;
      const v = claim(two, 'context-scaling');
      expect(v.verdict).toBe('not-measurable');
      expect(v.evidence).toContain('unbounded');
    });
  });

  describe('(f) 3,000-token context window', () => {
    it('not measurable when the run stayed below 3000 tokens', () => {
      const v = claim(buildResults({ cases: throughput(80, 400, 760) }), 'context-window-3000');
      expect(v.verdict).toBe('not-measurable');
      expect(v.evidence).toMatch(/largest LLaDA prompt run was 64 tokens \(\+32 generated = 96/);
      expect(v.evidence).toContain("the model's maximum length is not recorded");
    });
    it('refuted when LLaDA ran a longer sequence; the limit from a skipped context is reported', () => {
      const r = buildResults({
        cases: [buildCase({ scenario: 'context', engine: 'llada', params: { promptTokens: 3584 } })],
        warnings: [{ code: 'context-too-long', message: "context 8192 + gen 32 exceeds llada's maximum length 4096: skipped for llada" }],
      });
      const v = claim(r, 'context-window-3000');
      expect(v.verdict).toBe('refuted');
      expect(v.evidence).toMatch(/3584 tokens \(\+32 generated = 3616.*maximum length is 4096/);
      expect(v.figures).toMatchObject({ largestPromptTokens: 3584, modelMaxTokens: 4096 });
    });
    it('supported when the model refused contexts beyond a limit of at most 3000', () => {
      const r = buildResults({
        cases: [buildCase({ scenario: 'context', engine: 'llada', params: { promptTokens: 1024 } })],
        warnings: [{ code: 'context-too-long', message: "context 4096 + gen 32 exceeds llada's maximum length 2048: skipped for llada" }],
      });
      expect(claim(r, 'context-window-3000').verdict).toBe('supported');
    });
  });
});

describe('claims exporters and command', () => {
  const r = buildResults({ cases: throughput(80, 400, 760), runId: 'cpu-run' });
  const v = evaluateClaims(r);

  it('console text and markdown name every claim, its verdict and conditions', () => {
    const text = renderClaimsText(v, r);
    expect(text).toContain('REFUTED  speed-10x');
    expect(text).toContain('NOT MEASURABLE  h100-1000-tokens-per-sec');
    expect(text).toContain('device cpu (cpu); GPU none; dtype fp32; synthetic weights');
    expect(text).toContain("Inception Labs' Mercury");
    const md = renderClaimsMarkdown(v, r);
    expect(md.split('\n').filter((l) => l.startsWith('| "'))).toHaveLength(6);
    expect(md).toContain('**refuted**');
  });

  it('JSON round-trips the verdicts', () => {
    const parsed = JSON.parse(renderClaimsJson(v, r)) as { runId: string; claims: ClaimVerdict[] };
    expect(parsed.runId).toBe('cpu-run');
    expect(parsed.claims.map((c) => c.verdict)).toEqual(v.map((c) => c.verdict));
  });

  it('claimsCommand reads a run folder and prints the --format asked for', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dllm-claims-'));
    writeJson(dir, 'results.json', r);
    const printed = async (format: 'table' | 'md' | 'json') => {
      let out = '';
      expect(await claimsCommand({ results: dir, format }, (s) => void (out += s))).toBe(0);
      return out;
    };
    expect((JSON.parse(await printed('json')) as { claims: unknown[] }).claims).toHaveLength(6);
    expect(await printed('md')).toBe(renderClaimsMarkdown(v, r));
    expect(await printed('table')).toBe(`${renderClaimsText(v, r)}\n`);
    await expect(claimsCommand({ results: join(dir, 'none.json'), format: 'table' }, () => {})).rejects.toMatchObject({ exitCode: 2 });
  });
});

describe('dllm-bench claims (built CLI)', () => {
  it('prints the requested --format on stdout, nothing on stderr; the old --json flag is gone', async () => {
    const r = buildResults({ cases: throughput(80, 400, 760), runId: 'cli-run' });
    const dir = mkdtempSync(join(tmpdir(), 'dllm-claims-cli-'));
    writeJson(dir, 'results.json', r);
    const [md, json, table, old] = await Promise.all([
      cliAsync(['claims', dir, '--format', 'md']).done,
      cliAsync(['claims', dir, '--format', 'json']).done,
      cliAsync(['claims', dir]).done,
      cliAsync(['claims', dir, '--json']).done,
    ]);
    expect([md.code, md.stderr]).toEqual([0, '']);
    expect(md.stdout).toContain("## The blog's claims, checked");
    expect([json.code, json.stderr]).toEqual([0, '']);
    expect((JSON.parse(json.stdout) as { runId: string }).runId).toBe('cli-run');
    expect([table.code, table.stderr]).toEqual([0, '']);
    expect(table.stdout).toContain('REFUTED  speed-10x');
    expect(old.code).toBe(2);
    expect(old.stderr).toMatch(/unknown option '--json'/);
  });
});

describe('scenarios that did not complete', () => {
  it('make a claim not measurable with the scenario state in the reason', () => {
    const r = buildResults({ cases: [buildCase({ engine: 'ar' })] });
    r.scenarios[0]!.state = 'errored';
    r.scenarios[0]!.error = 'llada: CUDA out of memory';
    const v = claim(r, 'speed-10x');
    expect(v.verdict).toBe('not-measurable');
    expect(v.evidence).toBe('The throughput scenario has no completed LLaDA case to compare (the throughput scenario errored: llada: CUDA out of memory).');
  });
});
